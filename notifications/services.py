"""Telling people about ticket events, resending what did not get through, and recovering after a
crash. Every step moves ledger rows (notifications.models) by conditional updates.

A ticket change writes its notifications in its own transaction (notifications.intents) and sends
them once it commits (notifications.delivery); nothing here can fail or undo the ticket change.
"""
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.selectors import unproved
from Incident import counters, deferred
from notifications import channels, delivery, digests, intents, pages
from notifications.models import ARRIVED, Channel, DeliveryAttempt, NotificationLog, NotificationStatus
from tickets.models import TicketEvent
from tickets.escalation import timers

S = NotificationStatus
# A SENDING row whose sender has been silent this long is taken as abandoned (the process died):
# far above the longest a sender waits (time_bound(), 16 s by default).
LEASE = timedelta(minutes=5)
ABANDONED = (
    "The process sending this stopped before recording an answer (a crash or restart). The "
    "message may or may not have gone out; a delivery report will settle it. Check with the "
    "recipient before resending."
)


def schedule_ticket_notifications(ticket_event: TicketEvent) -> None:
    """Write the event's notifications now, in the caller's transaction; send them once it
    commits, never if it rolls back."""
    rows = intents.record(ticket_event)
    if rows:
        # `robust`: an unexpected error there is logged with its traceback, never turned into a
        # 500 for a committed ticket change; the rows stay QUEUED for the recovery pass.
        transaction.on_commit(_after_commit(rows), robust=True)


def schedule_reply(*, user, text: str, ticket=None, ticket_event=None, choices=(),
                   to: str = "") -> NotificationLog:
    """Answer what `user` wrote on WhatsApp (or, with `user` None, the number `to`): the reply is
    written in the caller's transaction and sent once it commits, like a ticket's notifications.
    `choices`: its buttons."""
    row = intents.reply(user=user, text=text, ticket=ticket, ticket_event=ticket_event,
                        choices=choices, to=to)
    transaction.on_commit(_after_commit([row]), robust=True)
    return row


def _after_commit(rows: list[NotificationLog]) -> Callable[[], None]:
    def deliver_ticket_notifications() -> None:  # a named function: Django logs its name
        delivery.dispatch([row.pk for row in rows], known=rows)

    return deliver_ticket_notifications


# --- Resending --------------------------------------------------------------------------------------


def resendable(*, include_uncertain: bool = False) -> Q:
    """The notifications a person may send again: refused or skipped ones, and with
    `include_uncertain` those that may have gone out; never one Meta reported as arrived, and
    never a WhatsApp message to someone who has sent STOP or whose number is not proved yet."""
    statuses = [S.FAILED, S.SKIPPED] + ([S.UNKNOWN] if include_uncertain else [])
    opted_out = Q(channel=Channel.WHATSAPP, recipient__profile__whatsapp_opted_out_at__isnull=False)
    not_proved = Q(channel=Channel.WHATSAPP) & unproved("recipient__profile__")
    return Q(status__in=statuses) & ~Q(delivery_status__in=ARRIVED) & ~opted_out & ~not_proved


def resend(
    rows: Iterable[NotificationLog],
    *,
    include_uncertain: bool = False,
    include_final: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[NotificationLog]:
    """Send the chosen notifications again, each as a new attempt of the same row: here and now
    (inline), or by the workers (celery). Rows that failed with a code no resend can cure are
    left out unless `include_final` (someone named that code).

    Each row is taken again only if it is still as it was read (same status, same number of
    attempts), in one conditional update: of two people resending at once, exactly one sends.
    Inline, that update claims the row for this call (SENDING), so no other claimer can come
    between; with workers it queues it.
    """
    allowed = resendable(include_uncertain=include_uncertain)
    if not include_final:
        allowed &= ~Q(error_code__in=channels.final_codes())
    now, claim = timezone.now(), uuid.uuid4().hex
    inline = settings.NOTIFICATION_DELIVERY != "celery"
    taken = (dict(status=S.SENDING, claim=claim, claimed_at=now, attempt_count=F("attempt_count") + 1)
             if inline else dict(status=S.QUEUED, claim=""))
    seen = {row.pk: (row.status, row.attempt_count) for row in rows}
    current = (NotificationLog.objects.filter(allowed, pk__in=list(seen))
               .select_related("recipient__profile"))
    queued = []
    for row in current:
        status, attempts = seen[row.pk]  # as the caller saw it, not as it may be by now
        if (row.status, row.attempt_count) != (status, attempts):
            continue
        # Only the row's own columns in this condition: with a join (the recipient's consent,
        # checked as `current` was read) Django's UPDATE filters through a subquery, which
        # PostgreSQL does not check again against a row another resend has just changed, and
        # two resends would both send.
        changed = NotificationLog.objects.filter(
            pk=row.pk, status=status, attempt_count=attempts,
        ).exclude(delivery_status__in=ARRIVED).update(
            next_attempt_at=now, error_code="", error_message="", may_have_been_sent=False,
            digest=None, digest_at=None,  # sent again on its own
            **taken, **channels.get(row.channel).refresh(row, now))
        if changed:
            queued.append(row.pk)
    if not inline:
        delivery.tell_workers(queued)
        return list(NotificationLog.objects.filter(pk__in=queued).select_related("recipient"))
    return list(delivery.deliver_claimed(claim, sleep=sleep)) if queued else []


# --- Timers ---------------------------------------------------------------------------------------


def tick(now=None) -> timers.Tick:
    """The timer pass: deadlines, warnings and escalation steps due now, and pages that did not
    get through (notifications.pages). The recovery pass runs it; with workers, Celery beat too."""
    now = now or timezone.now()
    # Each breach and step commits on its own; their pages are sent together once the pass is
    # done (at once, up to WHATSAPP_MAX_WORKERS), so a storm of deadlines is not sent one by one.
    with deferred.deferring() as held:
        pages.move_on_unreached(now)
        done = timers.tick(now)
        pages.to_email(now)
        gathered = digests.gather(now)  # storms' waiting rows, one message per person
        delivery.dispatch([row.pk for row in gathered])
    held.run()
    return done


# --- Recovery ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recovery:
    abandoned: int  # SENDING rows past the lease, now UNKNOWN
    delivered: list[NotificationLog]  # every row this pass sent (or tried) and settled
    handed_over: int = 0  # the due QUEUED rows the Celery workers were told of instead


# Seconds one recovery pass may spend sending: it runs every minute, and the next one goes on.
PASS_BOUND = 45.0


def recover(*, lease: timedelta = LEASE, batch: int = 500,
            sleep: Callable[[float], None] = time.sleep) -> Recovery:
    """One recovery pass: abandoned sends become UNKNOWN (never resent blindly), due QUEUED rows
    are sent, here (at most `batch` of them, within PASS_BOUND) or (NOTIFICATION_DELIVERY=celery)
    by the workers. Safe to run from several hosts at once: every step is a conditional update."""
    now = timezone.now()
    stale = Q(status=S.SENDING, claimed_at__lt=now - lease)
    with transaction.atomic():
        # Another pass working on a row already has it: skipped, never waited for (deadlocks).
        stale_ids = list(NotificationLog.objects.select_for_update(skip_locked=True).filter(stale)
                         .order_by("pk").values_list("pk", flat=True)[:batch])
        rows = list(NotificationLog.objects.filter(pk__in=stale_ids)
                    .values_list("pk", "attempt_count", "claimed_at"))
        abandoned = NotificationLog.objects.filter(stale, pk__in=stale_ids).update(
            status=S.UNKNOWN, may_have_been_sent=True, error_message=ABANDONED)
        digests.follow(stale_ids)  # a digest's covered rows say the same
        # The attempt the dead process never recorded (unless it got as far as that).
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(notification_id=pk, number=number, status=S.UNKNOWN, started_at=since,
                            finished_at=now, may_have_gone_out=True, error_message=ABANDONED)
            for pk, number, since in rows], ignore_conflicts=True)
    # Every app's running counts (the insights page's, the ticket list's): this pass runs every
    # minute.
    counters.fold_every()
    tick(now)  # deadlines, warnings and escalation steps that came due
    for channel in channels.every():
        channel.tidy(now)  # e.g. WhatsApp's reports that came before their message's answer
    if settings.NOTIFICATION_DELIVERY == "celery":
        due = list(NotificationLog.objects.filter(status=S.QUEUED, next_attempt_at__lte=now)
                   .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:batch])
        delivery.dispatch(due)  # tasks that say "there is work": each worker drains
        return Recovery(abandoned, [], len(due))
    return Recovery(abandoned, delivery.drain(sleep=sleep, bound=PASS_BOUND, limit=batch))
