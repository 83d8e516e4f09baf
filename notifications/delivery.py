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
from datetime import timedelta
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from notifications import intents, pacing, template_state, templates
from notifications.clients import get_whatsapp_client
from notifications.clients.base import Failure, SendResult
from notifications.clients.email import EmailSender
from notifications.clients.whatsapp import MAX_CONNECT_TIMEOUT
from notifications.messages import email_subject
from notifications.models import REPLY, Channel, MessageType, NotificationLog, NotificationStatus
from notifications.outcomes import MAX_ATTEMPTS, THROUGHPUT, Job, Next, decide, outcome, record

logger = logging.getLogger("notifications.services")
S = NotificationStatus

# Seconds the first answer of a burst waits for the others before they are all written.
GATHER = 0.02
# Seconds: a row put back for at most this long is handed to the workers again for its moment.
HAND_BACK_WITHIN = 60
# Events one process sends at once at full width (gunicorn's threads, plus the recovery pass).
POOL_EVENTS = 4

NO_NUMBER = (
    "No WhatsApp number on profile. Add one in Django admin (Users → the user → User Profile) "
    "or with PATCH /api/auth/me/."
)
NO_EMAIL = "No email address on the user's account."
OUT_OF_TIME = (
    "Not sent yet: the other messages of this event used up its time bound before this one "
    "could start. deliver_pending_notifications sends it."
)
PACED = (
    "Not sent yet: the business number's pace (WHATSAPP_MAX_MESSAGES_PER_SECOND, or a pause after "
    "Meta's 130429) left no room before the time bound. It is tried again in a few seconds."
)
NO_ANSWER_IN_TIME = (
    "No answer within the event's time bound. The message may or may not have gone out; a "
    "delivery report will settle it. Check with the recipient before resending."
)


def one_send() -> float:
    """Seconds one send may take: its connect and read timeouts."""
    return min(MAX_CONNECT_TIMEOUT, settings.WHATSAPP_TIMEOUT) + settings.WHATSAPP_TIMEOUT


def time_bound() -> float:
    """Seconds one call may wait for its sends: one send, plus a second for the pool and quick
    retries; workers also wait for the business number's pace (up to a 130429 pause, twice)."""
    paced = 2 * pacing.PAUSE if settings.NOTIFICATION_DELIVERY == "celery" else 0
    return one_send() + 1 + paced


def retry_backoff() -> tuple[float, ...]:
    """Seconds to wait before each immediate retry (WHATSAPP_RETRY_BACKOFF, at most two)."""
    return tuple(float(s) for s in settings.WHATSAPP_RETRY_BACKOFF)[:2]


def dispatch(ids: list[int], *, known: Iterable[NotificationLog] = ()) -> None:
    """Have these notifications sent: here and now (NOTIFICATION_DELIVERY=inline), or by the
    Celery workers (celery). Either way deliver() below does the sending."""
    if not ids:
        return
    if settings.NOTIFICATION_DELIVERY == "celery":
        from notifications.tasks import enqueue  # Celery is only loaded where it is used

        enqueue(ids)
    else:
        deliver(ids, known=known)


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
    # Messages to the same people that waited for these (see _claim) may go once these are
    # settled: workers hand them on as each answer comes in, so one person's next message is on
    # its way while this call still waits for others; inline, this call sends them at its end.
    on_workers = settings.NOTIFICATION_DELIVERY == "celery"
    follow = (lambda done: dispatch(_next_in_line(done))) if on_workers else None
    settled = _send_all(jobs, sleep, follow)
    fallbacks = _email_fallbacks(settled)
    if fallbacks:
        _send_all(_claim(fallbacks), sleep)
    if on_workers:
        _hand_back([job for job, next_step in settled if next_step == Next.RETRY_LATER])
    else:
        dispatch(_next_in_line(jobs))
    # Lazy: the request path never reads it back; admin messages and tests do.
    return (NotificationLog.objects.filter(pk__in=[j.row.pk for j in jobs] + fallbacks)
            .select_related("recipient").order_by("pk"))


def _hand_back(jobs: list[Job]) -> None:
    """On workers, rows put back for a short wait (the number's pace, a 130429 pause) go to the
    broker again for that moment, a second late so that they are due when it comes. Longer waits
    are left to the recovery pass, which runs every minute anyway."""
    now = timezone.now()
    due = dict(NotificationLog.objects.filter(
        pk__in=[job.row.pk for job in jobs], status=S.QUEUED,
        next_attempt_at__lte=now + timedelta(seconds=HAND_BACK_WITHIN),
    ).values_list("pk", "next_attempt_at"))
    if due:
        from notifications.tasks import enqueue

        wait = max(due.values()) - now
        enqueue(sorted(due), countdown=wait.total_seconds() + 1)


def _claim(ids: list[int], known: dict[int, NotificationLog] | None = None) -> list[Job]:
    """QUEUED → SENDING under a claim of our own, at once."""
    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic():
        # Rows another claimer holds are skipped, not waited for: waiting on each other's rows
        # in different orders is how concurrent claimers deadlock.
        free = (NotificationLog.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids, status=S.QUEUED, next_attempt_at__lte=now)
                .exclude(Exists(_earlier_unsettled(now))).order_by("pk"))
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


def _earlier_unsettled(now):
    """An older notification to the same number or address, sending or due. One person's
    messages go out in the order they were written: a row waits while an older one to the same
    destination is on its way, and whoever settles that one sends it next. One waiting out a
    retry delay holds nothing back."""
    return NotificationLog.objects.filter(
        Q(status=S.SENDING) | Q(status=S.QUEUED, next_attempt_at__lte=now),
        channel=OuterRef("channel"), to=OuterRef("to"), pk__lt=OuterRef("pk")).exclude(to="")


def _next_in_line(jobs: list[Job]) -> list[int]:
    """For each destination just sent to, its oldest due QUEUED notification that was waiting."""
    sent_to = [job.row for job in jobs if job.row.to]
    if not sent_to:
        return []
    # Numbers and addresses never look alike, so matching each set is matching the pairs: one
    # short scan of the unsettled-rows index, not an OR per destination.
    # Not the rows just tried: one that is QUEUED again waits for its own next pass.
    return list(NotificationLog.objects.filter(
        channel__in={row.channel for row in sent_to}, to__in={row.to for row in sent_to},
        status=S.QUEUED, next_attempt_at__lte=timezone.now(),
    ).exclude(pk__in=[job.row.pk for job in jobs]).values("channel", "to")
        .annotate(first=Min("pk")).values_list("first", flat=True))


def _send_all(jobs: list[Job], sleep, follow=None) -> list[tuple[Job, Next]]:
    """Send every job at once; record answers as they come; stop waiting at the time bound."""
    # A template known not to be approved is not sent (one query, only for template messages).
    blocked = template_state.blocked() if any(
        job.row.message_type == MessageType.TEMPLATE for job in jobs) else {}
    senders = (get_whatsapp_client(), EmailSender(), blocked)
    deadline = time.monotonic() + time_bound()
    backoffs = retry_backoff()
    settled: list[tuple[Job, Next]] = []
    pool, waiting = _pool(), list(reversed(jobs))
    running: dict[Future, Job] = {}

    def top_up() -> None:  # at most WHATSAPP_MAX_WORKERS of this call's sends at once
        while waiting and len(running) < settings.WHATSAPP_MAX_WORKERS:
            job = waiting.pop()
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
                if result.error_code == THROUGHPUT:  # every sender of the number holds back
                    pacing.pacer().pause()
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
            settled += [(o.job, o.next_step) for o in outcomes]
            if follow is not None and outcomes:
                follow([o.job for o in outcomes])
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


def _send(row: NotificationLog, senders, deadline: float, backoff: float, sleep) -> SendResult:
    """One try (in a pool thread): never raises, never touches the database."""
    whatsapp, email, blocked = senders
    if backoff:
        sleep(backoff)
    if time.monotonic() >= deadline:
        return _late(started=False)
    if row.channel == Channel.WHATSAPP and row.to and not _slot(deadline, sleep):
        return SendResult(status=S.FAILED, error_message=PACED, temporary=True,
                          failure=Failure.PACED)
    try:
        if not row.to:
            return SendResult(status=S.SKIPPED,
                              error_message=NO_EMAIL if row.channel == Channel.EMAIL else NO_NUMBER)
        if row.channel == Channel.EMAIL:
            subject = email_subject(row.message, ticket_id=row.ticket_id)
            return email.send(to=row.to, subject=subject, body=row.message)
        if row.message_type == MessageType.TEMPLATE:
            if (row.template_name, row.template_language) in blocked:
                return SendResult(status=S.FAILED,
                                  error_message=blocked[row.template_name, row.template_language])
            return whatsapp.send_template(to=row.to, template=templates.stored(row),
                                          callback_data=row.callback_id)
        if row.message_type == MessageType.INTERACTIVE:
            return whatsapp.send_text(to=row.to, body=row.message, callback_data=row.callback_id,
                                      buttons=[tuple(button) for button in row.buttons])
        return whatsapp.send_text(to=row.to, body=row.message, callback_data=row.callback_id)
    except Exception as exc:  # a sender must never raise; if one does, the row still says so
        logger.exception("Notification sender raised instead of returning a result")
        return SendResult(
            status=S.FAILED, failure=Failure.INTERNAL,
            error_message=f"Internal error while sending ({type(exc).__name__}); it may or may not "
            "have gone out. See the server log.")


def _slot(deadline: float, sleep) -> bool:
    """Wait for this message's moment in the business number's pace, while the time bound leaves
    room to send it."""
    pacer = pacing.pacer()
    while True:
        delay, reserved = pacer.reserve()
        if delay > 0:
            if time.monotonic() + delay + one_send() > deadline:
                return False  # a reserved slot left unused only slows the others down a little
            sleep(delay)
        if reserved:
            return True


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
    if not settings.NOTIFICATION_EMAIL_FALLBACK or Channel.EMAIL in intents.channels():
        return []
    ids = []
    for job, next_step in settled:
        row = job.row
        gave_up = next_step == Next.NEVER or (next_step == Next.DONE and row.status == S.SKIPPED)
        # A reply answers a WhatsApp message: by email it would answer nothing.
        if row.channel == Channel.WHATSAPP and gave_up and row.recipient.email \
                and row.event != REPLY:
            created = intents.email_intent(row)
            if created is not None:
                ids.append(created.pk)
    return ids

