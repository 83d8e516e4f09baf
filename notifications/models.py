"""The notification ledger: one NotificationLog row per (ticket event, recipient, channel), written
in the ticket's own transaction before anything is sent, and one DeliveryAttempt per try.

A row only ever moves forward through conditional updates (notifications.delivery), so a process
may die at any line and the row still says what is known: QUEUED (not sent yet), SENDING (claimed
by a sender), then SENT, FAILED, SKIPPED or UNKNOWN.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.messages import INTERNAL_NOTE
from tickets.models import Ticket, TicketEventType

# Graph's message ids are usually 50-100 characters; room to spare, and anything longer is cut
# (and said so) rather than refused by the database.
WAMID_LENGTH = 255


class Channel(models.TextChoices):
    WHATSAPP = "WHATSAPP", "WhatsApp"
    EMAIL = "EMAIL", "Email"


class NotificationStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"  # written with the ticket change; not sent yet
    SENDING = "SENDING", "Sending"  # claimed by one sender; its answer is not in yet
    SENT = "SENT", "Sent"  # accepted by Meta: not yet proof of delivery
    FAILED = "FAILED", "Failed"
    SKIPPED = "SKIPPED", "Skipped"
    # The request may have reached Meta and no answer says whether it did (a timeout, a dropped
    # connection, a sender that died mid-send). Never resent blindly; a status webhook settles it.
    UNKNOWN = "UNKNOWN", "Unknown"


class MessageType(models.TextChoices):
    TEXT = "text", "Free text"
    TEMPLATE = "template", "Template"
    EMAIL = "email", "Email"
    INTERACTIVE = "interactive", "Free text with reply buttons"


# Messages that reach a person only inside the 24-hour window.
FREE_TEXT = (MessageType.TEXT, MessageType.INTERACTIVE)

# A message that answers what a person wrote to the business number (notifications.whatsapp.inbound): it
# belongs to no ticket event, and to a ticket only when the message was about one.
REPLY = "REPLY"
# One WhatsApp message listing the notifications a storm left waiting for one person
# (notifications.digests): each of them records it as `digest`.
DIGEST = "DIGEST"
EVENTS = [*TicketEventType.choices, (INTERNAL_NOTE, "Internal note (staff only)"),
          (REPLY, "Reply on WhatsApp"), (DIGEST, "Digest on WhatsApp")]


class DeliveryStatus(models.TextChoices):
    """What WhatsApp's status webhooks later said about a SENT message."""

    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


# Meta's reports that a message got there.
ARRIVED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


class NotificationLog(models.Model):
    """One notification: the intent, its current state, and what Meta's webhooks said of it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notification_logs",
                               null=True, blank=True)
    event = models.CharField(max_length=32, choices=EVENTS)
    ticket_event = models.ForeignKey(
        "tickets.TicketEvent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_logs",
        help_text="The history row that caused this notification.",
    )
    # Nobody only for the one answer to a number no user has (notifications.whatsapp.strangers).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_logs",
        null=True, blank=True,
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WHATSAPP)
    # An email address may be 254 characters long; a number in E.164 at most 16.
    to = models.CharField("number", max_length=254, blank=True,
                          help_text="The number (or email address) used.")
    message = models.TextField(help_text="The text sent (or that would have been sent).")
    message_type = models.CharField(
        max_length=16, choices=MessageType.choices, default=MessageType.TEXT
    )
    template_name = models.CharField(max_length=128, blank=True)
    template_language = models.CharField(max_length=16, blank=True)
    template_params = models.JSONField(
        default=list, blank=True, help_text="Body parameters, in order, kept for resends."
    )
    buttons = models.JSONField(
        default=list, blank=True,
        help_text="Reply buttons, [payload, title] each: the actions the reader may take next.")
    callback_id = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Sent as biz_opaque_callback_data with every attempt; status webhooks echo it back.",
    )
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED
    )
    provider_message_id = models.CharField(
        "message id", max_length=WAMID_LENGTH, blank=True, db_index=True,
        help_text="WhatsApp's wamid.",
    )
    error_code = models.CharField(max_length=32, blank=True, help_text="Graph's error.code.")
    error_message = models.TextField(blank=True, help_text="What happened and what to do.")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    may_have_been_sent = models.BooleanField(
        default=False,
        help_text="A timeout or broken connection: the message may have gone out. Bulk resends "
        "leave these alone.",
    )
    attempt_count = models.PositiveSmallIntegerField("attempts", default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a QUEUED notification is due to be sent."
    )
    held_until = models.DateTimeField(
        null=True, blank=True,
        help_text="Held for the recipient's quiet hours: it goes out when they end.")
    # A storm's notification waits (never claimed on its own: no next_attempt_at) to go out in
    # one digest with the others waiting for the same person, at `digest_at`.
    digest_at = models.DateTimeField(
        null=True, blank=True, help_text="Waits to go out in a digest at this time.")
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="covered",
        help_text="The digest message it went out in: its status and wamid are this row's.")
    # The claim of the sender working on it: who (a token of its own) and since when (the lease
    # deliver_pending_notifications measures).
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Filled by status webhooks; a status never moves backwards (see notifications.whatsapp.webhook).
    # From Meta's answer: the recipient's WhatsApp ID, and a hold such as
    # held_for_quality_assessment (template pacing); neither means delivered.
    wa_id = models.CharField("WhatsApp ID", max_length=32, blank=True)
    message_status = models.CharField(max_length=40, blank=True)
    # From the status webhooks: what Meta charges for it (pricing.type, category, model).
    pricing_type = models.CharField(max_length=40, blank=True,
                                    help_text="regular (charged) or a free kind.")
    pricing_category = models.CharField(max_length=40, blank=True)
    pricing_model = models.CharField(max_length=16, blank=True)
    billable = models.BooleanField(null=True)
    delivery_status = models.CharField(max_length=16, choices=DeliveryStatus.choices, blank=True)
    wa_sent_at = models.DateTimeField("WhatsApp sent at", null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("status", "created_at")),
            models.Index(fields=("status", "next_attempt_at")),  # what the recovery pass reads
            # The insights page's "last seen" of each failure code: one probe per code.
            models.Index(fields=("status", "error_code", "created_at"),
                         name="notification_status_code_at"),
            # What keeps one person's messages in order (notifications.delivery._claim): only the
            # few rows not settled yet.
            models.Index(fields=("to", "channel"), name="notification_unsettled_to",
                         condition=models.Q(status__in=("QUEUED", "SENDING"))),
            # Pages per week on the insights page, and the pages the timer pass emails: the few
            # page rows, not the whole log.
            models.Index(fields=("created_at",), name="notification_pages",
                         condition=models.Q(event="TICKET_PAGED")),
        ]
        constraints = [
            # One notification per (ticket event, recipient, channel): whatever runs twice, a
            # person is never told twice. Retries and resends are attempts of the same row.
            models.UniqueConstraint(
                fields=("ticket_event", "recipient", "channel"),
                condition=models.Q(ticket_event__isnull=False),
                name="one_notification_per_event_recipient_channel",
            )
        ]

    def __str__(self) -> str:
        # The admin's page titles and breadcrumbs: a person's name, not their id.
        return (f"{self.get_channel_display()} {self.get_event_display()} → "
                f"{self.addressee}: {self.status}")

    @property
    def addressee(self) -> str:
        """Who it is for, as people read it: the user's name, or the number no user has."""
        return self.recipient.get_username() if self.recipient_id else self.to


class DeliveryAttempt(models.Model):
    """One try at sending a notification: written when it starts, finished when its answer (or
    the lack of one) is known."""

    notification = models.ForeignKey(
        NotificationLog, on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.SENDING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField("message id", max_length=WAMID_LENGTH, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    may_have_gone_out = models.BooleanField(default=False)
    fbtrace_id = models.CharField("fbtrace_id", max_length=64, blank=True,
                                  help_text="Quote it to Meta support about this request.")
    error_subcode = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ("notification_id", "number")
        constraints = [
            models.UniqueConstraint(fields=("notification", "number"), name="one_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status}"


class ReceivedMessage(models.Model):
    """A message a known, active user sent the business number, and what the product did with it.
    Its wamid is unique: Meta redelivers webhooks, and a message is acted on once."""

    wamid = models.CharField("message id", max_length=WAMID_LENGTH, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="whatsapp_messages")
    kind = models.CharField(max_length=32, help_text="text, button, interactive, image, reaction…")
    text = models.TextField(blank=True, help_text="What they wrote, or the button they tapped.")
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    outcome = models.TextField(blank=True, help_text="What the product did with it.")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "WhatsApp message received"
        verbose_name_plural = "WhatsApp messages received"
        ordering = ("-received_at", "-id")

    def __str__(self) -> str:
        return f"{self.kind} from {self.user.get_username()}"


class HeldStatus(models.Model):
    """A delivery report whose message id matches no notification yet: Meta may report a message
    before the send's own answer has been recorded. Applied once a send records that id (or by the
    recovery pass); given up after a day, and counted on the insights page."""

    wamid = models.CharField("message id", max_length=WAMID_LENGTH, db_index=True)
    report = models.JSONField(help_text="The status as the webhook read it.")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "delivery report held"
        verbose_name_plural = "delivery reports held"


class Question(models.Model):
    """A question the product asked someone on WhatsApp and waits for them to answer: the reason
    for a Reject they tapped. One at a time per person; answered only by a message that quotes
    `asked` or quotes nothing, before `expires_at` (notifications.whatsapp.inbound)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="whatsapp_question")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16)
    asked = models.OneToOneField(NotificationLog, on_delete=models.CASCADE, related_name="+",
                                 help_text="The message that asks it.")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.action} #{self.ticket_id}, asked of {self.user.get_username()}"


class WhatsAppTemplate(models.Model):
    """A template as the WhatsApp Business Account has it: filled by `manage.py
    whatsapp_templates` and kept current by the template webhooks. A template message whose
    template is known here and not APPROVED is not sent (the row says which and what to do)."""

    APPROVED = "APPROVED"

    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    status = models.CharField(max_length=32, help_text="APPROVED, PENDING, REJECTED, PAUSED, DISABLED…")
    category = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True, help_text="Meta's reason for a rejection or a pause.")
    template_id = models.CharField("Meta's template id", max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "WhatsApp template"
        ordering = ("name", "language")
        constraints = [models.UniqueConstraint(fields=("name", "language"), name="one_template_per_language")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}): {self.status}"


class NotificationInsights(NotificationLog):
    """No table of its own: it puts "Notification insights" on the admin index."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "Notification insights"


class TallyKey(models.Model):
    """What the insights page counts log rows by (notifications/tally.py), and how many."""

    bucket = models.DateTimeField()  # the quarter hour of created_at
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    delivery_status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=32)
    charged = models.BooleanField()
    category = models.CharField(max_length=40)
    n = models.IntegerField()

    class Meta:
        abstract = True


class Tally(TallyKey):
    """How many log rows share a key, kept by database triggers so that the insights page reads a
    few thousand of these instead of every row. Folded from TallyChange by the recovery pass."""

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=("bucket", "channel", "status", "delivery_status", "error_code", "charged",
                    "category"), name="one_tally_per_key")]
        # The failures and the charges the page reads: a few of each bucket's counts.
        indexes = [models.Index(fields=("bucket",), condition=models.Q(status="FAILED"),
                                name="tally_failed"),
                   models.Index(fields=("bucket",), condition=models.Q(charged=True),
                                name="tally_charged")]


class TallyChange(TallyKey):
    """A change to a Tally count, appended by the triggers (+n, -n), never updated: writers of
    the log never wait on each other for a shared counter."""

    bucket = models.DateTimeField(db_index=True)
