"""Pacing WhatsApp sends to Meta's throughput limit, shared by every process on every host.

Meta takes at most WHATSAPP_MAX_MESSAGES_PER_SECOND messages a second from one business number
(80 by default) and answers 130429 above it. With NOTIFICATION_DELIVERY=celery and REDIS_URL, every
send first reserves a moment of its own in Redis (one script, on Redis's own clock, so workers on
hosts whose clocks disagree still share one pace), at most one per WINDOW / limit seconds. After a
130429 the number pauses for PAUSE seconds, for everyone. Inline delivery is not paced: one
request's messages go out together, far below the limit for a team that sends inline.
"""
import logging
import time
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed

logger = logging.getLogger(__name__)

# Seconds every sender of the number waits after Meta answered 130429.
PAUSE = 5.0
# Sends are spaced evenly, one every WINDOW / limit seconds, never in bursts: a burst of the whole
# limit at once reaches Meta spread by the network, and its tail would share a second with the next
# burst's head. The window is longer than a second for the same reason: requests spend unequal
# times on their way (up to 80 ms apart on a loaded bench host, bench/), and the count at Meta's
# end must stay under the limit in every second all the same.
WINDOW = 1.1
_WARN_EVERY = 60.0

# KEYS: the number's next free moment (µs, Redis's clock), its pause flag. ARGV: the spacing (µs),
# the longest the caller can wait (µs; negative: any). Returns {µs to wait, 1} with a slot reserved
# at that moment, {µs of pause left, 0}, or {µs to the next free moment, 0} when that is further
# off than the caller can wait: then nothing is reserved, so no moment goes unused.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {paused * 1000, 0} end
local spacing = tonumber(ARGV[1])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local within = tonumber(ARGV[2])
if within >= 0 and slot - now > within then return {slot - now, 0} end
redis.call('SET', KEYS[1], string.format('%.0f', slot + spacing), 'PX',
           math.ceil((slot + spacing - now) / 1000) + 1000)
return {slot - now, 1}
"""


class Pacer:
    """The shared pace of one business number."""

    def __init__(self, redis, number: str, limit: int) -> None:
        self._redis, self._spacing = redis, int(WINDOW / limit * 1_000_000)
        self._keys = (f"incident:pace:{number}", f"incident:pause:{number}")
        self._script = redis.register_script(_RESERVE)
        self._warned = 0.0

    def reserve(self, within: float | None = None) -> tuple[float, bool]:
        """(seconds, True): a slot is ours that many seconds from now. (seconds, False): the
        number is paused that long, or (given `within`) its next free moment is further off than
        `within` seconds and nothing was reserved; ask again then. When Redis does not answer,
        sending goes on unpaced (a log line says so): a missed pace costs a 130429 and a retry, a
        stopped sender every message."""
        limit = -1 if within is None else int(max(within, 0) * 1_000_000)
        try:
            micros, reserved = self._script(keys=self._keys, args=[self._spacing, limit])
        except Exception as exc:  # redis.RedisError and socket errors alike
            self._warn(exc)
            return 0.0, True
        return int(micros) / 1_000_000, bool(reserved)

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
    """Inline delivery, or no Redis: every send may go at once."""

    def reserve(self, within: float | None = None) -> tuple[float, bool]:
        return 0.0, True

    def pause(self, seconds: float = PAUSE) -> None:
        pass


def pacer() -> Pacer | Unpaced:
    """The pace this process keeps (the seam tests replace)."""
    return _pacer()


@lru_cache(maxsize=1)
def _pacer() -> Pacer | Unpaced:
    if settings.NOTIFICATION_DELIVERY != "celery" or not settings.REDIS_URL:
        return Unpaced()
    import redis  # only where Redis is configured

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    return Pacer(client, settings.WHATSAPP_PHONE_NUMBER_ID or "console",
                 settings.WHATSAPP_MAX_MESSAGES_PER_SECOND)


def _forget(*, setting: str, **kwargs) -> None:
    if setting in ("REDIS_URL", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_MAX_MESSAGES_PER_SECOND",
                   "NOTIFICATION_DELIVERY"):
        _pacer.cache_clear()


setting_changed.connect(_forget, dispatch_uid="notifications.forget_pacer")
