from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from notifications.models import NotificationLog


class NotificationLogSerializer(serializers.ModelSerializer):
    recipient = UserSummarySerializer()

    class Meta:
        model = NotificationLog
        fields = (
            "id", "ticket", "event", "recipient", "channel", "to", "message", "message_type",
            "template_name", "status", "provider_message_id", "error_code", "error_message",
            "http_status", "may_have_been_sent", "retry_of", "created_at", "sent_at",
            "delivery_status", "wa_sent_at", "delivered_at", "read_at", "failed_at",
        )
