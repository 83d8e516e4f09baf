"""Telling people about ticket events: recipients → message text → sender → one log row each.

Called after the ticket's transaction commits; nothing here can fail or undo the ticket change.
"""
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from notifications.clients import SendResult, WhatsAppSender, get_whatsapp_client
from notifications.clients.whatsapp import MAX_CONNECT_TIMEOUT
from notifications.messages import TicketFacts, render
from notifications.models import Channel, NotificationLog, NotificationStatus
from notifications.recipients import Recipient, recipients_for
from tickets.models import Ticket

logger = logging.getLogger(__name__)

NO_NUMBER = (
    "No WhatsApp number on profile. Add one in Django admin (Users → the user → User Profile) "
    "or with PATCH /api/auth/me/."
)
OUT_OF_TIME = (
    "Not sent: the other messages of this event used up its time bound (WHATSAPP_TIMEOUT) before "
    "this one could start. Resend it."
)
NO_ANSWER_IN_TIME = (
    "No answer from WhatsApp within the event's time bound. The message may or may not have gone "
    "out; check with the recipient before resending."
)


@dataclass(frozen=True)
class Delivery:
    """One recipient's message, and what became of it."""

    recipient: Recipient
    number: str
    text: str
    result: SendResult


def schedule_ticket_notifications(*, ticket_id: int, event: str, actor_id: int) -> None:
    """Notify once the current transaction commits; never if it rolls back.

    `robust` keeps an unexpected error here from turning a committed ticket change into a 500.
    """
    transaction.on_commit(
        partial(notify_ticket_event, ticket_id=ticket_id, event=event, actor_id=actor_id),
        robust=True,
    )


def notify_ticket_event(
    *, ticket_id: int, event: str, actor_id: int | None, sender: WhatsAppSender | None = None
) -> list[NotificationLog]:
    """Send `event`'s messages for one ticket and write one NotificationLog row per recipient."""
    ticket = Ticket.objects.select_related("client__profile", "assigned_developer__profile").get(
        pk=ticket_id
    )
    recipients = recipients_for(ticket=ticket, event=event, actor_id=actor_id)
    if not recipients:
        return []
    facts = ticket_facts(ticket)
    sender = sender or get_whatsapp_client()

    deliveries: list[Delivery | None] = []
    jobs: list[tuple[int, Recipient, str, str]] = []
    for index, recipient in enumerate(recipients):
        text = render(event, recipient.audience, facts)
        number = recipient.user.profile.whatsapp_number
        if number:
            jobs.append((index, recipient, number, text))
            deliveries.append(None)
        else:
            skipped = SendResult(status=NotificationStatus.SKIPPED, error_message=NO_NUMBER)
            deliveries.append(Delivery(recipient, "", text, skipped))

    results = send_all(sender, [(number, text) for _, _, number, text in jobs])
    for (index, recipient, number, text), result in zip(jobs, results):
        deliveries[index] = Delivery(recipient, number, text, result)

    now = timezone.now()
    rows = [_log_row(ticket, event, d, now) for d in deliveries]
    NotificationLog.objects.bulk_create(rows)
    for delivery in deliveries:
        _log_line(ticket, event, delivery)
    return rows


def send_all(sender: WhatsAppSender, messages: list[tuple[str, str]]) -> list[SendResult]:
    """Send (number, text) pairs at once through a bounded pool; results in the same order.

    The whole batch is bounded by one send's timeouts, so a ticket request never waits longer
    than that, however many recipients there are.
    """
    if not messages:
        return []
    if len(messages) == 1:
        return [_send_one(sender, *messages[0])]
    pool = ThreadPoolExecutor(
        max_workers=min(len(messages), settings.WHATSAPP_MAX_WORKERS),
        thread_name_prefix="whatsapp-send",
    )
    futures = [pool.submit(_send_one, sender, number, text) for number, text in messages]
    wait(futures, timeout=batch_time_bound())
    pool.shutdown(wait=False, cancel_futures=True)
    return [_outcome(future) for future in futures]


def batch_time_bound() -> float:
    """Seconds one event's sends may take in all: one send's connect and read timeouts, plus a
    second for the pool itself."""
    timeout = settings.WHATSAPP_TIMEOUT
    return min(MAX_CONNECT_TIMEOUT, timeout) + timeout + 1


def _outcome(future: Future) -> SendResult:
    if future.done() and not future.cancelled():
        return future.result()
    if future.cancelled():
        return SendResult(status=NotificationStatus.FAILED, error_message=OUT_OF_TIME, temporary=True)
    return SendResult(status=NotificationStatus.FAILED, error_message=NO_ANSWER_IN_TIME)


def _send_one(sender: WhatsAppSender, number: str, text: str) -> SendResult:
    try:
        return sender.send_text(to=number, body=text)
    except Exception as exc:  # a sender must never raise; if one does, the row still says so
        logger.exception("WhatsApp sender raised instead of returning a result")
        return SendResult(
            status=NotificationStatus.FAILED,
            error_message=f"Internal error while sending ({type(exc).__name__}); see the server log.",
        )


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


def _log_row(ticket: Ticket, event: str, delivery: Delivery, now) -> NotificationLog:
    result = delivery.result
    return NotificationLog(
        ticket=ticket,
        event=event,
        recipient=delivery.recipient.user,
        channel=Channel.WHATSAPP,
        to=delivery.number,
        message=delivery.text,
        status=result.status,
        provider_message_id=result.message_id,
        error_code=result.error_code,
        error_message=result.error_message,
        http_status=result.http_status,
        sent_at=now if result.ok else None,
    )


def _log_line(ticket: Ticket, event: str, delivery: Delivery) -> None:
    username = delivery.recipient.user.get_username()
    result = delivery.result
    if result.status == NotificationStatus.SENT:
        logger.info("📱 WhatsApp sent to %s: %s", username, result.message_id)
    elif result.status == NotificationStatus.SKIPPED:
        logger.info("WhatsApp to %s skipped (%s, ticket #%s): %s", username, event, ticket.pk,
                    result.error_message)
    else:
        code = f" [code {result.error_code}]" if result.error_code else ""
        logger.warning("WhatsApp to %s failed (%s, ticket #%s)%s: %s", username, event, ticket.pk,
                       code, result.error_message)
