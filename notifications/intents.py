"""Writing the intent: one QUEUED NotificationLog row per (ticket event, recipient, channel), with
the message exactly as it will go out, before anything is sent.

Called inside the ticket's transaction, so a rollback leaves no row and a commit guarantees them.
"""
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import buttons, templates
from notifications.clients.base import Template
from accounts.selectors import number_unproved
from notifications.messages import (BUTTONS_MAX_LENGTH, INTERNAL_NOTE, MAX_LENGTH, NOTIFIED,
                                    TicketFacts, as_email, render)
from notifications.models import FREE_TEXT, REPLY, Channel, MessageType, NotificationLog, NotificationStatus
from notifications.recipients import recipients_for
from tickets.models import Ticket, TicketEvent
from tickets.models import TicketEventType as E


def record(ticket_event: TicketEvent) -> list[NotificationLog]:
    """Create the event's notifications (QUEUED) and return them."""
    ticket = ticket_event.ticket
    event = told_as(ticket_event)
    recipients = recipients_for(ticket=ticket, event=event, actor_id=ticket_event.actor_id)
    facts = ticket_facts(ticket, ticket_event)
    now = timezone.now()
    wanted = channels()
    specs = templates.templates() if Channel.WHATSAPP in wanted else None
    texts = {}  # by party and length: every admin reads the same text
    rows = []
    for recipient in recipients:
        user, party = recipient.user, recipient.party
        base = dict(ticket=ticket, ticket_event=ticket_event, event=event, recipient=user,
                    next_attempt_at=now)
        offered = buttons.for_message(event, party, ticket_id=ticket.pk, user_id=user.pk)
        limit = BUTTONS_MAX_LENGTH if offered else MAX_LENGTH
        if (party, limit) not in texts:
            texts[party, limit] = render(event, party, facts, limit)
        text = texts[party, limit]
        if specs is not None:
            template = templates.template_for(
                event, facts, ticket_id=ticket.pk, recipient_name=display_name(user),
                spec=templates.spec_for(specs, event, party),
                payloads=[payload for payload, _ in offered])
            as_template = templates.use_template(
                mode=settings.WHATSAPP_MESSAGE_MODE,
                last_inbound_at=user.profile.whatsapp_last_inbound_at, now=now)
            row = _whatsapp_row(base, user.profile.whatsapp_number, text, template, as_template,
                                offered)
            if user.profile.whatsapp_opted_out_at is not None:
                row.status, row.error_message = NotificationStatus.SKIPPED, OPTED_OUT.format(
                    when=timezone.localtime(user.profile.whatsapp_opted_out_at))
            elif number_unproved(user.profile):
                row.status, row.error_message = NotificationStatus.SKIPPED, NOT_PROVED
            rows.append(row)
        if Channel.EMAIL in wanted:
            rows.append(_email_row(base, user, render(event, party, facts)))
    return NotificationLog.objects.bulk_create(rows)


def told_as(ticket_event: TicketEvent) -> str:
    """The event people are told of: an internal note is one of its own (staff only)."""
    if ticket_event.internal and ticket_event.event == E.COMMENT_ADDED:
        return INTERNAL_NOTE
    return ticket_event.event


OPTED_OUT = ("Not sent: the user sent STOP on WhatsApp ({when:%Y-%m-%d %H:%M}). They get no WhatsApp "
             "notifications until they send START to the business number.")
NOT_PROVED = ("Not sent: number not proved: send the code from that phone. Nothing goes to a number "
              "that must be proved (WHATSAPP_REQUIRE_PROOF) until its owner sends VERIFY and the "
              "code shown by GET /api/auth/me/ from it. A number staff set in Django admin needs "
              "no proof unless WHATSAPP_REQUIRE_PROOF=all.")


def reply(*, user: AbstractBaseUser, text: str, ticket: Ticket | None = None,
          ticket_event: TicketEvent | None = None) -> NotificationLog:
    """The intent of an answer to what `user` just wrote to the business number: free text (their
    message opened the 24-hour window), logged like every notification. `ticket_event`: the
    comment it confirms, so that a reply quoting the answer lands as that comment did (an internal
    note stays one); its author is never among its notified, so the row is theirs alone."""
    return NotificationLog.objects.create(
        ticket=ticket, ticket_event=ticket_event, event=REPLY, recipient=user,
        channel=Channel.WHATSAPP,
        to=user.profile.whatsapp_number, message=text, message_type=MessageType.TEXT,
        callback_id=uuid.uuid4().hex, next_attempt_at=timezone.now())


def email_intent(whatsapp_row: NotificationLog) -> NotificationLog | None:
    """The email fallback for a WhatsApp notification that did not get through, or None when the
    event already has that email (the database refuses a second one)."""
    user = whatsapp_row.recipient
    text = whatsapp_row.message if whatsapp_row.message_type in FREE_TEXT else render(
        whatsapp_row.event, _party_of(whatsapp_row),
        ticket_facts(whatsapp_row.ticket, whatsapp_row.ticket_event))
    base = dict(ticket_id=whatsapp_row.ticket_id, ticket_event_id=whatsapp_row.ticket_event_id,
                event=whatsapp_row.event, recipient=user, next_attempt_at=timezone.now())
    try:
        with transaction.atomic():
            row = _email_row(base, user, text)
            row.save()
            return row
    except IntegrityError:
        return None


def _whatsapp_row(base: dict, number: str, text: str, template: Template, as_template: bool,
                  offered: list[list[str]]) -> NotificationLog:
    free = MessageType.INTERACTIVE if offered else MessageType.TEXT
    return NotificationLog(
        **base, channel=Channel.WHATSAPP, to=number, callback_id=uuid.uuid4().hex,
        message=templates.preview(template) if as_template else text,
        message_type=MessageType.TEMPLATE if as_template else free, buttons=offered,
        # Kept for every WhatsApp row, so a resend can switch to the template when text fails.
        template_name=template.name, template_language=template.language,
        template_params=list(template.params),
    )


def _email_row(base: dict, user: AbstractBaseUser, text: str) -> NotificationLog:
    return NotificationLog(**base, channel=Channel.EMAIL, to=user.email, message=as_email(text),
                           message_type=MessageType.EMAIL, callback_id=uuid.uuid4().hex)


def _party_of(row: NotificationLog):
    """Which text a fallback repeats: the recipient's party to the event, as when it was sent
    (the event's first party when they no longer are one, e.g. deactivated since)."""
    found = recipients_for(ticket=row.ticket, event=row.event, actor_id=None)
    return next((r.party for r in found if r.user.pk == row.recipient_id), NOTIFIED[row.event][0][0])


def channels() -> set[str]:
    names = {name.strip().upper() for name in settings.NOTIFICATION_CHANNELS if name.strip()}
    return names & set(Channel.values)


def ticket_facts(ticket: Ticket, event: TicketEvent | None = None) -> TicketFacts:
    """What the texts may say: the ticket's fields, and the words of the event (a comment, why
    it was reopened) when there is one."""
    words = event is not None and event.event in (E.COMMENT_ADDED, E.TICKET_REOPENED)
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
        author_name=display_name(event.actor) if words else "",
    )


def display_name(user: AbstractBaseUser) -> str:
    """The user's full name, or the username when they have none."""
    return user.get_full_name() or user.get_username()
