"""Notification fixtures: the ticket cast (from tickets' conftest), a fake sender installed
through the one seam (settings.WHATSAPP_CLIENT_FACTORY), and `notify`."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.whatsapp.clients import get_whatsapp_client
from notifications.models import NotificationLog, NotificationStatus
from notifications.tests import fakes
from notifications.tests.fakes import FakeWhatsAppSender
from tickets.escalation.tests.conftest import chain, policy, rotation  # noqa: F401  (pages)
from tickets.tests.conftest import cast, staff, ticket_in  # noqa: F401  (shared fixtures)


@pytest.fixture
def sender(settings) -> FakeWhatsAppSender:
    """The sender every delivery in the test uses: replace `fakes.installed` to change it."""
    fakes.installed = FakeWhatsAppSender()
    settings.WHATSAPP_CLIENT_FACTORY = "notifications.tests.fakes.current"
    yield fakes.installed
    fakes.installed = None


@pytest.fixture
def use_sender(sender, settings):
    """Install another sender (a broken one, the console client) for the rest of the test."""

    def install(other):
        fakes.installed = other
        get_whatsapp_client.cache_clear()  # the seam caches the sender it made last
        return other

    return install


@pytest.fixture
def sleeps() -> list[float]:
    """Collects the backoffs the service asked to sleep, instead of sleeping."""
    return []


@pytest.fixture
def notify(sender, sleeps):
    """Deliver the notifications of the latest `event` in a ticket's history, as its after-commit
    hook would (in these tests the ticket's transaction never commits, so the rows wait QUEUED)."""

    def run(ticket, event) -> list[NotificationLog]:
        ticket_event = ticket.events.filter(event=event).last()
        _deliver_earlier(ticket_event.pk)
        send_event(ticket_event.pk, sleep=sleeps.append)
        return list(NotificationLog.objects.filter(ticket_event=ticket_event)
                    .select_related("recipient").order_by("pk"))

    return run


def send_event(ticket_event_id: int, *, sleep=lambda seconds: None) -> list[NotificationLog]:
    """Send one event's notifications, as its after-commit hook does (the request's own rows)."""
    ids = NotificationLog.objects.filter(ticket_event_id=ticket_event_id).values_list("pk", flat=True)
    return list(delivery.deliver(list(ids), sleep=sleep))


def _deliver_earlier(ticket_event_id: int) -> None:
    """Earlier events' after-commit hooks would have sent what they left QUEUED (here the
    transaction never commits). A person's due messages go out in order, so the event under test
    would wait behind them: they are made not due, as if waiting out a retry, and stay QUEUED."""
    NotificationLog.objects.filter(status=NotificationStatus.QUEUED,
                                   ticket_event_id__lt=ticket_event_id).update(
        next_attempt_at=timezone.now() + timedelta(days=1))
