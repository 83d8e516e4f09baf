"""Telling people about ticket events, and resending what did not get through.

recipients → channels and message type → delivery (concurrent, retried, time-bounded) → one log
row per attempt. Runs after the ticket's transaction commits; nothing here can fail or undo the
ticket change.
"""
import time
from collections.abc import Callable, Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from notifications import delivery, records, templates
from notifications.clients.base import Failure, SendResult, Template, WhatsAppSender
from notifications.delivery import Attempt, Job
from notifications.messages import TicketFacts, as_email, render
from notifications.models import Channel, MessageType, NotificationLog, NotificationStatus
from notifications.recipients import recipients_for
from notifications.records import Planned
from tickets.models import Ticket, TicketEvent

NO_NUMBER = (
    "No WhatsApp number on profile. Add one in Django admin (Users → the user → User Profile) "
    "or with PATCH /api/auth/me/."
)
NO_EMAIL = "No email address on the user's account."


def schedule_ticket_notifications(*, ticket_event: TicketEvent) -> None:
    """Notify once the current transaction commits; never if it rolls back.

    `robust` keeps an unexpected error here from turning a committed ticket change into a 500.
    """
    transaction.on_commit(
        partial(notify_ticket_event, ticket_event_id=ticket_event.pk), robust=True
    )


def notify_ticket_event(
    *,
    ticket_event_id: int,
    whatsapp: WhatsAppSender | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[NotificationLog]:
    """Send one history event's messages; write one NotificationLog row per attempt."""
    ticket_event = TicketEvent.objects.select_related(
        "ticket__client__profile", "ticket__assigned_developer__profile"
    ).get(pk=ticket_event_id)
    ticket, event = ticket_event.ticket, ticket_event.event
    recipients = recipients_for(ticket=ticket, event=event, actor_id=ticket_event.actor_id)
    # A second run for the same event (a retried task, a double commit hook) tells nobody twice.
    done = set(
        NotificationLog.objects.filter(ticket_event=ticket_event, retry_of__isnull=True)
        .values_list("recipient_id", "channel")
    )
    facts = ticket_facts(ticket)
    now = timezone.now()
    planned: list[Planned] = []
    for recipient in recipients:
        user = recipient.user
        text = render(event, recipient.audience, facts)
        template = templates.template_for(
            event, facts, ticket_id=ticket.pk, recipient_name=display_name(user)
        )
        base = dict(ticket=ticket, ticket_event=ticket_event, event=event, recipient=user)
        if Channel.WHATSAPP in channels() and (user.pk, Channel.WHATSAPP) not in done:
            planned.append(_whatsapp_plan(base, user, text, template, now))
        if Channel.EMAIL in channels() and (user.pk, Channel.EMAIL) not in done:
            planned.append(_email_plan(base, user, text, ticket.pk))

    _deliver(planned, whatsapp, sleep)
    fallbacks = _email_fallbacks(planned, done)
    _deliver(fallbacks, whatsapp, sleep)
    return records.write(planned + fallbacks)


def resend(
    rows: Iterable[NotificationLog],
    *,
    whatsapp: WhatsAppSender | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[NotificationLog]:
    """Try FAILED and SKIPPED rows again, each as a new row pointing at the one it repeats.

    Only the latest attempt of a chain is resent, never one whose chain has a SENT row, and the
    rows are locked meanwhile, so two admins clicking at once cannot send twice.
    """
    with transaction.atomic():
        ids = [row.pk for row in rows]
        locked = list(
            # Only the log rows are locked; the joined ticket and user rows are just read.
            NotificationLog.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, status__in=(NotificationStatus.FAILED, NotificationStatus.SKIPPED))
            .exclude(retries__isnull=False)
            .select_related("ticket", "ticket_event", "recipient__profile")
        )
        now = timezone.now()
        planned = [_resend_plan(row, now) for row in locked if not _chain_was_sent(row)]
        _deliver(planned, whatsapp, sleep)
        return records.write(planned)


def resendable(rows: Iterable[NotificationLog]) -> list[NotificationLog]:
    """The rows `resend` would act on (for dry runs and the admin's message)."""
    return [
        row for row in rows
        if row.status in (NotificationStatus.FAILED, NotificationStatus.SKIPPED)
        and not row.retries.exists()
        and not _chain_was_sent(row)
    ]


# --- Planning ----------------------------------------------------------------------------------------


def channels() -> set[str]:
    names = {name.strip().upper() for name in settings.NOTIFICATION_CHANNELS if name.strip()}
    return names & set(Channel.values)


def _whatsapp_plan(base: dict, user, text: str, template: Template, now) -> Planned:
    as_template = templates.use_template(
        mode=settings.WHATSAPP_MESSAGE_MODE,
        last_inbound_at=user.profile.whatsapp_last_inbound_at,
        now=now,
    )
    return _whatsapp_job(base, user.profile.whatsapp_number, text, template, as_template)


def _email_plan(base: dict, user, text: str, ticket_id: int) -> Planned:
    subject, body = as_email(text, ticket_id=ticket_id)
    return _email_job(base, user.email, subject, body)


def _whatsapp_job(base: dict, number: str, text: str, template: Template, as_template: bool) -> Planned:
    """A WhatsApp message as text or template; SKIPPED at once when there is no number."""
    job = Job(Channel.WHATSAPP, number, text, template=template if as_template else None)
    if not number:
        job.outcome = [_skipped(NO_NUMBER)]
    return Planned(
        job, **base,
        message_type=MessageType.TEMPLATE if as_template else MessageType.TEXT,
        # Kept for every WhatsApp row, so a resend can switch to the template when text fails.
        template_name=template.name, template_language=template.language,
        template_params=list(template.params),
    )


def _email_job(base: dict, address: str, subject: str, body: str) -> Planned:
    job = Job(Channel.EMAIL, address, body, subject=subject)
    if not address:
        job.outcome = [_skipped(NO_EMAIL)]
    return Planned(job, **base, message_type=MessageType.EMAIL)


def _email_fallbacks(planned: list[Planned], done: set) -> list[Planned]:
    """Email whoever's WhatsApp message was skipped or refused for good, if fallback is on."""
    if not settings.NOTIFICATION_EMAIL_FALLBACK or Channel.EMAIL in channels():
        return []
    fallbacks = []
    for p in planned:
        if p.job.channel != Channel.WHATSAPP or not _failed_for_good(p.job.outcome[-1].result):
            continue
        user = p.recipient
        if user.email and (user.pk, Channel.EMAIL) not in done:
            base = dict(ticket=p.ticket, ticket_event=p.ticket_event, event=p.event, recipient=user)
            fallbacks.append(_email_plan(base, user, p.job.text, p.ticket.pk))
    return fallbacks


def _failed_for_good(result: SendResult) -> bool:
    if result.status == NotificationStatus.SKIPPED:
        return True
    return result.failure == Failure.PROVIDER_ERROR and not result.temporary


def _resend_plan(row: NotificationLog, now) -> Planned:
    base = dict(ticket=row.ticket, ticket_event=row.ticket_event, event=row.event,
                recipient=row.recipient, retry_of=row)
    user = row.recipient
    if row.channel == Channel.EMAIL:
        subject = f"[Ticket #{row.ticket_id}] {row.get_event_display()}"
        return _email_job(base, user.email, subject, row.message)

    template = Template(row.template_name, row.template_language, list(row.template_params))
    # A template is resent as one; free text switches to the template where text cannot arrive.
    as_template = row.message_type == MessageType.TEMPLATE or bool(row.template_name) and (
        row.error_code == "131047"
        or templates.use_template(mode=settings.WHATSAPP_MESSAGE_MODE,
                                  last_inbound_at=user.profile.whatsapp_last_inbound_at, now=now)
    )
    text = row.message if row.message_type == MessageType.TEXT else ""
    # The current number: it may have been added or fixed since the first attempt.
    return _whatsapp_job(base, user.profile.whatsapp_number, text, template, as_template)


def _chain_was_sent(row: NotificationLog) -> bool:
    """Whether this row or any attempt it repeats was SENT (and still stands as sent)."""
    current, seen = row, set()
    while current is not None and current.pk not in seen:
        if current.status == NotificationStatus.SENT:
            return True
        seen.add(current.pk)
        current = current.retry_of
    return False


def _deliver(planned: list[Planned], whatsapp, sleep) -> None:
    delivery.run([p.job for p in planned if not p.job.outcome], whatsapp=whatsapp, sleep=sleep)


def _skipped(reason: str) -> Attempt:
    return Attempt("", SendResult(status=NotificationStatus.SKIPPED, error_message=reason))


# --- Facts -------------------------------------------------------------------------------------------


def ticket_facts(ticket: Ticket) -> TicketFacts:
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
    )


def display_name(user: AbstractBaseUser) -> str:
    """The user's full name, or the username when they have none."""
    return user.get_full_name() or user.get_username()
