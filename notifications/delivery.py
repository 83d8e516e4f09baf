"""Running one event's messages: all at once through a bounded pool, each retried only where that
cannot send twice and can help, and the whole batch bounded in time.

Nothing here touches the database; the caller writes one log row per attempt.
"""
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings

from notifications.clients import get_whatsapp_client
from notifications.clients.base import Failure, SendResult, Template, WhatsAppSender
from notifications.clients.email import EmailSender
from notifications.clients.whatsapp import MAX_CONNECT_TIMEOUT
from notifications.models import Channel, NotificationStatus

logger = logging.getLogger(__name__)

# Graph codes worth an immediate retry: Meta's own hiccup, and the per-second throughput cap.
RETRY_CODES = {"131000", "130429"}

OUT_OF_TIME = (
    "Not sent: the other messages of this event used up its time bound (WHATSAPP_TIMEOUT) before "
    "this one could start. Resend it."
)
NO_ANSWER_IN_TIME = (
    "No answer within the event's time bound. The message may or may not have gone out; check "
    "with the recipient before resending."
)


@dataclass
class Job:
    """One message to one person on one channel."""

    channel: Channel
    to: str
    text: str
    subject: str = ""
    template: Template | None = None
    # Appended to by the worker thread only. `outcome` is what the caller logs: the attempts
    # made, plus a last one for a send that had not finished when time ran out.
    attempts: list["Attempt"] = field(default_factory=list)
    outcome: list["Attempt"] = field(default_factory=list)
    in_flight: str = ""  # callback id of the attempt being sent right now


@dataclass(frozen=True)
class Attempt:
    callback_id: str
    result: SendResult


def should_retry(result: SendResult) -> bool:
    """Retry only what cannot have gone out or was refused for a passing reason.

    Never after a timeout or a broken connection (the message may already be on its way: Graph
    has no idempotency key), never for a permanent error.
    """
    if result.ok or result.failure in (Failure.OUTCOME_UNKNOWN, Failure.INTERNAL, None):
        return False
    if result.failure == Failure.NOT_SENT:
        return True
    if result.error_code in RETRY_CODES:
        return True
    return (result.http_status or 0) >= 500 and (not result.error_code or result.temporary)


def time_bound() -> float:
    """Seconds one event's sends may take in all: one send's connect and read timeouts, plus a
    second for the pool and quick retries."""
    timeout = settings.WHATSAPP_TIMEOUT
    return min(MAX_CONNECT_TIMEOUT, timeout) + timeout + 1


def run(
    jobs: list[Job],
    *,
    whatsapp: WhatsAppSender | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send every job, filling `job.outcome`; returns within time_bound() whatever happens."""
    if not jobs:
        return
    whatsapp = whatsapp or get_whatsapp_client()
    email = EmailSender()
    deadline = time.monotonic() + time_bound()
    for job in jobs:
        # Known before the job is queued, so even a send cut off mid-flight has a row that its
        # status webhooks can find.
        job.in_flight = uuid.uuid4().hex
    if len(jobs) == 1:
        _run_job(jobs[0], whatsapp, email, deadline, sleep)
        jobs[0].outcome = list(jobs[0].attempts) or [_late(jobs[0], started=False)]
        return
    pool = ThreadPoolExecutor(
        max_workers=min(len(jobs), settings.WHATSAPP_MAX_WORKERS), thread_name_prefix="notify"
    )
    futures = [
        pool.submit(_run_job, job, whatsapp, email, deadline, sleep) for job in jobs
    ]
    wait(futures, timeout=max(deadline - time.monotonic(), 0))
    pool.shutdown(wait=False, cancel_futures=True)
    for job, future in zip(jobs, futures):
        job.outcome = _outcome(job, future)


def retry_backoff() -> tuple[float, ...]:
    """Seconds to wait before each automatic retry (WHATSAPP_RETRY_BACKOFF, at most two)."""
    return tuple(float(s) for s in settings.WHATSAPP_RETRY_BACKOFF)[:2]


def _run_job(job: Job, whatsapp, email, deadline: float, sleep) -> None:
    per_attempt = min(MAX_CONNECT_TIMEOUT, settings.WHATSAPP_TIMEOUT) + settings.WHATSAPP_TIMEOUT
    backoffs = retry_backoff()
    for retry in range(len(backoffs) + 1):
        if time.monotonic() >= deadline:
            return  # the caller has stopped waiting: sending now would go unrecorded
        callback_id = job.in_flight = job.in_flight or uuid.uuid4().hex
        result = _send(job, whatsapp, email, callback_id)
        job.attempts.append(Attempt(callback_id, result))
        job.in_flight = ""
        if retry == len(backoffs) or not should_retry(result):
            return
        backoff = backoffs[retry]
        # Only retry when a whole further attempt still fits in the event's time bound.
        if time.monotonic() + backoff + per_attempt > deadline:
            return
        sleep(backoff)


def _send(job: Job, whatsapp, email, callback_id: str) -> SendResult:
    try:
        if job.channel == Channel.EMAIL:
            return email.send(to=job.to, subject=job.subject, body=job.text)
        if job.template is not None:
            return whatsapp.send_template(to=job.to, template=job.template, callback_data=callback_id)
        return whatsapp.send_text(to=job.to, body=job.text, callback_data=callback_id)
    except Exception as exc:  # a sender must never raise; if one does, the row still says so
        logger.exception("Notification sender raised instead of returning a result")
        return SendResult(
            status=NotificationStatus.FAILED,
            error_message=f"Internal error while sending ({type(exc).__name__}); see the server log.",
            failure=Failure.INTERNAL,
        )


def _outcome(job: Job, future: Future) -> list[Attempt]:
    """The attempts to log for a job; one that did not finish in time gets an honest last one."""
    made = list(job.attempts)  # a snapshot: a late worker may still append to job.attempts
    if future.done() and not future.cancelled():
        return made or [_late(job, started=False)]
    return [*made, _late(job, started=future.running())]


def _late(job: Job, *, started: bool) -> Attempt:
    if not started:
        result = SendResult(status=NotificationStatus.FAILED, error_message=OUT_OF_TIME,
                            temporary=True, failure=Failure.NOT_SENT)
        return Attempt("", result)
    result = SendResult(status=NotificationStatus.FAILED, error_message=NO_ANSWER_IN_TIME,
                        failure=Failure.OUTCOME_UNKNOWN)
    # Keep the in-flight attempt's callback id: if it did go out, its webhooks still find the row.
    return Attempt(job.in_flight, result)
