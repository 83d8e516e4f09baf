"""Escalation in Django admin: rotations and chains edited with their inlines, runs read-only on
their own list and on the ticket's page."""
from datetime import timedelta

import pytest

from tickets.escalation import timers
from tickets.escalation.models import Run
from tickets.models import TicketStatus
from tickets.sla.models import Clock

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/escalation/rotation/", "/admin/escalation/rotation/add/",
                                  "/admin/escalation/chain/", "/admin/escalation/chain/add/",
                                  "/admin/escalation/run/"])
def test_the_escalation_pages_open(staff, chain, path):
    assert staff.get(path).status_code == 200


def test_a_tickets_page_shows_its_runs_and_a_run_cannot_be_changed(staff, ticket_in, policy,
                                                                    travel):
    ticket = ticket_in(TicketStatus.NEW)
    travel(Clock.objects.filter(ticket=ticket).first().started_at + timedelta(minutes=15))
    timers.tick()
    run = Run.objects.get(ticket=ticket)
    page = staff.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "A deadline passed" in page and "Night" in page  # the run's reason and chain
    assert staff.post(f"/admin/escalation/run/{run.pk}/change/", {}).status_code == 403
