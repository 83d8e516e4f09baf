"""The same button tapped at once, several times (two taps, and Meta redelivering each), moves the
ticket once and answers each tap once (PostgreSQL)."""
import json

import pytest
from django.test import Client

from notifications.models import REPLY, Channel, NotificationLog, ReceivedMessage
from notifications.tests.test_inbound import tap
from notifications.tests.test_webhooks import envelope, post
from tickets.models import TicketEventType, TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    skip_unless_postgres()


def test_the_same_button_tapped_twice_at_once_moves_the_ticket_once(cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    [(payload, _)] = NotificationLog.objects.get(
        ticket=ticket, event=TicketEventType.DEVELOPER_ASSIGNED, recipient=cast.developer,
        channel=Channel.WHATSAPP).buttons
    taps = [tap(cast.developer, payload), tap(cast.developer, payload)]
    bodies = [json.dumps(envelope(messages=[taps[n % 2]])).encode() for n in range(THREADS)]
    turn = iter(range(THREADS))

    codes = all_at_once(THREADS, lambda: post(Client(), bodies[next(turn)]).status_code)

    assert codes == [200] * THREADS
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert ticket.events.filter(event=TicketEventType.WORK_STARTED).count() == 1
    assert ReceivedMessage.objects.count() == 2
    answers = sorted(NotificationLog.objects.filter(event=REPLY).values_list("message", flat=True))
    assert [a.split(":")[0] for a in answers] == ["Already done", "Done"]
