"""GET /healthz: each dependency the service is configured with, and the notification queue's
figures for monitoring (docs/scaling-out.md, "Scaling out"). 200 while every one answers; 503 (for load
balancers) when one does not, naming it: the database always, the cache when REDIS_URL is set,
the Celery broker with NOTIFICATION_DELIVERY=celery. Each check waits at most REDIS_TIMEOUT (the
database its own connect timeout), so the probe itself never hangs."""
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)
OK, DOWN = "ok", "unreachable"
# Figures apps add to the answer (notifications: its queue), each read while the database answers.
FIGURES: dict[str, Callable[[], dict]] = {}


def add_figures(name: str, read: Callable[[], dict]) -> None:
    FIGURES[name] = read


@require_GET
def healthz(request) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        figures = {name: read() for name, read in FIGURES.items()}
    except DatabaseError as exc:
        # The reason goes to the log only: a health endpoint is public.
        logger.error("Health check: database unreachable (%s)", type(exc).__name__)
        return JsonResponse({"status": "unavailable", "database": DOWN, **_services()}, status=503)
    services = _services()
    healthy = all(state == OK for state in services.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", "database": OK, **services,
                         **figures}, status=200 if healthy else 503)


def _services() -> dict[str, str]:
    """The state of each service besides the database that this configuration uses."""
    states = {}
    if settings.REDIS_URL:
        states["cache"] = _answers("cache", lambda: caches["default"].get("healthz"))
    if settings.NOTIFICATION_DELIVERY == "celery":
        states["broker"] = _answers("broker", _ping_broker)
    return states


def _answers(name: str, probe) -> str:
    try:
        probe()
    except Exception as exc:  # whatever the client raises: refused, timed out, a bad URL
        logger.error("Health check: %s unreachable (%s)", name, type(exc).__name__)
        return DOWN
    return OK


def _ping_broker() -> None:
    url, timeout = settings.CELERY_BROKER_URL, settings.REDIS_TIMEOUT
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=timeout) as broker:
        broker.ensure_connection(max_retries=1, timeout=timeout)
