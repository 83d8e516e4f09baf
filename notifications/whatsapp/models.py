"""What the WhatsApp channel keeps of its own: files people sent, waiting to be fetched from Meta."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.models import ReceivedMessage
from tickets.models import Attachment, Ticket


class MediaState(models.TextChoices):
    WAITING = "WAITING", "Waiting to be fetched"
    STORED = "STORED", "Stored on the ticket"
    FAILED = "FAILED", "Could not be fetched"


class MediaDownload(models.Model):
    """A photo, document, voice note or video someone sent about a ticket: fetched from Graph after
    the webhook has answered, and tried again at `due_at` while Meta may still have it. A row per
    received message, so a redelivered webhook fetches nothing twice; a claim is a conditional
    update with a lease, so two processes never fetch the same row at once."""

    message = models.OneToOneField(ReceivedMessage, on_delete=models.CASCADE,
                                   related_name="media")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    internal = models.BooleanField(default=False, help_text="A reply to an internal note.")
    kind = models.CharField(max_length=16, help_text="image, document, audio or video")
    media_id = models.CharField(max_length=128)
    mime_type = models.CharField(max_length=100, blank=True, help_text="As Meta named it.")
    filename = models.CharField(max_length=255, blank=True)
    caption = models.TextField(blank=True)
    state = models.CharField(max_length=8, choices=MediaState.choices, default=MediaState.WAITING)
    tries = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last try failed.")
    attachment = models.ForeignKey(Attachment, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "file received on WhatsApp"
        verbose_name_plural = "files received on WhatsApp"
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["state", "due_at"], name="media_due")]

    def __str__(self) -> str:
        return f"{self.kind} from {self.user} for ticket #{self.ticket_id}"
