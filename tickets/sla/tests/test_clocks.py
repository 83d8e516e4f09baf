"""Service-level clocks on real tickets: started by a policy, met, paused, resumed, stopped,
recomputed on a priority change, and breached once by the recovery pass."""
from datetime import time, timedelta

import pytest
from django.utils import timezone

from tickets import services
from tickets.models import Priority, TicketEventType, TicketStatus
from tickets.sla import calendars, clocks
from tickets.sla.models import Calendar, Clock, ClockState, Metric, Policy, WorkingInterval

pytestmark = pytest.mark.django_db


@pytest.fixture
def high():
    return Policy.objects.create(name="HIGH: 15 min / 4 h", priority=Priority.HIGH,
                                 first_response_minutes=15, resolution_minutes=240)


def clock(ticket, metric=Metric.RESOLUTION) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


def sla_notes(ticket) -> list[str]:
    return list(ticket.events.filter(event=TicketEventType.SLA_CHANGED).order_by("pk")
                .values_list("note", flat=True))


def test_the_shipped_default_policy_is_disabled_until_an_admin_enables_it(ticket_in):
    [default] = Policy.objects.all()
    assert (default.enabled, default.priority, default.calendar) == (False, "", None)
    assert (default.first_response_minutes, default.resolution_minutes) == (240, 2400)
    assert not Clock.objects.filter(ticket=ticket_in(TicketStatus.NEW)).exists()
    Policy.objects.filter(pk=default.pk).update(enabled=True)
    assert Clock.objects.filter(ticket=ticket_in(TicketStatus.NEW)).count() == 2


def test_a_ticket_no_policy_covers_has_no_clocks(ticket_in):
    Policy.objects.create(name="LOW only", priority=Priority.LOW, first_response_minutes=60,
                          resolution_minutes=600)
    assert not Clock.objects.filter(ticket=ticket_in(TicketStatus.NEW)).exists()


def test_filing_starts_both_clocks_from_the_first_matching_enabled_policy(ticket_in, high):
    Policy.objects.create(name="disabled, first", position=0, enabled=False,
                          first_response_minutes=1, resolution_minutes=1)
    high.position = 1
    high.save()
    Policy.objects.create(name="catch-all, later", position=2, first_response_minutes=60,
                          resolution_minutes=600)
    ticket = ticket_in(TicketStatus.NEW)
    first, resolution = clock(ticket, Metric.FIRST_RESPONSE), clock(ticket)
    assert (first.policy, first.state, first.target_seconds) == (high, ClockState.RUNNING, 900)
    assert first.due_at == first.started_at + timedelta(minutes=15)  # no calendar: 24/7
    assert resolution.due_at == resolution.started_at + timedelta(hours=4)
    [note] = sla_notes(ticket)
    assert note.startswith("SLA: First response: running, target 15 working minutes (HIGH")
    assert ticket.events.get(event=TicketEventType.SLA_CHANGED).internal is True


def test_the_deadline_counts_the_policys_working_time(ticket_in):
    office = Calendar.objects.create(name="Office", time_zone="Europe/Berlin")
    for weekday in range(5):
        WorkingInterval.objects.create(calendar=office, weekday=weekday, start=time(9),
                                       end=time(18))
    Policy.objects.create(name="office hours", calendar=office, first_response_minutes=60,
                          resolution_minutes=600)
    ticket = ticket_in(TicketStatus.NEW)
    first = clock(ticket, Metric.FIRST_RESPONSE)
    assert first.due_at == calendars.add(calendars.Hours.of(office), first.started_at, 3600)


def test_the_first_response_is_opening_rejecting_or_a_public_staff_comment(ticket_in, cast, high):
    opened = ticket_in(TicketStatus.OPENED)
    assert clock(opened, Metric.FIRST_RESPONSE).state == ClockState.MET
    for status in (TicketStatus.REJECTED,):
        assert clock(ticket_in(status), Metric.FIRST_RESPONSE).state == ClockState.MET
    waiting = ticket_in(TicketStatus.NEW)
    services.comment_add(ticket_id=waiting.pk, author=cast.client, body="Any news?")
    services.comment_add(ticket_id=waiting.pk, author=cast.admin, body="Looking", internal=True)
    assert clock(waiting, Metric.FIRST_RESPONSE).state == ClockState.RUNNING
    services.comment_add(ticket_id=waiting.pk, author=cast.admin, body="On it.")
    met = clock(waiting, Metric.FIRST_RESPONSE)
    assert met.state == ClockState.MET and met.met_at is not None and met.due_at is None


def test_finished_pauses_a_reopen_resumes_the_same_clock_and_closing_meets_it(
        ticket_in, cast, high):
    ticket = ticket_in(TicketStatus.FINISHED)
    paused = clock(ticket)
    assert paused.state == ClockState.PAUSED and paused.due_at is None
    spent = paused.spent_seconds
    assert 0 <= spent < 60
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.client, action="reopen",
                               reason="Still broken")
    resumed = clock(ticket)
    assert resumed.state == ClockState.RUNNING and resumed.spent_seconds == spent
    assert resumed.due_at == resumed.run_started_at + timedelta(seconds=14400 - spent)
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.developer, action="finish",
                               resolution="Really fixed.")
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.client, action="close")
    met = clock(ticket)
    assert met.state == ClockState.MET and met.met_at == met.paused_at
    assert sla_notes(ticket)[-2:] == ["SLA: Resolution: paused while the client checks the fix",
                                      "SLA: Resolution: met"]


def test_rejecting_stops_the_resolution_clock(ticket_in, high):
    ticket = ticket_in(TicketStatus.REJECTED)
    assert clock(ticket).state == ClockState.STOPPED
    assert clocks.breach_due(timezone.now() + timedelta(days=30)) == 0


def test_a_priority_change_sets_the_new_target_from_the_time_already_spent(ticket_in, cast, high):
    Policy.objects.create(name="LOW: 1 h / 2 days", priority=Priority.LOW, position=1,
                          first_response_minutes=60, resolution_minutes=2880)
    ticket = ticket_in(TicketStatus.OPENED, priority=Priority.LOW)
    before = clock(ticket)
    assert before.target_seconds == 2880 * 60
    services.ticket_update(ticket_id=ticket.pk, actor=cast.admin, changes={"priority": "HIGH"})
    after = clock(ticket)
    assert (after.policy, after.target_seconds) == (high, 14400)
    assert after.due_at == after.run_started_at + timedelta(hours=4)
    assert "Resolution: target 240 working minutes (HIGH" in sla_notes(ticket)[-1]


def test_the_recovery_pass_breaches_a_due_clock_once_and_says_so_on_the_history(
        api, ticket_in, cast, high):
    from notifications import services as notification_services

    ticket = ticket_in(TicketStatus.NEW)
    Clock.objects.filter(ticket=ticket, metric=Metric.FIRST_RESPONSE).update(
        due_at=timezone.now() - timedelta(seconds=5))
    notification_services.recover()
    breached = clock(ticket, Metric.FIRST_RESPONSE)
    assert breached.state == ClockState.BREACHED and breached.breached_at == breached.due_at
    assert clock(ticket).state == ClockState.RUNNING
    assert clocks.breach_due() == 0  # never twice
    line = ticket.events.filter(event=TicketEventType.SLA_CHANGED).latest("pk")
    assert line.actor is None and "First response: breached (target 15 working minutes" in line.note
    staff_view = api(cast.admin).get(f"/api/tickets/{ticket.pk}/").json()["events"]
    assert staff_view[-1]["event"] == "SLA_CHANGED" and staff_view[-1]["actor"] is None
    client_view = api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()["events"]
    assert "SLA_CHANGED" not in [event["event"] for event in client_view]  # staff only
    # Opening it late records when the response came; it stays breached.
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="open")
    late = clock(ticket, Metric.FIRST_RESPONSE)
    assert late.state == ClockState.BREACHED and late.met_at is not None


def test_a_clock_met_after_the_pass_read_it_is_not_breached(ticket_in, high, monkeypatch):
    ticket = ticket_in(TicketStatus.NEW)
    Clock.objects.filter(ticket=ticket).update(due_at=timezone.now() - timedelta(seconds=5))
    real = Clock.objects.filter

    def met_meanwhile(*args, **kwargs):
        if kwargs.get("state") == ClockState.RUNNING and "pk" in kwargs:
            real(pk=kwargs["pk"]).update(state=ClockState.MET)
        return real(*args, **kwargs)

    monkeypatch.setattr(Clock.objects, "filter", met_meanwhile)
    assert clocks.breach_due() == 0
    monkeypatch.undo()
    assert set(Clock.objects.filter(ticket=ticket).values_list("state", flat=True)) == {
        ClockState.MET}
