"""What an attempt's answer makes of its notification, and writing it down.

`decide` is the one place that says what follows an answer: done, retry now, retry later, never,
or unknown. `record` writes the answers that came in together onto the ledger in one statement
per table: this is the fan-out's hot path, so it is plain SQL rather than one ORM call per row.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import UserProfile
from accounts.services import identities_forget_elsewhere
from notifications import digests
from notifications.sending import Failure, Retry, SendResult
from notifications.models import (
    ARRIVED,
    DIGEST,
    WAMID_LENGTH,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationLog,
    NotificationStatus,
)

logger = logging.getLogger(__name__)
S = NotificationStatus

# Automatic tries per notification, immediate retries and later ones together; then FAILED.
MAX_ATTEMPTS = 5
# Seconds before a later try, by how many tries were made so far.
LATER = (30, 120, 600, 1800)
LONG_ID = "Graph's message id was longer than {limit} characters and is stored cut."


class Next(str, Enum):
    """What an attempt's answer means for the notification: the one place that decides retries."""

    DONE = "done"  # sent, or skipped on purpose
    RETRY_NOW = "retry now"  # nothing went out, or Meta asks for a moment: try again in this run
    RETRY_LATER = "retry later"  # a passing refusal: QUEUED again, due in a while
    NEVER = "never"  # refused for good: FAILED, with what to fix
    UNKNOWN = "unknown"  # it may have gone out: never resent blindly


def decide(result: SendResult) -> Next:
    """The next step after an answer, from what the channel read in it (notifications.channels)."""
    if result.status in (S.SENT, S.SKIPPED):
        return Next.DONE
    if result.failure in (Failure.OUTCOME_UNKNOWN, Failure.INTERNAL):
        return Next.UNKNOWN
    if result.failure == Failure.NOT_SENT:
        return Next.RETRY_NOW
    if result.failure == Failure.PACED:
        return Next.RETRY_LATER
    if result.failure == Failure.BAD_ANSWER and (result.http_status or 0) < 500:
        return Next.UNKNOWN  # a 2xx without a message id may have been accepted
    if result.retry is not None:  # the channel's class for its code (a 502 or 504: UNKNOWN)
        return BY_CLASS[result.retry]
    return Next.RETRY_LATER if result.temporary else Next.NEVER


BY_CLASS = {Retry.NOW: Next.RETRY_NOW, Retry.LATER: Next.RETRY_LATER, Retry.NEVER: Next.NEVER,
            Retry.UNKNOWN: Next.UNKNOWN}


@dataclass
class Job:
    """A claimed notification and its attempt in flight (recorded once its answer is in)."""

    row: NotificationLog
    claim: str
    started: datetime
    retries: int = 0


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


def outcome(job: Job, result: SendResult, next_step: Next, later: float | None = None) -> Outcome:
    wamid, note = result.message_id, ""
    if len(wamid) > WAMID_LENGTH:
        wamid, note = wamid[:WAMID_LENGTH], LONG_ID.format(limit=WAMID_LENGTH)
    # Waiting always clears these, and a send that never started was no try at all: they are
    # retried later however many tries they took (a row is never FAILED for being late).
    waits = result.rate_limited or result.failure in (Failure.PACED, Failure.NOT_SENT)
    if next_step == Next.RETRY_LATER and job.row.attempt_count >= MAX_ATTEMPTS and not waits:
        next_step = Next.NEVER
    if result.retry_after is not None and later is None:
        later = result.retry_after  # a pause every sender keeps (e.g. the number's pace)
    status = result.status if next_step == Next.DONE else OUTCOME_STATUS[next_step]
    error, due = result.error_message or note, None
    if status == S.QUEUED:
        delay = LATER[min(job.row.attempt_count, len(LATER)) - 1] if later is None else later
        due = timezone.now() + timedelta(seconds=delay)
        error = f"{error} Next try after {timezone.localtime(due):%H:%M:%S}."
    return Outcome(job, result, next_step, status, error, wamid, due)


def record(outcomes: list[Outcome], retries: list[tuple[Job, SendResult, float]]) -> None:
    """Write answers onto their attempts and notifications. An error here is logged with its
    traceback and left on the rows it concerns, which never stay silently SENDING."""
    if not outcomes and not retries:
        return
    own_transaction = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql" and own_transaction:
                # An answer's commit need not wait for the disk (a flush per event costs the
                # request milliseconds): if PostgreSQL itself crashed in that instant and lost it,
                # the row would still read SENDING, and the recovery pass would call it UNKNOWN,
                # which is true. Intents and claims always wait: losing one of those could tell
                # somebody twice, or not at all. (Never inside a caller's transaction: the
                # setting would cover all of it.)
                connection.cursor().execute("SET LOCAL synchronous_commit TO OFF")
            _write(outcomes, retries)
    except Exception as exc:  # noqa: BLE001  the rows must still say something
        logger.exception("Could not record the outcome of notifications %s",
                         [o.job.row.pk for o in outcomes] + [job.row.pk for job, _, _ in retries])
        jobs = [o.job for o in outcomes] + [job for job, _, _ in retries]
        # Each row only while it is still under the claim its sender took (a loop that claims
        # again as answers come gathers answers of several claims into one batch).
        ours = Q()
        for job in jobs:
            ours |= Q(pk=job.row.pk, claim=job.claim)
        NotificationLog.objects.filter(ours, status=S.SENDING).update(
            status=S.UNKNOWN, may_have_been_sent=True,
            error_message=f"The answer could not be recorded ({type(exc).__name__}); the "
            "message may have gone out. See the server log.")
        retries.clear()  # never send again what could not be recorded
        return
    for o in outcomes:
        _log_line(o.job.row, o.result, o.next_step)
    # A digest's answer is every row it covers.
    digests.follow([o.job.row.pk for o in outcomes if o.job.row.event == DIGEST])
    _learn_wa_ids(outcomes)


def _learn_wa_ids(outcomes: list[Outcome]) -> None:
    """Keep the WhatsApp ID Meta answered with when it is not the number we sent to, so that the
    person's own messages (which come from that ID) are recognised. Only while the profile still
    holds that number: an answer about an old number teaches the new one nothing."""
    for o in outcomes:
        row, wa_id = o.job.row, o.result.wa_id
        if wa_id and row.channel == Channel.WHATSAPP and wa_id != row.to.lstrip("+"):
            profile = UserProfile.objects.filter(user_id=row.recipient_id, whatsapp_number=row.to)
            if profile.exclude(whatsapp_wa_id=wa_id[:32]).update(whatsapp_wa_id=wa_id[:32]):
                identities_forget_elsewhere(profile_id=profile.values_list("pk", flat=True)[0],
                                            wa_id=wa_id[:32])


def _write(outcomes: list[Outcome], retries: list[tuple[Job, SendResult, float]]) -> None:
    now = timezone.now()
    attempts = [_attempt(o.job, o.result, S.FAILED if o.status == S.QUEUED else o.status,
                         o.wamid, o.error, now) for o in outcomes]
    attempts += [_attempt(job, result, S.FAILED, result.message_id[:WAMID_LENGTH],
                          result.error_message, now) for job, result, _ in retries]
    with connection.cursor() as cursor:
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


def _attempt(job: Job, result: SendResult, status: str, wamid: str, error: str, now) -> tuple:
    return (job.row.pk, job.row.attempt_count, status, job.started, now, wamid,
            result.http_status, result.error_code, error, status == S.UNKNOWN, result.fbtrace_id,
            result.error_subcode)


# Plain SQL, one statement for all the answers gathered: this is the fan-out's hot path, where
# the ORM's per-row statements (or CASE expressions) cost more CPU than the sends themselves.

ATTEMPT_COLUMNS = ("notification_id", "number", "status", "started_at", "finished_at",
                   "provider_message_id", "http_status", "error_code", "error_message",
                   "may_have_gone_out", "fbtrace_id", "error_subcode")


def _add_attempts(attempts: list[tuple]) -> tuple[str, list]:
    """Insert the attempts; an answer that comes after the recovery pass gave up on it replaces
    the attempt the pass wrote in its stead (same number) instead of colliding with it, which
    would roll back, and lose, the answer."""
    rows = ", ".join(["(" + ", ".join(["%s"] * len(ATTEMPT_COLUMNS)) + ")"] * len(attempts))
    updated = ", ".join(f"{column} = excluded.{column}" for column in ATTEMPT_COLUMNS[2:])
    return (f"INSERT INTO {DeliveryAttempt._meta.db_table} ({', '.join(ATTEMPT_COLUMNS)}) "
            f"VALUES {rows} ON CONFLICT (notification_id, number) DO UPDATE SET {updated}",
            [value for row in attempts for value in row])


def sql_cast(column: str, pg_type: str) -> str:
    # PostgreSQL types a VALUES column from its values: all NULL would make it text.
    return f"CAST({column} AS {pg_type})" if connection.vendor == "postgresql" else column


def _settle(outcomes: list[Outcome], now) -> tuple[str, list]:
    """Each row still ours (SENDING under the claim its sender took, `owner`: answers of several
    claims may come in one batch; or UNKNOWN: the recovery pass gave up on us, and now we know)
    takes its answer. What Meta's webhooks said while we waited outranks
    it: an arrival makes it SENT; a failure report about this very message (same wamid, or none
    known) makes it FAILED."""
    arrived = "n.delivery_status IN ({})".format(", ".join(f"'{step}'" for step in ARRIVED))
    reported_failed = (f"n.delivery_status = '{DeliveryStatus.FAILED}' AND "
                       "(v.wamid = '' OR n.provider_message_id IN ('', v.wamid))")
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(outcomes))
    values = []
    for o in outcomes:
        values += [o.job.row.pk, o.job.claim, o.status, o.result.error_code, o.error,
                   o.result.http_status, o.status == S.UNKNOWN, o.due,
                   "" if o.status == S.QUEUED else o.job.claim, o.wamid,
                   now if o.status == S.SENT else None, o.result.wa_id[:32],
                   o.result.message_status[:40]]
    sql = f"""
WITH v (id, owner, status, code, error, http, unknown, due, claim, wamid, sent_at, wa_id, held)
    AS (VALUES {rows})
UPDATE {NotificationLog._meta.db_table} AS n
SET status = CASE WHEN {arrived} THEN '{S.SENT}' WHEN {reported_failed} THEN '{S.FAILED}'
                  ELSE v.status END,
    error_code = CASE WHEN {arrived} THEN '' WHEN {reported_failed} THEN n.error_code
                      ELSE v.code END,
    error_message = CASE WHEN {arrived} THEN '' WHEN {reported_failed} THEN n.error_message
                         ELSE v.error END,
    http_status = {sql_cast("v.http", "smallint")},
    may_have_been_sent = v.unknown,
    next_attempt_at = {sql_cast("v.due", "timestamptz")},
    claim = v.claim,
    provider_message_id = CASE WHEN v.wamid = '' THEN n.provider_message_id ELSE v.wamid END,
    sent_at = COALESCE({sql_cast("v.sent_at", "timestamptz")}, n.sent_at),
    wa_id = CASE WHEN v.wa_id = '' THEN n.wa_id ELSE v.wa_id END,
    message_status = CASE WHEN v.held = '' THEN n.message_status ELSE v.held END
FROM v
WHERE n.id = v.id AND n.claim = v.owner AND n.status IN ('{S.SENDING}', '{S.UNKNOWN}')"""
    return sql, values


def _log_line(row: NotificationLog, result: SendResult, next_step: Next) -> None:
    ticket = f", ticket #{row.ticket_id}" if row.ticket_id else ""
    who, where = row.addressee, f"({row.event}{ticket})"
    if result.status == S.SENT and row.channel == Channel.WHATSAPP:
        logger.info("📱 WhatsApp sent to %s: %s", who, result.message_id)
    elif result.status in (S.SENT, S.SKIPPED):
        logger.info("%s to %s %s %s: %s", row.get_channel_display(), who, result.status.lower(),
                    where, result.error_message or "ok")
    else:
        code = f" [code {result.error_code}]" if result.error_code else ""
        what = "failed" if next_step == Next.NEVER else f"failed ({next_step.value})"
        logger.warning("%s to %s %s %s%s: %s", row.get_channel_display(), who, what, where,
                       code, result.error_message)
