"""Timers on PostgreSQL: a step is fired once whoever races for it, a claim whose process dies is
fired by the next pass, and after a restart every due timer fires."""
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from tickets.escalation import timers
from tickets.escalation.models import Page, Run, RunState
from tickets.models import TicketEventType, TicketStatus
from tickets.sla.models import Clock, ClockState
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    skip_unless_postgres()


def started(ticket):
    return Clock.objects.filter(ticket=ticket).first().started_at


def test_ten_passes_at_once_fire_each_breach_and_step_once(ticket_in, policy, travel):
    ticket = ticket_in(TicketStatus.NEW)
    travel(started(ticket) + timedelta(minutes=15))
    ticks = all_at_once(10, timers.tick)
    assert sum(t.breached for t in ticks) == 1
    assert ticket.events.filter(event=TicketEventType.TICKET_PAGED).count() == 1
    travel(started(ticket) + timedelta(minutes=26))
    ticks = all_at_once(10, timers.tick)
    assert sum(t.stepped for t in ticks) == 1
    assert sorted(Page.objects.values_list("user__username", flat=True)) == ["admin", "dev"]


def test_a_claim_whose_process_dies_is_fired_by_the_next_pass(ticket_in, policy, travel):
    ticket = ticket_in(TicketStatus.NEW)
    travel(started(ticket) + timedelta(minutes=15))
    timers.tick()
    run = Run.objects.get(ticket=ticket)
    travel(started(ticket) + timedelta(minutes=26))
    claimed, die = threading.Event(), threading.Event()

    def worker() -> None:  # takes the run's lock, then dies before committing
        try:
            with transaction.atomic():
                Run.objects.select_for_update().get(pk=run.pk)
                claimed.set()
                die.wait(timeout=10)
                connection.close()  # the process is gone: PostgreSQL rolls back, drops the lock
        except Exception:  # noqa: BLE001  (what a dead connection raises on the way out)
            pass
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    assert claimed.wait(timeout=10)
    assert timers.tick().stepped == 0  # held by the worker: passed over, not waited for
    die.set()
    thread.join(timeout=10)
    assert timers.tick().stepped == 1
    assert timers.tick().stepped == 0
    assert Page.objects.filter(run=run, user__username="admin").count() == 1


def test_after_a_restart_every_due_timer_fires(cast, ticket_in, policy, travel):
    tickets = [ticket_in(TicketStatus.NEW) for _ in range(3)]
    first = min(started(ticket) for ticket in tickets)
    # Nothing ran for 30 minutes: every first response breached meanwhile.
    travel(first + timedelta(minutes=30))
    assert timers.tick().breached == 3
    assert Clock.objects.filter(state=ClockState.BREACHED).count() == 3
    travel(first + timedelta(minutes=45))
    assert timers.tick().stepped == 3
    assert Run.objects.filter(state=RunState.EXHAUSTED).count() == 3
    assert Page.objects.filter(user=cast.admin).count() == 3
