"""The clocks through the ticket API: `sla` on a ticket for staff, the list's `?sla=` filter and
its ordering by the nearest deadline."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import Priority, TicketStatus
from tickets.sla.models import Clock, ClockState, Metric, Policy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def policy():
    return Policy.objects.create(name="Standard", first_response_minutes=60,
                                 resolution_minutes=600)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_staff_see_each_clock_on_the_ticket_and_clients_see_none(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    for staff in (cast.admin, cast.developer):
        first, resolution = api(staff).get(f"/api/tickets/{ticket.pk}/").json()["sla"]
        assert (first["metric"], first["state"], first["due_at"]) == (
            "FIRST_RESPONSE", "MET", None)
        assert first["met_at"] is not None and first["policy"] == "Standard"
        assert (resolution["metric"], resolution["state"], resolution["target_minutes"]) == (
            "RESOLUTION", "RUNNING", 600)
        assert 0 < resolution["seconds_left"] <= 600 * 60 and resolution["at_risk"] is False
        assert resolution["due_at"] and resolution["breached_at"] is None
    assert api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()["sla"] == []


def test_the_list_filters_at_risk_and_breached_tickets(api, cast, ticket_in):
    calm, risky, late = (ticket_in(TicketStatus.OPENED) for _ in range(3))
    Clock.objects.filter(ticket=risky, metric=Metric.RESOLUTION).update(
        warn_at=timezone.now() - timedelta(minutes=1))
    Clock.objects.filter(ticket=late, metric=Metric.RESOLUTION).update(state=ClockState.BREACHED)
    admin = api(cast.admin)
    assert ids(admin.get("/api/tickets/?sla=at_risk")) == [risky.pk]
    assert ids(admin.get("/api/tickets/?sla=breached")) == [late.pk]
    assert ids(admin.get("/api/tickets/?sla=breached&cursor=")) == [late.pk]
    detail = admin.get(f"/api/tickets/{risky.pk}/").json()["sla"]
    assert [clock["at_risk"] for clock in detail] == [False, True]
    wrong = admin.get("/api/tickets/?sla=soon")
    assert wrong.status_code == 400 and "at_risk, breached" in wrong.json()["sla"][0]
    # A client's list narrows to their own tickets, as every filter does.
    assert ids(api(cast.other_client).get("/api/tickets/?sla=breached")) == []
    assert calm.pk not in ids(admin.get("/api/tickets/?sla=at_risk"))


def test_the_list_orders_by_the_nearest_running_deadline_with_none_last(api, cast, ticket_in):
    later, sooner = ticket_in(TicketStatus.OPENED), ticket_in(TicketStatus.OPENED)
    stopped = ticket_in(TicketStatus.REJECTED)  # no running clock
    now = timezone.now()
    Clock.objects.filter(ticket=later, metric=Metric.RESOLUTION).update(due_at=now + timedelta(hours=5))
    Clock.objects.filter(ticket=sooner, metric=Metric.RESOLUTION).update(due_at=now + timedelta(hours=1))
    admin = api(cast.admin)
    assert ids(admin.get("/api/tickets/?ordering=sla_due")) == [sooner.pk, later.pk, stopped.pk]
    assert ids(admin.get("/api/tickets/?ordering=-sla_due")) == [later.pk, sooner.pk, stopped.pk]


def test_no_policy_no_clocks_and_an_empty_sla(api, cast, ticket_in, policy):
    policy.delete()
    ticket = ticket_in(TicketStatus.NEW, priority=Priority.LOW)
    assert api(cast.admin).get(f"/api/tickets/{ticket.pk}/").json()["sla"] == []


def test_cursor_mode_says_the_deadline_order_pages_by_number(api, cast, ticket_in):
    ticket_in(TicketStatus.OPENED)
    answer = api(cast.admin).get("/api/tickets/?ordering=sla_due&cursor=")
    assert answer.status_code == 400
    assert "pages by number" in answer.json()["ordering"][0]


def test_the_admin_list_shows_each_tickets_sla_in_colour(staff, ticket_in):
    calm, risky, late = (ticket_in(TicketStatus.OPENED, title=f"SLA {n}") for n in range(3))
    unclocked = ticket_in(TicketStatus.REJECTED, title="SLA none")
    now = timezone.now()
    Clock.objects.filter(ticket=risky, metric=Metric.RESOLUTION).update(
        warn_at=now - timedelta(minutes=1), due_at=now + timedelta(hours=1))
    Clock.objects.filter(ticket=calm, metric=Metric.RESOLUTION).update(
        due_at=now + timedelta(hours=5))
    Clock.objects.filter(ticket=late, metric=Metric.RESOLUTION).update(state=ClockState.BREACHED)
    page = staff.get("/admin/tickets/ticket/?o=9").content.decode()  # sorted by the SLA column
    assert page.count("● breached") == 1 and page.count("● at risk, due") == 1
    assert page.count('color:#2e7d32">● due') == 1
    assert page.index("SLA 1") < page.index("SLA 0") < page.index("SLA none")
    assert unclocked.pk and calm.pk
