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
from contextlib import contextmanager, nullcontext
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
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
# Seconds an answer may wait for others landing with it, to be written together.
GATHER = 0.01
# Events one process sends at once at full width (gunicorn's threads, plus the recovery pass).
POOL_EVENTS = 4
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
    """A claimed notification and its attempt in flight (recorded once its answer is in)."""

    row: NotificationLog
    claim: str
    started: datetime
    retries: int = 0


def deliver(ids: Iterable[int], *, known: Iterable[NotificationLog] = (),
            sleep: Callable[[float], None] = time.sleep) -> Iterable[NotificationLog]:
    """Send the due QUEUED notifications among `ids` that this call manages to claim.

    `known`: rows the caller has in hand, just written (the intents), so claiming them need not
    read them back. Returns within time_bound() whatever Graph does. Rows another process holds
    are left to it.
    """
    jobs = _claim(list(ids), {row.pk: row for row in known})
    if not jobs:
        return NotificationLog.objects.none()
    settled = _send_all(jobs, sleep)
    fallbacks = _email_fallbacks(settled)
    if fallbacks:
        _send_all(_claim(fallbacks), sleep)
    # Lazy: the request path never reads it back; admin messages and tests do.
    return (NotificationLog.objects.filter(pk__in=[j.row.pk for j in jobs] + fallbacks)
            .select_related("recipient").order_by("pk"))


def _claim(ids: list[int], known: dict[int, NotificationLog] | None = None) -> list[Job]:
    """QUEUED → SENDING under a claim of our own, at once."""
    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        # Rows another claimer holds are skipped, not waited for: waiting on each other's rows
        # in different orders is how concurrent claimers deadlock.
        free = (NotificationLog.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids, status=S.QUEUED, next_attempt_at__lte=now).order_by("pk"))
        if known and set(ids) <= set(known):
            rows = [known[pk] for pk in free.values_list("pk", flat=True)]
        else:
            rows = list(free.select_related("recipient"))
        NotificationLog.objects.filter(pk__in=[row.pk for row in rows], status=S.QUEUED).update(
            status=S.SENDING, claim=token, claimed_at=now, attempt_count=F("attempt_count") + 1)
    for row in rows:
        row.status, row.claim, row.claimed_at = S.SENDING, token, now
        row.attempt_count += 1
    return [Job(row, token, now) for row in rows]


def _send_all(jobs: list[Job], sleep) -> list[tuple[Job, Next]]:
    """Send every job at once; record answers as they come; stop waiting at the time bound."""
    whatsapp, email = get_whatsapp_client(), EmailSender()
    deadline = time.monotonic() + time_bound()
    backoffs = retry_backoff()
    settled: list[tuple[Job, Next]] = []
    pool, waiting = _pool(), list(reversed(jobs))
    running: dict[Future, Job] = {}

    def top_up() -> None:  # at most WHATSAPP_MAX_WORKERS of this call's sends at once
        while waiting and len(running) < settings.WHATSAPP_MAX_WORKERS:
            job = waiting.pop()
            running[pool.submit(_send, job.row, whatsapp, email, deadline, 0.0, sleep)] = job

    top_up()
    try:
        while running:
            done, _ = wait(running, timeout=max(deadline - time.monotonic(), 0),
                           return_when=FIRST_COMPLETED)
            if not done:
                break
            if len(done) < len(running):
                # Answers to sends made together land together: gather the ones landing now
                # and write them in one go, instead of fighting the pool's threads for the GIL
                # once per answer.
                done, _ = wait(running, timeout=min(GATHER, max(deadline - time.monotonic(), 0)))
            outcomes, retries = [], []
            for future in done:
                job = running.pop(future)
                result = future.result()
                next_step = decide(result)
                backoff = backoffs[job.retries] if job.retries < len(backoffs) else None
                if next_step == Next.RETRY_NOW and backoff is not None \
                        and _fits(backoff, deadline) and job.row.attempt_count < MAX_ATTEMPTS:
                    retries.append((job, result, backoff))
                    continue
                if next_step == Next.RETRY_NOW:
                    next_step = Next.RETRY_LATER
                outcomes.append(_outcome(job, result, next_step))
            # What came in together is written together: one transaction, whatever the count.
            _record(outcomes, retries)
            settled += [(o.job, o.next_step) for o in outcomes]
            for job, _, backoff in retries:
                running[pool.submit(_send, job.row, whatsapp, email, deadline, backoff, sleep)] = job
            top_up()
    finally:
        late = []
        for future, job in running.items():
            # Cancelled: it never started, so nothing went out. Otherwise it is on its way.
            started = not future.cancel()
            next_step = Next.UNKNOWN if started else Next.RETRY_LATER
            late.append(_outcome(job, _late(started), next_step, later=0))
        late += [_outcome(job, _late(False), Next.RETRY_LATER, later=0) for job in waiting]
        _record(late, [])
        settled += [(o.job, o.next_step) for o in late]
    return settled


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """The process's sending threads, kept between requests (starting 20 threads per event
    costs the fan-out more than it should). Sized for a few events at once; a send stuck past
    the time bound holds one thread, never a new one per event."""
    size = settings.WHATSAPP_MAX_WORKERS * POOL_EVENTS
    if size not in _pools:
        _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="notify")
    return _pools[size]


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

OUTCOME_STATUS = {Next.UNKNOWN: S.UNKNOWN, Next.NEVER: S.FAILED, Next.RETRY_LATER: S.QUEUED}


@dataclass
class Outcome:
    """What one attempt's answer makes of its notification."""

    job: Job
    result: SendResult
    next_step: Next
    status: str
    error: str
    wamid: str
    due: datetime | None


def _outcome(job: Job, result: SendResult, next_step: Next, later: int | None = None) -> Outcome:
    wamid, note = result.message_id, ""
    if len(wamid) > WAMID_LENGTH:
        wamid, note = wamid[:WAMID_LENGTH], LONG_ID.format(limit=WAMID_LENGTH)
    if next_step == Next.RETRY_LATER and job.row.attempt_count >= MAX_ATTEMPTS:
        next_step = Next.NEVER
    status = result.status if next_step == Next.DONE else OUTCOME_STATUS[next_step]
    error, due = result.error_message or note, None
    if status == S.QUEUED:
        delay = LATER[min(job.row.attempt_count, len(LATER)) - 1] if later is None else later
        due = timezone.now() + timedelta(seconds=delay)
        error = f"{error} Next try after {timezone.localtime(due):%H:%M:%S}."
    return Outcome(job, result, next_step, status, error, wamid, due)


def _record(outcomes: list[Outcome], retries: list[tuple[Job, SendResult, float]]) -> None:
    """Write answers onto their attempts and notifications. An error here is logged with its
    traceback and left on the rows it concerns, which never stay silently SENDING."""
    if not outcomes and not retries:
        return
    try:
        # Inside a caller's transaction, a savepoint keeps a failed write from spoiling it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            _write(outcomes, retries)
    except Exception as exc:  # noqa: BLE001  the rows must still say something
        logger.exception("Could not record the outcome of notifications %s",
                         [o.job.row.pk for o in outcomes] + [job.row.pk for job, _, _ in retries])
        jobs = [o.job for o in outcomes] + [job for job, _, _ in retries]
        NotificationLog.objects.filter(
            pk__in=[job.row.pk for job in jobs], claim=jobs[0].claim, status=S.SENDING,
        ).update(status=S.UNKNOWN, may_have_been_sent=True,
                 error_message=f"The answer could not be recorded ({type(exc).__name__}); the "
                 "message may have gone out. See the server log.")
        retries.clear()  # never send again what could not be recorded
        return
    for o in outcomes:
        _log_line(o.job.row, o.result, o.next_step)


def _write(outcomes: list[Outcome], retries: list[tuple[Job, SendResult, float]]) -> None:
    now = timezone.now()
    attempts = [_attempt(o.job, o.result, S.FAILED if o.status == S.QUEUED else o.status,
                         o.wamid, o.error, now) for o in outcomes]
    attempts += [_attempt(job, result, S.FAILED, result.message_id[:WAMID_LENGTH],
                          result.error_message, now) for job, result, _ in retries]
    with connection.cursor() as cursor, _answers_transaction(cursor):
        cursor.execute(*_add_attempts(attempts))
        if outcomes:
            cursor.execute(*_settle(outcomes, now))
        if retries:
            NotificationLog.objects.filter(pk__in=[job.row.pk for job, _, _ in retries]).update(
                attempt_count=F("attempt_count") + 1)
    for o in outcomes:
        o.job.row.status, o.job.row.error_message = o.status, o.error
    for job, _, _ in retries:
        job.retries += 1
        job.row.attempt_count += 1
        job.started = now


@contextmanager
def _answers_transaction(cursor):
    """On PostgreSQL, outside any transaction of the caller's: the writes travel in one pipeline
    (one round trip) inside a transaction whose commit does not wait for the disk. Were
    PostgreSQL itself to crash in that instant and lose it, the row would still read SENDING and
    the recovery pass would call it UNKNOWN, which is true. Claims and intents always wait for
    the disk: losing one of those could send a message twice, or not at all."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    try:
        with connection.connection.pipeline():
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield
            cursor.execute("COMMIT")
    except Exception:
        cursor.execute("ROLLBACK")  # or the connection stays in the failed transaction
        raise


def _attempt(job: Job, result: SendResult, status: str, wamid: str, error: str, now) -> tuple:
    return (job.row.pk, job.row.attempt_count, status, job.started, now, wamid,
            result.http_status, result.error_code, error, status == S.UNKNOWN)


# Plain SQL, one statement run for many rows: this is the fan-out's hot path, and the ORM's
# per-row CASE expressions cost more CPU than the sends themselves.
# Plain SQL, one statement for all the answers gathered: this is the fan-out's hot path, where
# the ORM's per-row statements (or CASE expressions) cost more CPU than the sends themselves.

def _add_attempts(attempts: list[tuple]) -> tuple[str, list]:
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(attempts))
    return (f"INSERT INTO {DeliveryAttempt._meta.db_table} (notification_id, number, status, "
            "started_at, finished_at, provider_message_id, http_status, error_code, error_message, "
            f"may_have_gone_out) VALUES {rows}", [value for row in attempts for value in row])


def _cast(column: str, pg_type: str) -> str:
    # PostgreSQL types a VALUES column from its values: all NULL would make it text.
    return f"CAST({column} AS {pg_type})" if connection.vendor == "postgresql" else column


def _settle(outcomes: list[Outcome], now) -> tuple[str, list]:
    """Each row still ours (SENDING under our claim; or UNKNOWN: the recovery pass gave up on
    us, and now we know) takes its answer. What Meta's webhooks said while we waited outranks
    it: an arrival makes it SENT; a failure report about this very message (same wamid, or none
    known) makes it FAILED."""
    arrived = "n.delivery_status IN ({})".format(", ".join(f"'{step}'" for step in ARRIVED))
    reported_failed = (f"n.delivery_status = '{DeliveryStatus.FAILED}' AND "
                       "(v.wamid = '' OR n.provider_message_id IN ('', v.wamid))")
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(outcomes))
    values = []
    for o in outcomes:
        values += [o.job.row.pk, o.status, o.result.error_code, o.error, o.result.http_status,
                   o.status == S.UNKNOWN, o.due, "" if o.status == S.QUEUED else o.job.claim,
                   o.wamid, now if o.status == S.SENT else None]
    sql = f"""
WITH v (id, status, code, error, http, unknown, due, claim, wamid, sent_at) AS (VALUES {rows})
UPDATE {NotificationLog._meta.db_table} AS n
SET status = CASE WHEN {arrived} THEN '{S.SENT}' WHEN {reported_failed} THEN '{S.FAILED}'
                  ELSE v.status END,
    error_code = CASE WHEN {arrived} THEN '' WHEN {reported_failed} THEN n.error_code
                      ELSE v.code END,
    error_message = CASE WHEN {arrived} THEN '' WHEN {reported_failed} THEN n.error_message
                         ELSE v.error END,
    http_status = {_cast("v.http", "smallint")},
    may_have_been_sent = v.unknown,
    next_attempt_at = {_cast("v.due", "timestamptz")},
    claim = v.claim,
    provider_message_id = CASE WHEN v.wamid = '' THEN n.provider_message_id ELSE v.wamid END,
    sent_at = COALESCE({_cast("v.sent_at", "timestamptz")}, n.sent_at)
FROM v
WHERE n.id = v.id AND n.claim = %s AND n.status IN ('{S.SENDING}', '{S.UNKNOWN}')"""
    return sql, values + [outcomes[0].job.claim]


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

