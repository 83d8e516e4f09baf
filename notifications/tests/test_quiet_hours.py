"""Quiet hours: a message to someone in theirs is written at once, held (a QUEUED row due when
the hours end, visible in the log) and sent then; a page of a HIGH ticket goes at once."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import UserProfile
from notifications import delivery
from notifications.models import NotificationLog, NotificationStatus
from tickets import services
from tickets.escalation import timers
from tickets.models import Priority, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db
CAIRO = ZoneInfo("Africa/Cairo")
NIGHT = datetime(2026, 12, 7, 3, 0, tzinfo=CAIRO)
MORNING = datetime(2026, 12, 7, 7, 0, tzinfo=CAIRO)


@pytest.fixture
def quiet_dev(cast):
    UserProfile.objects.filter(user=cast.developer).update(
        time_zone="Africa/Cairo", quiet_start=time(22), quiet_end=time(7))
    return cast.developer


def at(moment, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_a_message_in_quiet_hours_waits_until_they_end(cast, quiet_dev, ticket_in, sender,
                                                       monkeypatch):
    ticket = ticket_in(TicketStatus.OPENED, priority=Priority.MEDIUM)
    at(NIGHT, monkeypatch)
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="assign",
                               developer_id=quiet_dev.pk)
    row = NotificationLog.objects.get(ticket=ticket, event=TicketEventType.DEVELOPER_ASSIGNED,
                                      recipient=quiet_dev)
    client_row = NotificationLog.objects.get(ticket=ticket, recipient=cast.client,
                                             event=TicketEventType.DEVELOPER_ASSIGNED)
    assert (row.status, row.held_until, row.next_attempt_at) == (
        NotificationStatus.QUEUED, MORNING, MORNING)
    assert client_row.held_until is None  # the client keeps no quiet hours
    list(delivery.deliver([row.pk, client_row.pk], sleep=lambda s: None))  # the after-commit send
    assert sender.calls_to(quiet_dev.profile.whatsapp_number) == []
    assert len(sender.calls_to(cast.client.profile.whatsapp_number)) == 1
    at(MORNING + timedelta(seconds=30), monkeypatch)
    delivery.drain(sleep=lambda s: None)  # the recovery pass after 07:00 local
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert len(sender.calls_to(quiet_dev.profile.whatsapp_number)) == 1


@pytest.mark.parametrize("priority, held", [(Priority.HIGH, False), (Priority.MEDIUM, True)])
def test_a_page_of_a_high_ticket_goes_through_quiet_hours(request, cast, quiet_dev, ticket_in,
                                                          monkeypatch, priority, held):
    covering = request.getfixturevalue("policy")
    covering.priority = ""  # every priority
    covering.save()
    at(NIGHT, monkeypatch)
    ticket = ticket_in(TicketStatus.NEW, priority=priority)
    at(NIGHT + timedelta(minutes=15), monkeypatch)  # the first response breaches
    timers.tick()
    page = NotificationLog.objects.get(ticket=ticket, event=TicketEventType.TICKET_PAGED,
                                       recipient=quiet_dev)
    assert (page.held_until is not None) == held
