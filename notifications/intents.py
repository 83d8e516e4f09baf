"""Writing the intent: one QUEUED NotificationLog row per (ticket event, recipient, channel), with
the message exactly as it will go out, before anything is sent.

Called inside the ticket's transaction, so a rollback leaves no row and a commit guarantees them.
"""
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.quiet import quiet_until
from notifications import channels, digests
from notifications.channels import Draft
from notifications.messages import INTERNAL_NOTE, MAX_LENGTH, TicketFacts, parties, render
from notifications.models import FREE_TEXT, REPLY, Channel, MessageType, NotificationLog
from notifications.recipients import recipients_for
from tickets.models import HIGH_PRIORITIES, Ticket, TicketEvent
from tickets.models import TicketEventType as E


def record(ticket_event: TicketEvent) -> list[NotificationLog]:
    """Create the event's notifications (QUEUED, or SKIPPED saying why) and return them: one per
    recipient and channel, each shaped by its channel (notifications.channels)."""
    ticket = ticket_event.ticket
    event = told_as(ticket_event)
    recipients = recipients_for(ticket=ticket, event=event, actor_id=ticket_event.actor_id,
                                ticket_event_id=ticket_event.pk)
    facts = ticket_facts(ticket, ticket_event)
    now = timezone.now()
    wanted = [channels.get(name) for name in sorted(channel_names(), key=_ORDER.index)]
    texts = {}  # by party and length: every admin reads the same text

    def text_for(party):
        def text(limit: int = MAX_LENGTH) -> str:
            if (party, limit) not in texts:
                texts[party, limit] = render(event, party, facts, limit)
            return texts[party, limit]
        return text

    # A page of a HIGH ticket goes at once, quiet hours or not, and so does the word that someone
    # took it (the people it woke can go back to sleep).
    urgent = event in (E.TICKET_PAGED, E.TICKET_ACKNOWLEDGED) and ticket.priority in HIGH_PRIORITIES
    rows = []
    for recipient in recipients:
        user, party = recipient.user, recipient.party
        held = None if urgent else quiet_until(user.profile, now)
        draft = Draft(event=event, party=party, ticket_id=ticket.pk, recipient=user, facts=facts,
                        now=now, text=text_for(party), page=recipient.page,
                        base=dict(ticket=ticket, ticket_event=ticket_event, event=event,
                                  recipient=user, next_attempt_at=held or now, held_until=held))
        rows += [channel.compose(draft) for channel in wanted]
    if not urgent:
        digests.mark(rows, now)  # a storm's rows wait to go out together
    return NotificationLog.objects.bulk_create(rows)


# Each person's rows are written WhatsApp first, then email.
_ORDER = [Channel.WHATSAPP, Channel.EMAIL]


def told_as(ticket_event: TicketEvent) -> str:
    """The event people are told of: an internal note is one of its own (staff only)."""
    if ticket_event.internal and ticket_event.event == E.COMMENT_ADDED:
        return INTERNAL_NOTE
    return ticket_event.event


def reply(*, user: AbstractBaseUser | None, text: str, ticket: Ticket | None = None,
          ticket_event: TicketEvent | None = None, choices=(), to: str = "") -> NotificationLog:
    """The intent of an answer to what `user` just wrote to the business number: free text (their
    message opened the 24-hour window), logged like every notification. `ticket_event`: the
    comment it confirms, so that a reply quoting the answer lands as that comment did (an internal
    note stays one); its author is never among its notified, so the row is theirs alone.
    `choices`: [payload, title] each, sent as reply buttons (a list beyond three). `to`: the
    number, when no user has it (`user` None)."""
    return NotificationLog.objects.create(
        ticket=ticket, ticket_event=ticket_event, event=REPLY, recipient=user,
        channel=Channel.WHATSAPP, to=user.profile.whatsapp_number if user else to, message=text,
        message_type=MessageType.INTERACTIVE if choices else MessageType.TEXT,
        buttons=[list(choice) for choice in choices],
        callback_id=uuid.uuid4().hex, next_attempt_at=timezone.now())


def email_intent(whatsapp_row: NotificationLog) -> NotificationLog | None:
    """The email fallback for a WhatsApp notification that did not get through, or None when the
    event already has that email (the database refuses a second one)."""
    user = whatsapp_row.recipient
    party = _party_of(whatsapp_row)
    text = whatsapp_row.message if whatsapp_row.message_type in FREE_TEXT else render(
        whatsapp_row.event, party, ticket_facts(whatsapp_row.ticket, whatsapp_row.ticket_event))
    draft = Draft(
        event=whatsapp_row.event, party=party, ticket_id=whatsapp_row.ticket_id,
        recipient=user, facts=None, now=timezone.now(), text=lambda limit=MAX_LENGTH: text,
        base=dict(ticket_id=whatsapp_row.ticket_id, ticket_event_id=whatsapp_row.ticket_event_id,
                  event=whatsapp_row.event, recipient=user, next_attempt_at=timezone.now()))
    try:
        with transaction.atomic():
            row = channels.get(Channel.EMAIL).compose(draft)
            row.save()
            return row
    except IntegrityError:
        return None


def _party_of(row: NotificationLog):
    """Which text a fallback repeats: the recipient's party to the event, as when it was sent
    (the event's first party when they no longer are one, e.g. deactivated since)."""
    found = recipients_for(ticket=row.ticket, event=row.event, actor_id=None,
                           ticket_event_id=row.ticket_event_id)
    return next((r.party for r in found if r.user.pk == row.recipient_id), parties(row.event)[0])


def channel_names() -> set[str]:
    """The channels NOTIFICATION_CHANNELS names."""
    names = {name.strip().upper() for name in settings.NOTIFICATION_CHANNELS if name.strip()}
    return names & set(Channel.values)


# Events whose own words (the note) and author the texts quote.
WORDED = (E.COMMENT_ADDED, E.TICKET_REOPENED, E.TICKET_PAGED, E.TICKET_ACKNOWLEDGED)


def ticket_facts(ticket: Ticket, event: TicketEvent | None = None) -> TicketFacts:
    """What the texts may say: the ticket's fields, and the words of the event (a comment, why
    it was reopened) when there is one."""
    words = event is not None and event.event in WORDED
    return TicketFacts(
        title=ticket.title,
        project=ticket.project_name,
        priority=ticket.priority,
        category=ticket.category,
        status=ticket.get_status_display(),
        description=ticket.description,
        client_name=display_name(ticket.client),
        developer_name=display_name(ticket.assigned_developer) if ticket.assigned_developer else "",
        resolution=ticket.resolution,
        rejection_reason=ticket.rejection_reason,
        comment=event.note if words else "",
        author_name=display_name(event.actor) if words and event.actor else "",
    )


def display_name(user: AbstractBaseUser) -> str:
    """The user's full name, or the username when they have none."""
    return user.get_full_name() or user.get_username()
