"""Delivering notifications: one loop over ledger rows, which any process may run.

claim (QUEUED → SENDING, one conditional update) → send them all at once, bounded in time →
record each attempt the moment its answer is in → SENT, FAILED, SKIPPED or UNKNOWN, or QUEUED
again for a later try → claim again. Two doors lead in:

- `deliver(ids)`: a request (or an admin resend) sends its own rows, at once, within one deadline,
  and nothing else: never another request's rows, never waiting behind them.
- `drain()`: workers and the recovery pass claim the oldest due row of each destination, as many
  as they have slots, and claim again as answers come, until nothing is due or the deadline
  comes. One person's messages go out in the order they were written.

Only the calling thread touches the database; the pool's threads only send. Two processes never
send the same row, and one that dies leaves rows that say so (the recovery pass turns an abandoned
SENDING row into UNKNOWN). Nothing here calls itself or hands work on one message at a time.
"""
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from Incident import deferred
from notifications import channels, intents
from notifications.models import DIGEST, REPLY, Channel, NotificationLog, NotificationStatus
from notifications.outcomes import MAX_ATTEMPTS, Job, Next, decide, outcome, record
from notifications.sending import Failure, SendResult

logger = logging.getLogger(__name__)
S = NotificationStatus

# Seconds the first answer of a burst waits for the others before they are all written.
GATHER = 0.02
# Events one process sends at once at full width (gunicorn's threads, plus the recovery pass).
POOL_EVENTS = 4
# At most this many waiting rows are named in the tasks a finishing worker sends on.
PASS_ON = 500

OUT_OF_TIME = (
    "Not sent yet: the other messages of this event used up its time bound before this one "
    "could start. deliver_pending_notifications sends it."
)
NO_ANSWER_IN_TIME = (
    "No answer within the event's time bound. The message may or may not have gone out; a "
    "delivery report will settle it. Check with the recipient before resending."
)


def one_send() -> float:
    """Seconds one send may take on the slowest channel: its connect and read timeouts."""
    return max((channel.send_time() for channel in channels.every()), default=0.0)


def longest_pause() -> float:
    """Seconds the longest of the channels' rate-limit pauses lasts."""
    return max((channel.pause() for channel in channels.every()), default=0.0)


def time_bound() -> float:
    """Seconds one call may wait for its sends: one send, plus a second for the pool and quick
    retries; workers also wait for a channel's pace (up to a rate-limit pause, twice)."""
    pause = longest_pause()
    paced = 2 * pause if settings.NOTIFICATION_DELIVERY == "celery" else 0
    return one_send() + 1 + paced


def retry_backoff() -> tuple[float, ...]:
    """Seconds to wait before each immediate retry (WHATSAPP_RETRY_BACKOFF, at most two)."""
    return tuple(float(s) for s in settings.WHATSAPP_RETRY_BACKOFF)[:2]


def dispatch(ids: list[int], *, known: Iterable[NotificationLog] = ()) -> None:
    """Have these notifications sent: after the caller's own work when it deferred them (a
    webhook, an admin bulk action), by the Celery workers (celery), or here and now (inline)."""
    if not ids or deferred.defer(dispatch, list(ids)):
        return
    if settings.NOTIFICATION_DELIVERY == "celery":
        tell_workers(ids)
    else:
        deliver(ids, known=known)


# The workers' task (notifications.tasks), sent by name: the sender needs no more of it.
DRAIN_TASK = "notifications.tasks.deliver_notifications"


def tell_workers(ids: list[int]) -> bool:
    """Tell the workers there is work: a task per WHATSAPP_MAX_WORKERS rows, so that as many
    workers drain as there is work for (each carries its ids for the log only). A broker that does
    not answer never fails the ticket change that wrote them: they stay QUEUED, and the recovery
    pass sends them."""
    from kombu.utils.url import maybe_sanitize_url

    from Incident.celery import app

    size = settings.WHATSAPP_MAX_WORKERS
    for start in range(0, len(ids), size):
        try:
            app.send_task(DRAIN_TASK, args=(list(ids[start:start + size]),), retry=False)
        except Exception as exc:  # kombu's OperationalError, redis' errors, a bad URL
            logger.warning(
                "Could not hand %d notification(s) to the Celery broker at %s (%s: %s); they stay "
                "QUEUED and the recovery pass (Celery beat, or deliver_pending_notifications) "
                "sends them.", len(ids) - start, maybe_sanitize_url(app.conf.broker_url),
                type(exc).__name__, exc)
            return False
    return True


def deliver(ids: Iterable[int], *, known: Iterable[NotificationLog] = (),
            sleep: Callable[[float], None] = time.sleep) -> Iterable[NotificationLog]:
    """Send the due QUEUED notifications among `ids` (the caller's own) that this call manages to
    claim, all at once, email fallbacks included, within one time_bound().

    `known`: rows the caller has in hand, just written (the intents), so claiming them need not
    read them back. Rows another process holds are left to it; no other row is touched.
    """
    deadline = time.monotonic() + time_bound()
    return _send_own(_claim(list(ids), {row.pk: row for row in known}), sleep, deadline)


def deliver_claimed(claim: str, *, sleep: Callable[[float], None] = time.sleep
                    ) -> Iterable[NotificationLog]:
    """Send the rows the caller has just claimed (moved to SENDING under `claim` in its own
    conditional update, as a resend does), like deliver()."""
    deadline = time.monotonic() + time_bound()
    rows = NotificationLog.objects.filter(claim=claim, status=S.SENDING).select_related("recipient")
    return _send_own([Job(row, claim, row.claimed_at) for row in rows.order_by("pk")], sleep,
                     deadline)


def _send_own(jobs: list[Job], sleep, deadline: float) -> Iterable[NotificationLog]:
    if not jobs:
        return NotificationLog.objects.none()
    settled = _send_all(jobs, sleep, deadline)
    fallbacks = _email_fallbacks(settled)
    if fallbacks:
        _send_all(_claim(fallbacks), sleep, deadline)
    # Lazy: the request path never reads it back; admin messages and tests do.
    return (NotificationLog.objects.filter(pk__in=[j.row.pk for j in jobs] + fallbacks)
            .select_related("recipient").order_by("pk"))


def drain(*, sleep: Callable[[float], None] = time.sleep, bound: float | None = None,
          limit: int | None = None) -> list[NotificationLog]:
    """The loop of workers and the recovery pass: claim the oldest due row of each destination,
    as many as there are free slots, send, settle each answer as it comes and claim again, until
    nothing is due, `limit` rows were claimed, or `bound` seconds (time_bound()) have passed.
    A row put back for a moment (the number's pace) is waited for while the bound allows.
    Returns every row it settled."""
    deadline = time.monotonic() + (time_bound() if bound is None else bound)
    claimed: list[int] = []

    def more(slots: int) -> list[Job]:
        room = slots if limit is None else min(slots, limit - len(claimed))
        if room <= 0 or deadline - time.monotonic() < one_send():
            return []  # a row claimed now could not be sent in time: leave it QUEUED
        jobs = _claim_due(room)
        claimed.extend(job.row.pk for job in jobs)
        return jobs

    waited = False
    while True:
        settled = _send_all([], sleep, deadline, more)
        fallbacks = _email_fallbacks(settled)
        if fallbacks:
            claimed.extend(fallbacks)
            _send_all(_claim(fallbacks), sleep, deadline)
        if limit is not None and len(claimed) >= limit or (waited and not settled):
            break  # done, or what it waited for went to another process
        waited = _wait_for_due(deadline, sleep)
        if not waited:
            break
    if claimed and settings.NOTIFICATION_DELIVERY == "celery":
        _pass_on()
    return list(NotificationLog.objects.filter(pk__in=claimed).select_related("recipient")
                .order_by("pk"))


_draining, _again = threading.Lock(), threading.Event()


def drain_once_here(**kwargs) -> None:
    """A worker's task: drain, unless this process is draining already. Then the running drain
    goes once more before it stops, since it claims whatever is due, not only what prompted the
    task. One drain per process keeps up to WHATSAPP_MAX_WORKERS sends in flight; more would only
    poll the same rows (each destination sends one message at a time) and take the cores the
    sends and the database need."""
    _again.set()
    while _draining.acquire(blocking=False):
        try:
            while _again.is_set():
                _again.clear()
                drain(**kwargs)
        finally:
            _draining.release()
        if not _again.is_set():
            return  # a task that came while the lock was held has set it: then go again


def _pass_on() -> None:
    """A worker whose drain made progress and ends with rows still due within a time bound (put
    back for the pace, or held behind a row it just settled) tells the workers there is work.
    Only progress passes work on, so no chain of empty tasks can form; longer waits are the
    recovery pass's."""
    soon = timezone.now() + timedelta(seconds=time_bound())
    left = list(NotificationLog.objects.filter(status=S.QUEUED, next_attempt_at__lte=soon)
                .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:PASS_ON])
    if left:
        tell_workers(left)


def _wait_for_due(deadline: float, sleep) -> bool:
    """Sleep until the next QUEUED row is due, if that leaves time to send it; False when none
    is, none in time, or one is due already and still unclaimed (another process's, or held
    behind an earlier one)."""
    soon = (NotificationLog.objects.filter(status=S.QUEUED)
            .aggregate(first=Min("next_attempt_at"))["first"])
    if soon is None:
        return False
    wait = (soon - timezone.now()).total_seconds()
    if wait <= 0 or time.monotonic() + wait + one_send() > deadline:
        return False
    sleep(wait)
    return True


TABLE = NotificationLog._meta.db_table


def _claim(ids: list[int], known: dict[int, NotificationLog] | None = None) -> list[Job]:
    """These rows, QUEUED → SENDING under a claim of our own, at once: those due and free."""
    if not ids:
        return []
    now, marks = timezone.now(), ", ".join(["%s"] * len(ids))
    jobs = _take(f"c.id IN ({marks}) AND c.status = %s AND c.next_attempt_at <= %s",
                 [*ids, S.QUEUED, _value(now)], "c.id", now,
                 known if known and set(ids) <= set(known) else None)
    return sorted(jobs, key=lambda job: job.row.pk)


def _claim_due(slots: int) -> list[Job]:
    """Up to `slots` due rows, each the oldest unsettled one of its destination."""
    # An older notification to the same number or address, sending, due, or put back for a
    # moment (the number's pace: it never reached Graph), holds it back: on the drain, one
    # person's messages go out in the order they were written. One waiting out a longer retry
    # delay holds nothing back.
    now = timezone.now()
    pause = longest_pause()
    earlier = (f'SELECT 1 FROM {TABLE} e WHERE e.channel = c.channel AND e."to" = c."to" '
               """AND e."to" <> '' AND e.id < c.id AND (e.status = %s OR """
               "(e.status = %s AND e.next_attempt_at <= %s))")
    jobs = _take(f"c.status = %s AND c.next_attempt_at <= %s AND NOT EXISTS ({earlier})",
                 [S.QUEUED, _value(now), S.SENDING, S.QUEUED,
                  _value(now + timedelta(seconds=pause + 1))],
                 "c.next_attempt_at, c.id", now, None, limit=slots)
    return sorted(jobs, key=lambda job: (job.row.next_attempt_at, job.row.pk))


def _take(where: str, params: list, order: str, now, known: dict[int, NotificationLog] | None,
          limit: int | None = None) -> list[Job]:
    """Claim the rows `where` picks (as `c`), in one statement: rows another claimer holds are
    skipped, not waited for (waiting on each other's rows in different orders is how concurrent
    claimers deadlock), and a row is claimed only while it is still QUEUED."""
    token = uuid.uuid4().hex
    lock = " FOR UPDATE OF c SKIP LOCKED" if connection.vendor == "postgresql" else ""
    most = " LIMIT %s" if limit is not None else ""
    sql = (f"UPDATE {TABLE} SET status = %s, claim = %s, claimed_at = %s, "
           "attempt_count = attempt_count + 1 WHERE status = %s AND id IN "
           f"(SELECT c.id FROM {TABLE} c WHERE {where} ORDER BY {order}{most}{lock}) RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.SENDING, token, _value(now), S.QUEUED, *params,
                             *([limit] if limit is not None else [])])
        pks = [pk for pk, in cursor.fetchall()]
    if known is not None:
        rows = [known[pk] for pk in pks]
        for row in rows:
            row.status, row.claim, row.claimed_at = S.SENDING, token, now
            row.attempt_count += 1
    else:
        rows = list(NotificationLog.objects.filter(pk__in=pks).select_related("recipient"))
    return [Job(row, token, now) for row in rows]


def _value(moment):
    """A time as the database takes it in a raw statement."""
    return connection.ops.adapt_datetimefield_value(moment)


def _send_all(jobs: list[Job], sleep, deadline: float,
              more: Callable[[int], list[Job]] | None = None) -> list[tuple[Job, Next]]:
    """Send every job at once, and with `more` whatever it claims as slots free up; record answers
    as they come; stop waiting at the deadline."""
    senders: dict[str, channels.Sender] = {}
    backoffs = retry_backoff()
    settled: list[tuple[Job, Next]] = []
    pool, waiting = _pool(), list(reversed(jobs))
    running: dict[Future, Job] = {}

    def top_up() -> None:  # at most WHATSAPP_MAX_WORKERS of this call's sends at once
        while len(running) < settings.WHATSAPP_MAX_WORKERS:
            if not waiting and more is not None:
                waiting.extend(reversed(more(settings.WHATSAPP_MAX_WORKERS - len(running))))
            if not waiting:
                return
            job = waiting.pop()
            if job.row.channel not in senders:
                senders[job.row.channel] = channels.get(job.row.channel).sender()
            senders[job.row.channel].ready(job.row)  # here, on the thread that may read the database
            running[pool.submit(_send, job.row, senders, deadline, 0.0, sleep)] = job

    top_up()
    try:
        while running:
            done, _ = wait(running, timeout=max(deadline - time.monotonic(), 0),
                           return_when=FIRST_COMPLETED)
            if not done:
                break
            if len(done) < len(running):
                # Sends made together are answered together: the answers landing within
                # GATHER of the first are written with it, in one statement, rather than each
                # fighting the pool's threads (busy reading the others) for the GIL.
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
                outcomes.append(outcome(job, result, next_step))
            # What came in together is written together: one transaction, whatever the count.
            record(outcomes, retries)
            # Reports the provider sent before these answers were in, by message id alone.
            _answered(outcomes)
            settled += [(o.job, o.next_step) for o in outcomes]
            for job, _, backoff in retries:
                running[pool.submit(_send, job.row, senders, deadline, backoff, sleep)] = job
            top_up()
    finally:
        late = []
        for future, job in running.items():
            # Cancelled: it never started, so nothing went out. Otherwise it is on its way.
            started = not future.cancel()
            next_step = Next.UNKNOWN if started else Next.RETRY_LATER
            late.append(outcome(job, _late(started), next_step, later=0))
        late += [outcome(job, _late(False), Next.RETRY_LATER, later=0) for job in waiting]
        record(late, [])
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
    return time.monotonic() + backoff + one_send() <= deadline


def _send(row: NotificationLog, senders: dict, deadline: float, backoff: float,
          sleep) -> SendResult:
    """One try (in a pool thread): never raises, never touches the database."""
    if backoff:
        sleep(backoff)
    if time.monotonic() >= deadline:
        return _late(started=False)
    try:
        return senders[row.channel].send(row, deadline=deadline, sleep=sleep)
    except Exception as exc:  # a sender must never raise; if one does, the row still says so
        logger.exception("Notification sender raised instead of returning a result")
        return SendResult(
            status=S.FAILED, failure=Failure.INTERNAL,
            error_message=f"Internal error while sending ({type(exc).__name__}); it may or may not "
            "have gone out. See the server log.")


def _answered(outcomes) -> None:
    by_channel: dict[str, list[str]] = {}
    for o in outcomes:
        if o.wamid:
            by_channel.setdefault(o.job.row.channel, []).append(o.wamid)
    for name, ids in by_channel.items():
        channels.get(name).answered(ids)


def _late(started: bool) -> SendResult:
    if started:
        return SendResult(status=S.FAILED, error_message=NO_ANSWER_IN_TIME,
                          failure=Failure.OUTCOME_UNKNOWN)
    return SendResult(status=S.FAILED, error_message=OUT_OF_TIME, temporary=True,
                      failure=Failure.NOT_SENT)


# --- Email fallback -------------------------------------------------------------------------------


def _email_fallbacks(settled: list[tuple[Job, Next]]) -> list[int]:
    """With NOTIFICATION_EMAIL_FALLBACK: an email intent for each WhatsApp message that was
    skipped or refused for good (not a passing error, not one that may still arrive)."""
    if not settings.NOTIFICATION_EMAIL_FALLBACK or Channel.EMAIL in intents.channel_names():
        return []
    ids = []
    for job, next_step in settled:
        row = job.row
        gave_up = next_step == Next.NEVER or (next_step == Next.DONE and row.status == S.SKIPPED)
        # A reply answers a WhatsApp message: by email it would answer nothing.
        if row.channel == Channel.WHATSAPP and gave_up and row.recipient and row.recipient.email \
                and row.event not in (REPLY, DIGEST):
            created = intents.email_intent(row)
            if created is not None:
                ids.append(created.pk)
    return ids

