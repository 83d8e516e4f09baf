"""The same webhook statuses delivered concurrently end as if delivered once (PostgreSQL)."""
from datetime import datetime, timezone

import pytest
from django.test import Client

from notifications.models import Channel, DeliveryStatus, NotificationLog, NotificationStatus
from notifications.tests.test_webhooks import T0, body_of, envelope, post, status
from tickets.models import TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
FIELDS = ("status", "delivery_status", "wa_sent_at", "delivered_at", "read_at", "failed_at",
          "error_code", "error_message")


@pytest.fixture(autouse=True)
def _postgres_only():
    skip_unless_postgres()


def sent_row(ticket, recipient, wamid: str) -> NotificationLog:
    return NotificationLog.objects.create(
        ticket=ticket, event="TICKET_OPENED", recipient=recipient, channel=Channel.WHATSAPP,
        to="+201000000003", message="hello", status=NotificationStatus.SENT,
        provider_message_id=wamid, sent_at=datetime.fromtimestamp(T0 - 5, tz=timezone.utc))


def steps(wamid: str) -> list[dict]:
    # Out of order, as Meta may send them, with a repeat.
    return [status(wamid, "read", T0 + 30), status(wamid, "sent", T0),
            status(wamid, "delivered", T0 + 10), status(wamid, "sent", T0)]


def test_concurrent_redeliveries_end_in_the_once_delivered_state(cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    once, many = sent_row(ticket, cast.client, "wamid.ONCE"), sent_row(ticket, cast.client, "wamid.MANY")

    assert post(Client(), body_of(envelope(statuses=steps("wamid.ONCE")))).status_code == 200
    # Each of 20 senders posts one of the statuses; every status arrives five times.
    payloads = [body_of(envelope(statuses=[s])) for s in steps("wamid.MANY")] * 5
    queue = iter(payloads)
    codes = all_at_once(len(payloads), lambda: post(Client(), next(queue)).status_code)

    assert codes == [200] * len(payloads)
    once.refresh_from_db()
    many.refresh_from_db()
    assert [getattr(many, f) for f in FIELDS] == [getattr(once, f) for f in FIELDS]
    assert many.delivery_status == DeliveryStatus.READ and many.delivered_at is not None
