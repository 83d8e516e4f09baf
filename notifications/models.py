"""NotificationLog: one row per recipient, channel and attempt, so admins can see every message
that went out, failed, or was skipped, and why."""
from django.conf import settings
from django.db import models

from tickets.models import Ticket, TicketEventType


class Channel(models.TextChoices):
    WHATSAPP = "WHATSAPP", "WhatsApp"


class NotificationStatus(models.TextChoices):
    SENT = "SENT", "Sent"  # accepted by Meta: not yet proof of delivery
    FAILED = "FAILED", "Failed"
    SKIPPED = "SKIPPED", "Skipped"


class NotificationLog(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notification_logs")
    event = models.CharField(max_length=32, choices=TicketEventType.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_logs"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WHATSAPP)
    to = models.CharField("number", max_length=32, blank=True, help_text="The number used.")
    message = models.TextField(help_text="The text sent (or that would have been sent).")
    status = models.CharField(max_length=16, choices=NotificationStatus.choices)
    provider_message_id = models.CharField(
        "message id", max_length=128, blank=True, db_index=True, help_text="WhatsApp's wamid."
    )
    error_code = models.CharField(max_length=32, blank=True, help_text="Graph's error.code.")
    error_message = models.TextField(blank=True, help_text="What happened and what to do.")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("status", "created_at"))]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_event_display()} → {self.recipient_id}: {self.status}"
