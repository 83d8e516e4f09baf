"""A page that does not get through: emailed after PAGE_EMAIL_AFTER seconds without a
`delivered` report; a step that reaches nobody moves the chain on at once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import UserProfile
from notifications import services
from notifications.models import Channel, DeliveryStatus, NotificationLog, NotificationStatus
from tickets.escalation import runs
from tickets.escalation.models import Answer, Page, Run
from tickets.models import TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db
PAGED = TicketEventType.TICKET_PAGED


@pytest.fixture
def breached(request, ticket_in, monkeypatch, settings):
    """A NEW ticket whose first response breached: the on-call developer is paged."""
    request.getfixturevalue("policy")
    settings.PAGE_EMAIL_AFTER = 120
    ticket = ticket_in(TicketStatus.NEW)
    due = ticket.clocks.get(metric="FIRST_RESPONSE").due_at

    def at(seconds_after_breach: float):
        monkeypatch.setattr(timezone, "now", lambda: due + timedelta(seconds=seconds_after_breach))
        return services.tick()

    at(0)
    return ticket, at


def emails(ticket, user) -> int:
    return NotificationLog.objects.filter(ticket=ticket, event=PAGED, recipient=user,
                                          channel=Channel.EMAIL).count()


def test_an_undelivered_page_is_emailed_once_after_the_wait(cast, breached, sender):
    ticket, at = breached
    at(119)
    assert emails(ticket, cast.developer) == 0
    at(121)
    at(130)
    assert emails(ticket, cast.developer) == 1
    email = NotificationLog.objects.get(ticket=ticket, event=PAGED, channel=Channel.EMAIL)
    assert email.to == cast.developer.email and "Needs Someone Now" in email.message


def test_a_delivered_or_answered_page_is_not_emailed(cast, breached):
    ticket, at = breached
    row = NotificationLog.objects.get(ticket=ticket, event=PAGED, recipient=cast.developer)
    NotificationLog.objects.filter(pk=row.pk).update(delivery_status=DeliveryStatus.DELIVERED)
    at(600)
    assert emails(ticket, cast.developer) == 0
    NotificationLog.objects.filter(pk=row.pk).update(delivery_status=DeliveryStatus.SENT)
    page = Page.objects.get(run__ticket=ticket, user=cast.developer)
    runs.answer(page_id=page.pk, actor=cast.developer, what=Answer.SNOOZE)
    at(700)
    assert emails(ticket, cast.developer) == 0


def test_a_step_that_reaches_nobody_moves_the_chain_on(cast, request, ticket_in, monkeypatch,
                                                       sender):
    request.getfixturevalue("policy")
    UserProfile.objects.filter(user=cast.developer).update(whatsapp_number="")
    type(cast.developer).objects.filter(pk=cast.developer.pk).update(email="")
    ticket = ticket_in(TicketStatus.NEW)
    due = ticket.clocks.get(metric="FIRST_RESPONSE").due_at
    monkeypatch.setattr(timezone, "now", lambda: due)
    services.recover(sleep=lambda seconds: None)  # pages, and sends what it wrote
    [row] = NotificationLog.objects.filter(ticket=ticket, event=PAGED)
    assert row.status == NotificationStatus.SKIPPED  # no number: nobody reached
    run = Run.objects.get(ticket=ticket)
    assert run.due_at == due + timedelta(minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(seconds=5))
    services.recover(sleep=lambda seconds: None)
    assert NotificationLog.objects.filter(ticket=ticket, event=PAGED,
                                          recipient=cast.admin).exists()
    lines = list(ticket.events.filter(event=TicketEventType.ESCALATION_CHANGED)
                 .order_by("pk").values_list("note", flat=True))
    assert lines[1] == ("Escalation: Night moves on at once: nobody paged could be reached "
                        "(every message refused or skipped)")
