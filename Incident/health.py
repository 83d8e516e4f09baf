"""GET /healthz: 200 while the database answers, 503 when it does not (for load balancers), with
the notification queue's figures for monitoring (README "Scaling out")."""
import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        from notifications.insights import queue  # an app's model: imported once apps are ready

        waiting = queue(timezone.now())
    except DatabaseError as exc:
        # The reason goes to the log only: a health endpoint is public.
        logger.error("Health check: database unreachable (%s)", type(exc).__name__)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "notifications": waiting.as_dict()})
