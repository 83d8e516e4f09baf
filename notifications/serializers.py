from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from notifications.models import NotificationLog


class NotificationLogSerializer(serializers.ModelSerializer):
    recipient = UserSummarySerializer()

    class Meta:
        model = NotificationLog
        fields = (
            "id", "ticket", "event", "recipient", "channel", "to", "message", "status",
            "provider_message_id", "error_code", "error_message", "http_status", "created_at",
            "sent_at",
        )
