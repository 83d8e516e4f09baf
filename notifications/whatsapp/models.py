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


class Step(models.TextChoices):
    """Where a ticket being filed by chat stands: the question waiting for an answer, or how the
    conversation ended."""

    PROJECT = "PROJECT", "Asked for the project"
    TITLE = "TITLE", "Asked for the title"
    DESCRIPTION = "DESCRIPTION", "Asked for the description"
    PRIORITY = "PRIORITY", "Asked for the priority"
    CATEGORY = "CATEGORY", "Asked for the category"
    CONFIRM = "CONFIRM", "Shown the summary"
    FILED = "FILED", "Filed"
    CANCELLED = "CANCELLED", "Cancelled"
    EXPIRED = "EXPIRED", "Expired"


OPEN_STEPS = (Step.PROJECT, Step.TITLE, Step.DESCRIPTION, Step.PRIORITY, Step.CATEGORY,
              Step.CONFIRM)


class Conversation(models.Model):
    """A ticket being filed on WhatsApp, one question at a time (notifications.whatsapp.filing).
    A row, so a restart loses nothing; at most one open per person; one left idle until
    `expires_at` is ended by the recovery pass, which tells its person so."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    step = models.CharField(max_length=12, choices=Step.choices, default=Step.PROJECT)
    project_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=16, blank=True)
    category = models.CharField(max_length=16, blank=True)
    projects = models.JSONField(default=list, blank=True,
                                help_text="The projects offered to choose from, in order.")
    files = models.JSONField(default=list, blank=True,
                             help_text="Files sent while filing: fetched once the ticket is filed.")
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "ticket being filed on WhatsApp"
        verbose_name_plural = "tickets being filed on WhatsApp"
        ordering = ("-started_at", "-id")
        constraints = [models.UniqueConstraint(
            fields=["user"], condition=models.Q(step__in=OPEN_STEPS), name="one_open_conversation")]
        indexes = [models.Index(fields=["step", "expires_at"], name="conversation_due")]

    def __str__(self) -> str:
        return f"{self.user} filing a ticket ({self.get_step_display().lower()})"


class UnknownNumber(models.Model):
    """A number no active user has that wrote to the business number: kept only so that it is told
    how to be registered at most once a day (notifications.whatsapp.strangers). What it wrote is
    not kept."""

    number = models.CharField(max_length=32, unique=True, help_text="Its WhatsApp ID, digits.")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    messages = models.PositiveIntegerField(default=0, help_text="How many it has sent.")
    told_at = models.DateTimeField(null=True, blank=True, help_text="When it was last told.")

    class Meta:
        verbose_name = "unknown number that wrote"
        verbose_name_plural = "unknown numbers that wrote"
        ordering = ("-last_seen_at",)

    def __str__(self) -> str:
        return f"+{self.number}"
