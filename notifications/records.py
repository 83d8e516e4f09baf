"""Writing what happened: one NotificationLog row per attempt, chained to the attempt it repeats,
and one log line each. Only the calling (request) thread writes here."""
import logging
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from notifications.clients.base import Failure
from notifications.delivery import Attempt, Job
from notifications.models import MessageType, NotificationLog, NotificationStatus
from notifications.templates import preview
from tickets.models import Ticket, TicketEvent

logger = logging.getLogger("notifications.services")


@dataclass
class Planned:
    """A job with what its rows need to say about it."""

    job: Job
    ticket: Ticket
    ticket_event: TicketEvent | None
    event: str
    recipient: AbstractBaseUser
    message_type: MessageType
    template_name: str = ""
    template_language: str = ""
    template_params: list[str] = field(default_factory=list)
    retry_of: NotificationLog | None = None


def write(planned: list[Planned]) -> list[NotificationLog]:
    """Store every attempt of every job; returns the rows, each job's attempts in order."""
    now = timezone.now()
    chains = [[_row(p, attempt, now) for attempt in p.job.outcome] for p in planned]
    for p, chain in zip(planned, chains):
        if chain:
            chain[0].retry_of = p.retry_of
    # Create the attempts wave by wave, so each retry can point at the row it repeats.
    depth = max((len(chain) for chain in chains), default=0)
    for wave in range(depth):
        rows = []
        for chain in chains:
            if len(chain) > wave:
                if wave:
                    chain[wave].retry_of = chain[wave - 1]
                rows.append(chain[wave])
        NotificationLog.objects.bulk_create(rows)
    for p, chain in zip(planned, chains):
        for row in chain:
            _log_line(p, row)
    return [row for chain in chains for row in chain]


def _row(p: Planned, attempt: Attempt, now) -> NotificationLog:
    result = attempt.result
    job = p.job
    if job.template is not None:
        message = preview(job.template)
    else:
        message = job.text
    return NotificationLog(
        ticket=p.ticket,
        ticket_event=p.ticket_event,
        event=p.event,
        recipient=p.recipient,
        channel=job.channel,
        to=job.to,
        message=message,
        message_type=p.message_type,
        template_name=p.template_name,
        template_language=p.template_language,
        template_params=p.template_params,
        callback_id=attempt.callback_id,
        status=result.status,
        provider_message_id=result.message_id,
        error_code=result.error_code,
        error_message=result.error_message,
        http_status=result.http_status,
        may_have_been_sent=result.failure == Failure.OUTCOME_UNKNOWN,
        sent_at=now if result.ok else None,
    )


def _log_line(p: Planned, row: NotificationLog) -> None:
    username = p.recipient.get_username()
    channel = row.get_channel_display()
    where = f"({p.event}, ticket #{p.ticket.pk})"
    if row.status == NotificationStatus.SENT:
        if row.channel == "WHATSAPP":
            logger.info("📱 WhatsApp sent to %s: %s", username, row.provider_message_id)
        else:
            logger.info("%s sent to %s %s", channel, username, where)
    elif row.status == NotificationStatus.SKIPPED:
        logger.info("%s to %s skipped %s: %s", channel, username, where, row.error_message)
    else:
        code = f" [code {row.error_code}]" if row.error_code else ""
        logger.warning("%s to %s failed %s%s: %s", channel, username, where, code, row.error_message)
