from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from notifications.models import DeliveryAttempt, NotificationLog


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("number", "status", "started_at", "finished_at", "provider_message_id",
                  "http_status", "error_code", "error_subcode", "error_message", "fbtrace_id",
                  "may_have_gone_out")


class NotificationLogSerializer(serializers.ModelSerializer):
    recipient = UserSummarySerializer(
        allow_null=True, help_text="null for the answer to a number no user has (see `to`).")
    attempts = DeliveryAttemptSerializer(many=True, help_text="Every try, oldest first.")
    retry_of = serializers.SerializerMethodField(
        help_text="Always null: retries and resends are now `attempts` of the same notification.")

    class Meta:
        model = NotificationLog
        fields = (
            "id", "ticket", "event", "recipient", "channel", "to", "message", "message_type",
            "template_name", "status", "provider_message_id", "error_code", "error_message",
            "http_status", "may_have_been_sent", "retry_of", "created_at", "sent_at",
            "delivery_status", "wa_sent_at", "delivered_at", "read_at", "failed_at",
            "attempt_count", "next_attempt_at", "held_until", "digest_at", "digest", "attempts",
        )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_retry_of(self, obj) -> None:
        return None
