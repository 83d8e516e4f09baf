"""The login throttle: failed attempts per client address, on the token endpoints only.

Only failures count (a 400 or 401 answer): guessing passwords or replaying revoked tokens is what
it stops, and a team whose scripts log in often should not lock itself out. Once an address has
used up AUTH_THROTTLE_RATE in failures, every request from it waits, right password or not.
The address is the socket's, or X-Forwarded-For read TRUSTED_PROXY_COUNT hops from the right.

The failures are a list of times in Django's cache (DRF's sliding window). With REDIS_URL every
process on every host reads and writes the same list; each write happens under a short lock in
the same cache, so failures arriving at once at two processes both count.
"""
import time

from rest_framework.throttling import ScopedRateThrottle

FAILED = (400, 401)
# How long a writer may hold the list, and how long another waits for it before counting anyway.
LOCK_SECONDS, LOCK_WAIT = 2, 0.5


class FailedAttemptThrottle(ScopedRateThrottle):
    def throttle_success(self) -> bool:
        # Checked before the view runs, counted after it answers (record_failure).
        return True

    def record_failure(self, request, view) -> None:
        self.scope = view.throttle_scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return
        locked = self._lock(key)
        try:
            now = self.timer()
            history = [t for t in self.cache.get(key, []) if t > now - self.duration]
            self.cache.set(key, [now, *history], self.duration)
        finally:
            if locked:
                self.cache.delete(f"{key}:lock")

    def _lock(self, key: str) -> bool:
        """cache.add is atomic (SET NX in Redis): one writer at a time per address."""
        give_up = time.monotonic() + LOCK_WAIT
        while not self.cache.add(f"{key}:lock", 1, LOCK_SECONDS):
            if time.monotonic() >= give_up:
                return False  # a crashed writer's lock: count without it rather than lose it
            time.sleep(0.005)
        return True


class Throttled:
    """Mixed into the token, refresh and logout views."""

    throttle_classes = [FailedAttemptThrottle]
    throttle_scope = "auth"

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code in FAILED:
            FailedAttemptThrottle().record_failure(request, self)
        return super().finalize_response(request, response, *args, **kwargs)
