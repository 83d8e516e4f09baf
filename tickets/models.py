"""Tickets and their history. Status only ever changes through tickets.services."""
import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone


class TicketStatus(models.TextChoices):
    NEW = "NEW", "New"
    OPENED = "OPENED", "Opened"
    ASSIGNED = "ASSIGNED", "Assigned"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    FINISHED = "FINISHED", "Finished"
    CLOSED = "CLOSED", "Closed"
    REJECTED = "REJECTED", "Rejected"


class Priority(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


# "HIGH tickets": a page of one goes through quiet hours, and filing one may start a chain.
HIGH_PRIORITIES = (Priority.HIGH, Priority.CRITICAL)
# Lowest first: `?ordering=priority` sorts by severity, not alphabetically.
PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.CRITICAL: 4}


class Category(models.TextChoices):
    BUG = "BUG", "Bug"
    FEATURE = "FEATURE", "Feature"
    SUPPORT = "SUPPORT", "Support"
    OTHER = "OTHER", "Other"


class Satisfaction(models.IntegerChoices):
    """How the client rated the fix, once the ticket was closed (customer satisfaction, CSAT)."""

    UNHAPPY = 1, "😞"
    NEUTRAL = 2, "😐"
    HAPPY = 3, "😀"


class TicketEventType(models.TextChoices):
    """What happened to a ticket; the lifecycle events are also the notification events."""

    TICKET_CREATED = "TICKET_CREATED", "Ticket created"
    TICKET_OPENED = "TICKET_OPENED", "Ticket opened"
    DEVELOPER_ASSIGNED = "DEVELOPER_ASSIGNED", "Developer assigned"
    WORK_STARTED = "WORK_STARTED", "Work started"
    WORK_FINISHED = "WORK_FINISHED", "Work finished"
    TICKET_CLOSED = "TICKET_CLOSED", "Ticket closed"
    TICKET_REJECTED = "TICKET_REJECTED", "Ticket rejected"
    TICKET_UPDATED = "TICKET_UPDATED", "Ticket details edited"
    TICKET_REOPENED = "TICKET_REOPENED", "Ticket reopened"
    COMMENT_ADDED = "COMMENT_ADDED", "Comment added"
    TICKET_RATED = "TICKET_RATED", "Fix rated by the client"
    # Staff only (internal): a service-level clock started, paused, met or breached.
    SLA_CHANGED = "SLA_CHANGED", "Service level clock changed"
    # Staff only: escalation (tickets.escalation). A page goes to the people its step names.
    TICKET_PAGED = "TICKET_PAGED", "Staff paged"
    TICKET_ACKNOWLEDGED = "TICKET_ACKNOWLEDGED", "Page acknowledged"
    ESCALATION_CHANGED = "ESCALATION_CHANGED", "Escalation started, snoozed or ended"


class Source(models.TextChoices):
    """Where a change came from."""

    API = "API", "API"
    ADMIN = "ADMIN", "Django admin"
    WHATSAPP = "WHATSAPP", "WhatsApp"


class Ticket(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField()
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    project_name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW, db_index=True
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets_created",
        help_text="Who filed the ticket.",
    )
    assigned_developer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets_assigned",
    )
    resolution = models.TextField(blank=True)
    rejection_reason = models.TextField(blank=True)
    # Kept by tickets.attachments under the ticket's lock, so a list shows counts without a join;
    # two, because a client's count must not reveal the files of internal notes.
    attachment_count = models.PositiveIntegerField(default=0)
    internal_attachment_count = models.PositiveIntegerField(default=0)
    # The client's rating of the fix once closed (tickets.services.ticket_rate).
    satisfaction = models.PositiveSmallIntegerField(choices=Satisfaction.choices, null=True,
                                                    blank=True)
    satisfaction_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        # The insights page reads only the rated tickets, a few among many.
        indexes = [models.Index(fields=["rated_at"], name="ticket_rated",
                                condition=models.Q(rated_at__isnull=False))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class TicketEvent(models.Model):
    """One row for the creation and one for every later change: the ticket's history."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=32, choices=TicketEventType.choices)
    from_status = models.CharField(max_length=16, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=TicketStatus.choices)
    # Nobody only for what time itself did: a service-level clock breached (tickets.sla.clocks).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_events",
        null=True, blank=True,
    )
    note = models.TextField(blank=True, help_text="For a comment, its text.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    # An internal note: staff only. Clients never see it, in the API or in a notification.
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.get_event_display()} on ticket #{self.ticket_id}"


def attachment_storage():
    """STORAGES["attachments"]: a private folder by default, or an S3-compatible bucket
    (settings ATTACHMENT_STORAGE). Never served by URL: downloads go through the API's checks."""
    return storages["attachments"]


def attachment_key(attachment: "Attachment", filename: str) -> str:
    # The name a person gave is kept in `name`, never in the storage key: no path tricks, no
    # clashes, nothing personal in a bucket listing.
    return f"attachments/{attachment.ticket_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a ticket, uploaded through the API or sent on WhatsApp, optionally with the
    comment it belongs to. A file of an internal note is internal: staff only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="attachments")
    file = models.FileField(storage=attachment_storage, upload_to=attachment_key, max_length=255)
    name = models.CharField(max_length=255, help_text="The file's name as it was sent.")
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    content_type = models.CharField(max_length=100, help_text="Read from the file's content.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.name} on ticket #{self.ticket_id}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user sent with `POST /api/tickets/`, and the ticket it filed.

    A client that retries (a double click, a timeout) sends the same key again and gets the same
    ticket back instead of a second one. The unique constraint is what makes that hold when the
    retries arrive at the same moment.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the request's fields: the same key with another body is a client bug, not a retry.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_ticket_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → ticket {self.ticket_id}"


class TicketCountKey(models.Model):
    status = models.CharField(max_length=16)
    priority = models.CharField(max_length=16)
    category = models.CharField(max_length=16)
    n = models.IntegerField()

    class Meta:
        abstract = True


class TicketCount(TicketCountKey):
    """How many tickets share a status, priority and category, kept by database triggers
    (tickets/counts.py): an admin's list counts these few rows, not every ticket."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=("status", "priority", "category"),
                                               name="one_ticket_count_per_key")]


class TicketCountChange(TicketCountKey):
    """A change to a TicketCount (+n, -n), appended by the triggers and folded every minute."""
