"""Concurrent use on PostgreSQL, through the API: 20 people take the same transition at once."""
import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from notifications.models import NotificationLog
from tickets.models import TicketEventType, TicketStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; .ci/run runs this on PostgreSQL")


def all_at_once(count: int, work) -> list:
    """Run `work()` in `count` threads released together; return what each returned."""
    barrier = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work()
        finally:
            connections.close_all()  # each thread's own connection
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("status, action, who, event", [
    (TicketStatus.NEW, "open", "admin", TicketEventType.TICKET_OPENED),
    (TicketStatus.IN_PROGRESS, "finish", "developer", TicketEventType.WORK_FINISHED),
])
def test_twenty_identical_transitions_one_wins_one_set_of_notifications(
        cast, ticket_in, status, action, who, event):
    ticket = ticket_in(status)
    actor = getattr(cast, who)

    def attempt() -> int:
        client = APIClient()
        client.force_authenticate(actor)
        return client.post(f"/api/tickets/{ticket.pk}/{action}/", {}, format="json").status_code

    codes = all_at_once(THREADS, attempt)

    assert sorted(codes) == [200] + [409] * (THREADS - 1)
    assert ticket.events.filter(event=event).count() == 1
    rows = NotificationLog.objects.filter(ticket=ticket, event=event)
    recipients = list(rows.values_list("recipient_id", flat=True))
    # One row per recipient: the winner's notifications, nobody told twice.
    assert recipients and len(recipients) == len(set(recipients))
