"""Concurrent use on PostgreSQL, through the API: 20 people take the same transition at once."""
import pytest
from rest_framework.test import APIClient

from notifications.models import NotificationLog
from tickets.models import TicketEventType, TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20


@pytest.fixture(autouse=True)
def _postgres_only():
    skip_unless_postgres()


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
