"""Pacing WhatsApp sends to Meta's throughput limit, shared by every process on every host.

Meta takes at most WHATSAPP_MAX_MESSAGES_PER_SECOND messages a second from one business number
(80 by default) and answers 130429 above it. The count lives in Redis (REDIS_URL) as a sliding
window of the sends of the last second, read and written by one script on Redis's own clock, so
workers on hosts whose clocks disagree still share one window. After a 130429 the number pauses
for PAUSE seconds, for everyone. Without REDIS_URL there is nothing to share: one process sending
inline is far below the limit, and nothing is paced.
"""
import logging
import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed

logger = logging.getLogger("notifications.services")

# Seconds every sender of the number waits after Meta answered 130429.
PAUSE = 5.0
# The window is a little longer than a second: a slot is taken just before the request leaves,
# and a request that takes a few milliseconds longer to reach Meta than the next one must still
# fall inside the window it was counted in.
WINDOW = 1.02
_WARN_EVERY = 60.0

# KEYS: the window (sorted set of send times), the pause flag. ARGV: limit, window (µs), an id.
# Returns 0 when a slot was taken, otherwise the microseconds until one may be free.
_TAKE_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused * 1000 end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""


class Pacer:
    """The shared pace of one business number."""

    def __init__(self, redis, number: str, limit: int) -> None:
        self._redis, self._limit = redis, limit
        self._keys = (f"incident:pace:{number}", f"incident:pause:{number}")
        self._script = redis.register_script(_TAKE_SLOT)
        self._warned = 0.0

    def wait(self) -> float:
        """Take a slot now and return 0, or return the seconds until one may be free. When Redis
        does not answer, sending goes on unpaced (a log line says so): a missed pace is a 130429
        and a retry, a stopped sender is every message late."""
        try:
            micros = self._script(keys=self._keys,
                                  args=[self._limit, int(WINDOW * 1_000_000), uuid.uuid4().hex])
        except Exception as exc:  # redis.RedisError and socket errors alike
            self._warn(exc)
            return 0.0
        return int(micros) / 1_000_000

    def pause(self, seconds: float = PAUSE) -> None:
        try:
            self._redis.set(self._keys[1], "130429", px=int(seconds * 1000))
        except Exception as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY or not self._warned:
            self._warned = now
            logger.warning("Redis did not answer the send pacer (%s); sending unpaced meanwhile.",
                           type(exc).__name__)


class Unpaced:
    """No shared state configured: every send may go at once."""

    def wait(self) -> float:
        return 0.0

    def pause(self, seconds: float = PAUSE) -> None:
        pass


@lru_cache(maxsize=1)
def pacer() -> Pacer | Unpaced:
    if not settings.REDIS_URL:
        return Unpaced()
    import redis  # only where Redis is configured

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    return Pacer(client, settings.WHATSAPP_PHONE_NUMBER_ID or "console",
                 settings.WHATSAPP_MAX_MESSAGES_PER_SECOND)


def _forget(*, setting: str, **kwargs) -> None:
    if setting in ("REDIS_URL", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_MAX_MESSAGES_PER_SECOND"):
        pacer.cache_clear()


setting_changed.connect(_forget, dispatch_uid="notifications.forget_pacer")
