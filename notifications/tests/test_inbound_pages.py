"""A page answered on WhatsApp: Acknowledge, Snooze 30 min and Escalate now, through signed
webhooks, acted on once and only from the number the page went to."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Channel, NotificationLog
from notifications.tests.test_inbound import replies, send, tap
from tickets.escalation import timers
from tickets.escalation.models import Page, Run, RunState
from tickets.models import TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_row(request, ticket_in, cast, monkeypatch):
    """The on-call developer's page of a ticket whose first response breached."""
    request.getfixturevalue("policy")
    ticket = ticket_in(TicketStatus.NEW)
    due = ticket.clocks.get(metric="FIRST_RESPONSE").due_at
    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(seconds=1))
    timers.tick()
    monkeypatch.undo()
    return NotificationLog.objects.get(ticket=ticket, event=TicketEventType.TICKET_PAGED,
                                       recipient=cast.developer, channel=Channel.WHATSAPP)


def test_acknowledge_tapped_by_the_person_paged_stops_the_paging(client, cast, page_row):
    ack, snooze, _ = (payload for payload, _ in page_row.buttons)
    send(client, tap(cast.admin, ack))  # someone else's button
    assert replies(cast.admin) == ["That button was sent to someone else, so it does nothing "
                                   "from this number."]
    assert Run.objects.get().state == RunState.ACTIVE
    send(client, tap(cast.developer, ack))
    run = Run.objects.get()
    assert (run.state, run.acknowledged_by) == (RunState.ACKNOWLEDGED, cast.developer)
    assert replies(cast.developer)[-1].startswith("Acknowledged: ticket #")
    assert Page.objects.get(user=cast.developer).answer == "ACKNOWLEDGE"
    send(client, tap(cast.developer, ack, template=True))  # the same button again
    assert replies(cast.developer)[-1].startswith("You already answered this page")
    send(client, tap(cast.developer, snooze))
    assert replies(cast.developer)[-1].startswith("You already answered this page")
    assert Run.objects.get().state == RunState.ACKNOWLEDGED


def test_a_made_up_page_button_does_nothing(client, cast, page_row):
    ack = page_row.buttons[0][0]
    forged = ack.replace(f":{cast.developer.pk}:", f":{cast.admin.pk}:")
    send(client, tap(cast.admin, forged))
    assert replies(cast.admin) == ["That button is not one of ours any more, so nothing was done."]
    assert Run.objects.get().state == RunState.ACTIVE


def test_escalate_now_pages_the_next_step_at_once(client, cast, page_row):
    escalate = page_row.buttons[2][0]
    send(client, tap(cast.developer, escalate))
    assert replies(cast.developer)[-1].startswith("Escalated: the next step for ticket #")
    assert NotificationLog.objects.filter(event=TicketEventType.TICKET_PAGED,
                                          recipient=cast.admin).exists()
