"""Notification fixtures: the ticket cast (from tickets' conftest) and a fake sender."""
import pytest

from notifications.tests.fakes import FakeWhatsAppSender
from tickets.tests.conftest import cast, staff, ticket_in  # noqa: F401  (shared fixtures)


@pytest.fixture
def sender() -> FakeWhatsAppSender:
    return FakeWhatsAppSender()
