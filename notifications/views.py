"""The notification log for admins."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from accounts.permissions import IsAdminRole
from Incident.schema import errors
from notifications.filters import NotificationLogFilter
from notifications.models import NotificationLog
from notifications.serializers import NotificationLogSerializer


@extend_schema(responses={200: NotificationLogSerializer(many=True), **errors(400, 401, 403, 404)})
class NotificationLogListView(generics.ListAPIView):
    """GET /api/notifications/logs/ (admins only)."""

    permission_classes = [IsAdminRole]
    serializer_class = NotificationLogSerializer
    filterset_class = NotificationLogFilter
    queryset = (NotificationLog.objects.select_related("recipient").prefetch_related("attempts")
                .order_by("-created_at", "-id"))
