"""Delivering notifications: one function of a set of ledger rows, which any process may run.

claim (QUEUED → SENDING, one conditional update) → send them all at once, bounded in time →
record each attempt the moment its answer is in → SENT, FAILED, SKIPPED or UNKNOWN, or QUEUED
again for a later try. Only this (calling) thread touches the database; the pool's threads only
send. Two processes never send the same row, and one that dies leaves rows that say so
(deliver_pending_notifications turns an abandoned SENDING row into UNKNOWN).
"""
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, F, Q, TextField, Value, When
from django.utils import timezone

from notifications import intents
from notifications.clients import get_whatsapp_client
from notifications.clients.base import Failure, SendResult, Template
from notifications.clients.email import EmailSender
from notifications.clients.whatsapp import MAX_CONNECT_TIMEOUT
from notifications.messages import email_subject
from notifications.models import (
    ARRIVED,
    WAMID_LENGTH,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    MessageType,
    NotificationLog,
    NotificationStatus,
)

logger = logging.getLogger("notifications.services")
S = NotificationStatus

# Automatic tries per notification, immediate retries and later ones together; then FAILED.
MAX_ATTEMPTS = 5
# Seconds before a later try, by how many tries were made so far.
LATER = (30, 120, 600, 1800)

NO_NUMBER = (
    "No WhatsApp number on profile. Add one in Django admin (Users → the user → User Profile) "
    "or with PATCH /api/auth/me/."
)
NO_EMAIL = "No email address on the user's account."
OUT_OF_TIME = (
    "Not sent yet: the other messages of this event used up its time bound before this one "
    "could start. deliver_pending_notifications sends it."
)
NO_ANSWER_IN_TIME = (
    "No answer within the event's time bound. The message may or may not have gone out; a "
    "delivery report will settle it. Check with the recipient before resending."
)
LONG_ID = "Graph's message id was longer than {limit} characters and is stored cut."


class Next(str, Enum):
    """What an attempt's answer means for the notification: the one place that decides retries."""

    DONE = "done"  # sent, or skipped on purpose
    RETRY_NOW = "retry now"  # nothing went out, or Meta asks for a moment: try again in this run
    RETRY_LATER = "retry later"  # a passing refusal: QUEUED again, due in a while
    NEVER = "never"  # refused for good: FAILED, with what to fix
    UNKNOWN = "unknown"  # it may have gone out: never resent blindly


def decide(result: SendResult) -> Next:
    if result.status in (S.SENT, S.SKIPPED):
        return Next.DONE
    if result.failure in (Failure.OUTCOME_UNKNOWN, Failure.INTERNAL):
        return Next.UNKNOWN
    if result.failure == Failure.NOT_SENT:
        return Next.RETRY_NOW
    if result.failure == Failure.BAD_ANSWER:
        # An HTML 5xx comes from a proxy before Meta; a 2xx without a message id may be accepted.
        return Next.RETRY_NOW if (result.http_status or 0) >= 500 else Next.UNKNOWN
    if result.error_code == "131000":  # Meta: something went wrong, it may or may not have gone
        return Next.UNKNOWN
    if result.error_code == "130429" or ((result.http_status or 0) >= 500 and not result.error_code):
        return Next.RETRY_NOW
    return Next.RETRY_LATER if result.temporary else Next.NEVER


def time_bound() -> float:
    """Seconds one call may wait for its sends: one send's connect and read timeouts, plus a
    second for the pool and quick retries."""
    timeout = settings.WHATSAPP_TIMEOUT
    return min(MAX_CONNECT_TIMEOUT, timeout) + timeout + 1


def retry_backoff() -> tuple[float, ...]:
    """Seconds to wait before each immediate retry (WHATSAPP_RETRY_BACKOFF, at most two)."""
    return tuple(float(s) for s in settings.WHATSAPP_RETRY_BACKOFF)[:2]


@dataclass
class Job:
    """A claimed notification and its attempt in flight."""

    row: NotificationLog
    attempt: DeliveryAttempt
    claim: str
    retries: int = 0


def deliver(ids: Iterable[int], *, sleep: Callable[[float], None] = time.sleep) -> list[NotificationLog]:
    """Send the due QUEUED notifications among `ids` that this call manages to claim.

    Returns within time_bound() whatever Graph does. Rows another process holds are left to it.
    """
    jobs = _claim(list(ids))
    if not jobs:
        return []
    settled = _send_all(jobs, sleep)
    fallbacks = _email_fallbacks(settled)
    if fallbacks:
        _send_all(_claim(fallbacks), sleep)
    return list(NotificationLog.objects.filter(pk__in=[j.row.pk for j in jobs] + fallbacks)
                .select_related("recipient").order_by("pk"))


def _claim(ids: list[int]) -> list[Job]:
    """QUEUED → SENDING under a claim of our own, with each row's attempt started, at once."""
    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        NotificationLog.objects.filter(
            pk__in=ids, status=S.QUEUED, next_attempt_at__lte=now
        ).update(status=S.SENDING, claim=token, claimed_at=now, attempt_count=F("attempt_count") + 1)
        rows = list(NotificationLog.objects.filter(claim=token, status=S.SENDING)
                    .select_related("recipient").order_by("pk"))
        attempts = DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(notification=row, number=row.attempt_count) for row in rows])
    return [Job(row, attempt, token) for row, attempt in zip(rows, attempts)]


def _send_all(jobs: list[Job], sleep) -> list[tuple[Job, Next]]:
    """Send every job at once; write each outcome as it comes; stop waiting at the time bound."""
    whatsapp, email = get_whatsapp_client(), EmailSender()
    deadline = time.monotonic() + time_bound()
    backoffs = retry_backoff()
    settled: list[tuple[Job, Next]] = []
    pool = ThreadPoolExecutor(max_workers=min(len(jobs), settings.WHATSAPP_MAX_WORKERS),
                              thread_name_prefix="notify")
    running: dict[Future, Job] = {
        pool.submit(_send, job.row, whatsapp, email, deadline, 0.0, sleep): job for job in jobs}
    try:
        while running:
            done, _ = wait(running, timeout=max(deadline - time.monotonic(), 0),
                           return_when=FIRST_COMPLETED)
            if not done:
                break
            for future in done:
                job = running.pop(future)
                result = future.result()
                next_step = decide(result)
                backoff = backoffs[job.retries] if job.retries < len(backoffs) else None
                if next_step == Next.RETRY_NOW and backoff is not None and _fits(backoff, deadline) \
                        and job.row.attempt_count < MAX_ATTEMPTS:
                    _retry(job, result)
                    running[pool.submit(_send, job.row, whatsapp, email, deadline, backoff, sleep)] = job
                    continue
                if next_step == Next.RETRY_NOW:
                    next_step = Next.RETRY_LATER
                _settle(job, result, next_step)
                settled.append((job, next_step))
    finally:
        for future, job in running.items():
            # Cancelled: it never started, so nothing went out. Otherwise it is on its way.
            started = not future.cancel()
            late = _late(started)
            next_step = Next.UNKNOWN if started else Next.RETRY_LATER
            _settle(job, late, next_step, later=0)
            settled.append((job, next_step))
        pool.shutdown(wait=False, cancel_futures=True)
    return settled


def _fits(backoff: float, deadline: float) -> bool:
    per_attempt = min(MAX_CONNECT_TIMEOUT, settings.WHATSAPP_TIMEOUT) + settings.WHATSAPP_TIMEOUT
    return time.monotonic() + backoff + per_attempt <= deadline


def _send(row: NotificationLog, whatsapp, email, deadline: float, backoff: float, sleep) -> SendResult:
    """One try (in a pool thread): never raises, never touches the database."""
    if backoff:
        sleep(backoff)
    if time.monotonic() >= deadline:
        return _late(started=False)
    try:
        if not row.to:
            return SendResult(status=S.SKIPPED,
                              error_message=NO_EMAIL if row.channel == Channel.EMAIL else NO_NUMBER)
        if row.channel == Channel.EMAIL:
            subject = email_subject(row.message, ticket_id=row.ticket_id)
            return email.send(to=row.to, subject=subject, body=row.message)
        if row.message_type == MessageType.TEMPLATE:
            template = Template(row.template_name, row.template_language, list(row.template_params))
            return whatsapp.send_template(to=row.to, template=template, callback_data=row.callback_id)
        return whatsapp.send_text(to=row.to, body=row.message, callback_data=row.callback_id)
    except Exception as exc:  # a sender must never raise; if one does, the row still says so
        logger.exception("Notification sender raised instead of returning a result")
        return SendResult(
            status=S.FAILED, failure=Failure.INTERNAL,
            error_message=f"Internal error while sending ({type(exc).__name__}); it may or may not "
            "have gone out. See the server log.")


def _late(started: bool) -> SendResult:
    if started:
        return SendResult(status=S.FAILED, error_message=NO_ANSWER_IN_TIME,
                          failure=Failure.OUTCOME_UNKNOWN)
    return SendResult(status=S.FAILED, error_message=OUT_OF_TIME, temporary=True,
                      failure=Failure.NOT_SENT)


# --- Writing outcomes ---------------------------------------------------------------------------------

OUTCOME_STATUS = {
    Next.UNKNOWN: S.UNKNOWN,
    Next.NEVER: S.FAILED,
    Next.RETRY_LATER: S.QUEUED,
}


def _retry(job: Job, result: SendResult) -> None:
    """The attempt failed in a way worth repeating now: close it, open the next one."""
    _finish_attempt(job.attempt, result, S.FAILED)
    job.retries += 1
    job.row.attempt_count += 1
    NotificationLog.objects.filter(pk=job.row.pk, claim=job.claim).update(
        attempt_count=F("attempt_count") + 1)
    job.attempt = DeliveryAttempt.objects.create(notification=job.row, number=job.row.attempt_count)


def _settle(job: Job, result: SendResult, next_step: Next, *, later: int | None = None) -> None:
    """Write an attempt's outcome onto its row; an error here is logged and left on the row."""
    try:
        with transaction.atomic():  # a savepoint: a failed write leaves the connection usable
            _write_outcome(job, result, next_step, later)
    except Exception as exc:  # noqa: BLE001  the row must still say something
        logger.exception("Could not record the outcome of notification %s", job.row.pk)
        NotificationLog.objects.filter(pk=job.row.pk, claim=job.claim, status=S.SENDING).update(
            status=S.UNKNOWN, may_have_been_sent=True,
            error_message=f"The answer could not be recorded ({type(exc).__name__}); the message "
            "may have gone out. See the server log.")
        return
    _log_line(job.row, result, next_step)


def _write_outcome(job: Job, result: SendResult, next_step: Next, later: int | None) -> None:
    wamid, note = result.message_id, ""
    if len(wamid) > WAMID_LENGTH:
        wamid, note = wamid[:WAMID_LENGTH], LONG_ID.format(limit=WAMID_LENGTH)
    if next_step == Next.DONE:
        own = result.status
    elif next_step == Next.RETRY_LATER and job.row.attempt_count >= MAX_ATTEMPTS:
        own, next_step = S.FAILED, Next.NEVER
    else:
        own = OUTCOME_STATUS[next_step]
    error = result.error_message or note
    if own == S.QUEUED:
        delay = LATER[min(job.row.attempt_count, len(LATER)) - 1] if later is None else later
        due = timezone.now() + timedelta(seconds=delay)
        error = f"{error} Next try after {timezone.localtime(due):%H:%M:%S}."
    else:
        due = None
    _finish_attempt(job.attempt, result, own if own != S.QUEUED else S.FAILED, wamid, error)
    reported_failed = Q(delivery_status=DeliveryStatus.FAILED)
    if wamid:  # a failure report about an earlier attempt does not undo this one
        reported_failed &= Q(provider_message_id__in=("", wamid))
    changes = {
        # What Meta's webhooks said while we waited outranks our own answer.
        "status": Case(When(delivery_status__in=ARRIVED, then=Value(S.SENT)),
                       When(reported_failed, then=Value(S.FAILED)), default=Value(own),
                       output_field=CharField()),
        "error_code": Case(When(delivery_status__in=ARRIVED, then=Value("")),
                           When(reported_failed, then=F("error_code")),
                           default=Value(result.error_code), output_field=CharField()),
        "error_message": Case(When(delivery_status__in=ARRIVED, then=Value(note)),
                              When(reported_failed, then=F("error_message")),
                              default=Value(error), output_field=TextField()),
        "http_status": result.http_status,
        "may_have_been_sent": own == S.UNKNOWN,
        "next_attempt_at": due,
        "claim": "" if own == S.QUEUED else job.claim,
    }
    if wamid:
        changes["provider_message_id"] = wamid
    if own == S.SENT:
        changes["sent_at"] = timezone.now()
    # Our claim, still SENDING (or UNKNOWN: the recovery pass gave up on us, and we now know).
    NotificationLog.objects.filter(pk=job.row.pk, claim=job.claim,
                                   status__in=(S.SENDING, S.UNKNOWN)).update(**changes)
    job.row.status, job.row.error_message = own, error


def _finish_attempt(attempt: DeliveryAttempt, result: SendResult, status: str,
                    wamid: str | None = None, error: str | None = None) -> None:
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        status=status, finished_at=timezone.now(),
        provider_message_id=result.message_id[:WAMID_LENGTH] if wamid is None else wamid,
        http_status=result.http_status, error_code=result.error_code,
        error_message=result.error_message if error is None else error,
        may_have_gone_out=status == S.UNKNOWN)


def _log_line(row: NotificationLog, result: SendResult, next_step: Next) -> None:
    username = row.recipient.get_username()
    channel = row.get_channel_display()
    where = f"({row.event}, ticket #{row.ticket_id})"
    if result.status == S.SENT:
        if row.channel == Channel.WHATSAPP:
            logger.info("📱 WhatsApp sent to %s: %s", username, result.message_id)
        else:
            logger.info("%s sent to %s %s", channel, username, where)
    elif result.status == S.SKIPPED:
        logger.info("%s to %s skipped %s: %s", channel, username, where, result.error_message)
    else:
        code = f" [code {result.error_code}]" if result.error_code else ""
        logger.warning("%s to %s %s %s%s: %s", channel, username,
                       "failed" if next_step == Next.NEVER else f"failed ({next_step.value})",
                       where, code, result.error_message)


# --- Email fallback -------------------------------------------------------------------------------


def _email_fallbacks(settled: list[tuple[Job, Next]]) -> list[int]:
    """With NOTIFICATION_EMAIL_FALLBACK: an email intent for each WhatsApp message that was
    skipped or refused for good (not a passing error, not one that may still arrive)."""
    if not settings.NOTIFICATION_EMAIL_FALLBACK or Channel.EMAIL in intents.channels():
        return []
    ids = []
    for job, next_step in settled:
        row = job.row
        gave_up = next_step == Next.NEVER or (next_step == Next.DONE and row.status == S.SKIPPED)
        if row.channel == Channel.WHATSAPP and gave_up and row.recipient.email:
            created = intents.email_intent(row)
            if created is not None:
                ids.append(created.pk)
    return ids

