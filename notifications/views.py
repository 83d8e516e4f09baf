"""GET /api/notifications/logs/: the notification log, for admins."""
from rest_framework import generics

from accounts.permissions import IsAdminRole
from notifications.filters import NotificationLogFilter
from notifications.models import NotificationLog
from notifications.serializers import NotificationLogSerializer


class NotificationLogListView(generics.ListAPIView):
    permission_classes = [IsAdminRole]
    serializer_class = NotificationLogSerializer
    filterset_class = NotificationLogFilter
    queryset = NotificationLog.objects.select_related("recipient").order_by("-created_at", "-id")
