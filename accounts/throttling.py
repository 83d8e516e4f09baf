"""The login throttle: failed attempts per client address, on the token endpoints only.

Only failures count (a 400 or 401 answer): guessing passwords or replaying revoked tokens is what
it stops, and a team whose scripts log in often should not lock itself out. Once an address has
used up AUTH_THROTTLE_RATE in failures, every request from it waits, right password or not.
The address is the socket's, or X-Forwarded-For read TRUSTED_PROXY_COUNT hops from the right.

The failures are a list of times in Django's cache (DRF's sliding window). With REDIS_URL every
process on every host reads and writes the same list; each write happens under a short lock in
the same cache, so failures arriving at once at two processes both count. While that cache does
not answer (Redis down, unreachable, or silent past REDIS_TIMEOUT), each process counts in its own
memory instead and says so once in the log: a throttle must never be what stops people logging in.
"""
import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

FAILED = (400, 401)
# How long a writer may hold the list, and how long another waits for it before counting anyway.
LOCK_SECONDS, LOCK_WAIT = 2, 0.5


# Seconds a process counts on its own after the shared cache failed, before trying it again: one
# slow answer per process and period, not one per request.
RETRY_SHARED_AFTER = 30.0


class SharedOrLocal:
    """The cache calls the throttle makes (get, set, add, delete), sent to the shared cache, or to
    this process's memory while the shared one is failing."""

    def __init__(self) -> None:
        self.local = LocMemCache("login-throttle", {})
        self._failing_until = 0.0  # monotonic; 0: the shared cache answers
        self._lock = threading.Lock()

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout) -> None:
        self._call("set", key, value, timeout)

    def add(self, key, value, timeout) -> bool:
        return self._call("add", key, value, timeout)

    def delete(self, key) -> None:
        self._call("delete", key)

    def _call(self, name: str, *args):
        if time.monotonic() >= self._failing_until:
            try:
                result = getattr(caches["default"], name)(*args)
            except Exception as exc:  # redis.RedisError, socket errors, a malformed REDIS_URL
                self._failed(exc)
            else:
                self._answered()
                return result
        return getattr(self.local, name)(*args)

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._failing_until == 0.0
            self._failing_until = time.monotonic() + RETRY_SHARED_AFTER
        if first:
            logger.warning(
                "Login throttle: the shared cache (REDIS_URL) did not answer (%s); failed logins are "
                "counted per process until it does. Logins go on.", type(exc).__name__)

    def _answered(self) -> None:
        if self._failing_until:
            with self._lock:
                self._failing_until = 0.0
            logger.info("Login throttle: the shared cache answers again; counting there.")

    def reset(self) -> None:
        """Forget the local counts and the failure (tests, and a settings change)."""
        self.local.clear()
        self._failing_until = 0.0


counts = SharedOrLocal()


class FailedAttemptThrottle(ScopedRateThrottle):
    cache = counts

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
