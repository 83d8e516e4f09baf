"""Escalation on real tickets: a breach pages the on-call person at once and the next step later,
until someone acknowledges; met clocks and ended tickets stop it; each step is taken once."""
from datetime import timedelta

import pytest

from notifications.intents import display_name
from notifications.models import NotificationLog
from notifications.whatsapp import buttons
from tickets import services
from tickets.escalation import runs, timers
from tickets.escalation.errors import NotAcknowledgeable, NothingToAcknowledge
from tickets.escalation.models import (Answer, Chain, Page, Reason, Run, RunState, Step,
                                       Target)
from tickets.models import Priority, TicketEventType, TicketStatus
from tickets.sla.models import Clock, Metric

pytestmark = pytest.mark.django_db
E = TicketEventType


def later(ticket, minutes: float):
    """The moment `minutes` after the ticket's clocks started."""
    return Clock.objects.filter(ticket=ticket).first().started_at + timedelta(minutes=minutes)


@pytest.fixture
def tick(travel):
    """The timer pass, `minutes` after the ticket's clocks started."""
    def run(ticket, minutes: float):
        travel(later(ticket, minutes))
        return timers.tick()
    return run


def paged(ticket) -> list[list[str]]:
    """Who each page of the ticket went to, page by page."""
    return [sorted(Page.objects.filter(ticket_event=event).values_list("user__username", flat=True))
            for event in ticket.events.filter(event=E.TICKET_PAGED).order_by("pk")]


def notes(ticket, kind=E.ESCALATION_CHANGED) -> list[str]:
    return list(ticket.events.filter(event=kind).order_by("pk").values_list("note", flat=True))


def test_a_breach_pages_the_on_call_developer_at_once_then_the_admins_after_the_wait(tick, 
        ticket_in, policy, cast):
    ticket = ticket_in(TicketStatus.NEW)
    assert tick(ticket, 14).stepped == 0
    assert paged(ticket) == []
    result = tick(ticket, 15)
    assert (result.warned, result.breached, result.stepped) == (0, 1, 0)  # stepped at the breach
    run = Run.objects.get(ticket=ticket)
    assert (run.reason, run.clock.metric, run.position) == (Reason.BREACH, Metric.FIRST_RESPONSE, 1)
    assert paged(ticket) == [["dev"]]
    [row] = NotificationLog.objects.filter(ticket=ticket, event=E.TICKET_PAGED)
    assert row.recipient == cast.developer and "needs someone now" in row.message.lower()
    page = Page.objects.get(ticket_event=row.ticket_event)
    assert [buttons.read(payload) for payload, _ in row.buttons] == [
        buttons.PageTap(answer, page.pk, cast.developer.pk) for answer in Answer]
    assert [title for _, title in row.buttons] == ["Acknowledge", "Snooze 30 min", "Escalate now"]
    assert tick(ticket, 24).stepped == 0
    assert tick(ticket, 25).stepped == 1
    assert paged(ticket) == [["dev"], ["admin"]]
    run.refresh_from_db()
    assert (run.state, run.due_at) == (RunState.EXHAUSTED, None)
    assert notes(ticket)[-1].endswith("every step and repeat taken")
    assert all(event.internal for event in ticket.events.filter(
        event__in=(E.TICKET_PAGED, E.ESCALATION_CHANGED)))


def test_repeat_starts_again_from_the_top(tick, ticket_in, policy, chain):
    chain.repeat = 1
    chain.save()
    ticket = ticket_in(TicketStatus.NEW)
    tick(ticket, 15)
    tick(ticket, 25)
    run = Run.objects.get(ticket=ticket)
    assert (run.round, run.position, run.due_at) == (1, 0, later(ticket, 25))
    tick(ticket, 25)  # the second round's first step has no wait
    assert paged(ticket) == [["dev"], ["admin"], ["dev"]]


def test_a_step_is_taken_once_even_by_two_callers_holding_the_same_read(tick, ticket_in, policy):
    ticket = ticket_in(TicketStatus.NEW)
    tick(ticket, 15)
    first, second = Run.objects.get(ticket=ticket), Run.objects.get(ticket=ticket)
    assert runs.fire(first, later(ticket, 26)) is True
    assert runs.fire(second, later(ticket, 26)) is False
    assert paged(ticket) == [["dev"], ["admin"]]


def test_acknowledging_stops_the_paging_and_tells_the_others_who_took_it(tick, ticket_in, policy, cast):
    ticket = ticket_in(TicketStatus.ASSIGNED)  # opened in time: only resolution can breach
    tick(ticket, 240)
    tick(ticket, 250)
    assert paged(ticket) == [["dev"], ["admin"]]
    [run] = runs.acknowledge(ticket_id=ticket.pk, actor=cast.developer)
    run.refresh_from_db()
    assert (run.state, run.acknowledged_by, run.due_at) == (RunState.ACKNOWLEDGED, cast.developer,
                                                            None)
    [event] = ticket.events.filter(event=E.TICKET_ACKNOWLEDGED)
    assert event.internal and event.actor == cast.developer and "dev acknowledged" in event.note
    told = NotificationLog.objects.filter(ticket_event=event)
    assert [row.recipient for row in told] == [cast.admin]  # not the one who took it
    assert f"*Taken by:* {display_name(cast.developer)}" in told[0].message
    with pytest.raises(NothingToAcknowledge):
        runs.acknowledge(ticket_id=ticket.pk, actor=cast.developer)
    assert tick(ticket, 600).stepped == 0


def test_only_admins_the_assigned_developer_or_someone_paged_may_acknowledge(tick, 
        ticket_in, policy, cast):
    ticket = ticket_in(TicketStatus.NEW)
    tick(ticket, 15)
    for outsider in (cast.client, cast.other_developer):
        with pytest.raises(NotAcknowledgeable):
            runs.acknowledge(ticket_id=ticket.pk, actor=outsider)
    assert Run.objects.get(ticket=ticket).state == RunState.ACTIVE
    runs.acknowledge(ticket_id=ticket.pk, actor=cast.admin)
    assert Run.objects.get(ticket=ticket).state == RunState.ACKNOWLEDGED


def test_start_acknowledges_and_closing_or_meeting_the_clock_stops(tick, ticket_in, policy, cast):
    started = ticket_in(TicketStatus.ASSIGNED)
    tick(started, 240)
    services.ticket_transition(ticket_id=started.pk, actor=cast.developer, action="start")
    run = Run.objects.get(ticket=started)
    assert (run.state, run.acknowledged_by) == (RunState.ACKNOWLEDGED, cast.developer)
    assert "dev started work" in notes(started, E.TICKET_ACKNOWLEDGED)[0]

    opened_late = ticket_in(TicketStatus.NEW)
    tick(opened_late, 15)
    services.ticket_transition(ticket_id=opened_late.pk, actor=cast.admin, action="open")
    run = Run.objects.get(ticket=opened_late)
    assert (run.state, run.why_ended) == (RunState.STOPPED, "the first response target was reached")

    rejected = ticket_in(TicketStatus.NEW)
    tick(rejected, 15)
    services.ticket_transition(ticket_id=rejected.pk, actor=cast.admin, action="reject",
                               reason="Not ours.")
    assert Run.objects.get(ticket=rejected).state == RunState.STOPPED


def test_a_warning_starts_the_chain_once_and_the_breach_takes_over(tick, ticket_in, policy):
    policy.warn_before_minutes = 5
    policy.save()
    ticket = ticket_in(TicketStatus.NEW)
    first = Clock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.warn_at == later(ticket, 10)
    assert tick(ticket, 10).warned == 1
    assert tick(ticket, 11).warned == 0  # once
    warning = Run.objects.get(ticket=ticket, reason=Reason.WARNING)
    assert paged(ticket) == [["dev"]]
    tick(ticket, 15)
    warning.refresh_from_db()
    assert (warning.state, warning.why_ended) == (
        RunState.STOPPED, "the deadline passed: the breach's run takes over")
    assert Run.objects.get(ticket=ticket, reason=Reason.BREACH).state == RunState.ACTIVE
    assert paged(ticket) == [["dev"], ["dev"]]


def test_a_high_ticket_filed_starts_its_chain_at_once(cast, ticket_in, chain):
    chain.on_high_filed = True
    chain.save()
    low = ticket_in(TicketStatus.NEW, priority=Priority.LOW)
    high = ticket_in(TicketStatus.NEW, priority=Priority.CRITICAL)
    assert not Run.objects.filter(ticket=low).exists()
    assert Run.objects.get(ticket=high).reason == Reason.HIGH_FILED
    assert paged(high) == [["dev"]]


def test_nobody_to_page_moves_the_chain_on_and_clients_are_never_paged(tick, cast, ticket_in, policy):
    lone = Chain.objects.create(name="Lone")
    Step.objects.create(chain=lone, position=0, target=Target.ASSIGNED)
    step = Step.objects.create(chain=lone, position=1, target=Target.USERS)
    step.users.set([cast.client, cast.other_developer])
    policy.chain = lone
    policy.save()
    ticket = ticket_in(TicketStatus.NEW)  # no developer assigned yet
    assert tick(ticket, 15).stepped == 1  # the second step, due at once after the first
    assert "nobody to page at Lone, step 1 of 2" in notes(ticket)[1]
    assert paged(ticket) == [["other_dev"]]


def test_answers_on_a_page_snooze_escalate_and_are_taken_once(tick, ticket_in, policy, cast):
    ticket = ticket_in(TicketStatus.NEW)
    tick(ticket, 15)
    page = Page.objects.get(run__ticket=ticket, user=cast.developer)
    assert "someone else" in runs.answer(page_id=page.pk, actor=cast.admin, what=Answer.SNOOZE)
    told = runs.answer(page_id=page.pk, actor=cast.developer, what=Answer.SNOOZE)
    assert told.startswith("Snoozed")
    run = Run.objects.get(ticket=ticket)
    assert run.due_at == later(ticket, 15 + 30)
    again = runs.answer(page_id=page.pk, actor=cast.developer, what=Answer.ESCALATE)
    assert again.startswith("You already answered this page") and "Snoozed" in again
    assert paged(ticket) == [["dev"]]

    other = ticket_in(TicketStatus.NEW)
    tick(other, 15)
    page = Page.objects.get(run__ticket=other, user=cast.developer)
    assert runs.answer(page_id=page.pk, actor=cast.developer, what=Answer.ESCALATE).startswith(
        "Escalated")
    assert paged(other) == [["dev"], ["admin"]]
    admin_page = Page.objects.get(run__ticket=other, user=cast.admin)
    assert runs.answer(page_id=admin_page.pk, actor=cast.admin,
                       what=Answer.ACKNOWLEDGE).startswith("Acknowledged")
    late = runs.answer(page_id=page.pk, actor=cast.developer, what=Answer.ACKNOWLEDGE)
    assert late.startswith("You already answered")
    first_dev_page = Page.objects.get(run__ticket=ticket, user=cast.developer)
    Page.objects.filter(pk=first_dev_page.pk).update(answer="")
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="reject",
                               reason="Not ours.")
    ended = runs.answer(page_id=first_dev_page.pk, actor=cast.developer, what=Answer.ACKNOWLEDGE)
    # Rejecting is the first response, so the run serving that target stopped.
    assert ended.startswith("Nothing done: paging for ticket") and "target was reached" in ended
