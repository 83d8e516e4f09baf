"""NotificationLog: one row per recipient, channel and attempt, so admins can see every message
that went out, failed, or was skipped, and why."""
from django.conf import settings
from django.db import models

from tickets.models import Ticket, TicketEventType


class Channel(models.TextChoices):
    WHATSAPP = "WHATSAPP", "WhatsApp"
    EMAIL = "EMAIL", "Email"


class NotificationStatus(models.TextChoices):
    SENT = "SENT", "Sent"  # accepted by Meta: not yet proof of delivery
    FAILED = "FAILED", "Failed"
    SKIPPED = "SKIPPED", "Skipped"


class MessageType(models.TextChoices):
    TEXT = "text", "Free text"
    TEMPLATE = "template", "Template"
    EMAIL = "email", "Email"


class DeliveryStatus(models.TextChoices):
    """What WhatsApp's status webhooks later said about a SENT message."""

    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class NotificationLog(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notification_logs")
    event = models.CharField(max_length=32, choices=TicketEventType.choices)
    ticket_event = models.ForeignKey(
        "tickets.TicketEvent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_logs",
        help_text="The history row that caused this notification.",
    )
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
        help_text="The attempt this one repeats (an automatic retry or a resend).",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_logs"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WHATSAPP)
    to = models.CharField("number", max_length=32, blank=True, help_text="The number used.")
    message = models.TextField(help_text="The text sent (or that would have been sent).")
    message_type = models.CharField(
        max_length=16, choices=MessageType.choices, default=MessageType.TEXT
    )
    template_name = models.CharField(max_length=128, blank=True)
    template_language = models.CharField(max_length=16, blank=True)
    template_params = models.JSONField(
        default=list, blank=True, help_text="Body parameters, in order, kept for resends."
    )
    callback_id = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Sent as biz_opaque_callback_data; status webhooks echo it back.",
    )
    status = models.CharField(max_length=16, choices=NotificationStatus.choices)
    provider_message_id = models.CharField(
        "message id", max_length=128, blank=True, db_index=True, help_text="WhatsApp's wamid."
    )
    error_code = models.CharField(max_length=32, blank=True, help_text="Graph's error.code.")
    error_message = models.TextField(blank=True, help_text="What happened and what to do.")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    may_have_been_sent = models.BooleanField(
        default=False,
        help_text="A timeout or broken connection: the message may have gone out. Bulk resends "
        "leave these alone.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Filled by status webhooks; a status never moves backwards (see notifications.webhooks).
    delivery_status = models.CharField(max_length=16, choices=DeliveryStatus.choices, blank=True)
    wa_sent_at = models.DateTimeField("WhatsApp sent at", null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("status", "created_at"))]
        constraints = [
            # One first attempt per (ticket event, recipient, channel): whatever runs twice, a
            # person is never told twice. Retries and resends point at what they repeat.
            models.UniqueConstraint(
                fields=("ticket_event", "recipient", "channel"),
                condition=models.Q(retry_of__isnull=True, ticket_event__isnull=False),
                name="one_first_attempt_per_event_recipient_channel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_event_display()} → {self.recipient_id}: {self.status}"


class NotificationInsights(NotificationLog):
    """No table of its own: it puts "Notification insights" on the admin index."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "Notification insights"
