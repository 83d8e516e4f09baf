"""The timer pass: every deadline, warning and escalation step that is due, fired once.

Each due row is taken in its own short transaction: a clock by a conditional update, a run under
`FOR UPDATE SKIP LOCKED` (another process holding it is passed over, never waited for) and then a
conditional update of the step it read. The row lock is the lease: a process that dies mid-step
loses its connection, PostgreSQL drops the lock with the uncommitted step, and the next pass fires
it. Pages are written as notification rows in that transaction and sent after it commits by the
delivery loop, so no Graph call happens under a lock.

Run by the recovery pass (every minute, inline) and, with workers, by Celery beat every
TIMER_TICK_SECONDS.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets.escalation import runs
from tickets.escalation.models import Run, RunState
from tickets.sla import clocks

logger = logging.getLogger(__name__)
PASS = 500  # steps one pass takes at most; the next pass goes on


@dataclass(frozen=True)
class Tick:
    warned: int
    breached: int
    stepped: int


def tick(now: datetime | None = None) -> Tick:
    now = now or timezone.now()
    warned = clocks.warn_due(now)
    breached = clocks.breach_due(now)
    return Tick(warned, breached, step_due(now))


def step_due(now: datetime) -> int:
    """Take every run's due step, each once; returns how many were taken."""
    due = list(Run.objects.filter(state=RunState.ACTIVE, due_at__lte=now)
               .order_by("due_at", "pk").values_list("pk", flat=True)[:PASS])
    taken = 0
    for pk in due:
        with transaction.atomic():
            run = (Run.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("ticket", "chain", "clock")
                   .filter(pk=pk, state=RunState.ACTIVE, due_at__lte=now).first())
            if run is None:
                continue  # another process has it, or it moved on meanwhile
            if not runs.fire(run, now):
                continue
            taken += 1
        if now - run.due_at > clocks.LATE:
            logger.warning("Escalation run %s stepped %.0f s after its time: the timer pass runs "
                           "late", pk, (now - run.due_at).total_seconds())
    return taken
