"""Notification fixtures: the ticket cast (from tickets' conftest), a fake sender, and `notify`."""
import pytest

from notifications.services import notify_ticket_event
from notifications.tests.fakes import FakeWhatsAppSender
from tickets.tests.conftest import cast, staff, ticket_in  # noqa: F401  (shared fixtures)


@pytest.fixture
def sender() -> FakeWhatsAppSender:
    return FakeWhatsAppSender()


@pytest.fixture
def sleeps() -> list[float]:
    """Collects the backoffs the service asked to sleep, instead of sleeping."""
    return []


@pytest.fixture
def notify(sender, sleeps):
    """Run the notifications of the latest `event` in a ticket's history, with the fake sender."""

    def run(ticket, event, **kwargs):
        kwargs.setdefault("whatsapp", sender)
        kwargs.setdefault("sleep", sleeps.append)
        ticket_event = ticket.events.filter(event=event).last()
        return notify_ticket_event(ticket_event_id=ticket_event.pk, **kwargs)

    return run
