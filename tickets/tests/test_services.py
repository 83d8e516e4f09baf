"""The ticket services on their own: history rows, refusals, and row locking under concurrency."""
import pytest

from Incident.errors import InvalidInput
from tickets import services
from tickets.errors import ActionNotPermitted, TransitionNotAllowed
from tickets.models import Ticket, TicketEvent, TicketEventType, TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres


@pytest.mark.django_db
def test_create_writes_the_ticket_and_its_creation_event(cast):
    ticket = services.ticket_create(
        client=cast.client, title="T", description="D", project_name="P", priority="LOW", category="BUG"
    )
    event = TicketEvent.objects.get(ticket=ticket)
    assert ticket.status == TicketStatus.NEW
    assert (event.event, event.from_status, event.to_status, event.actor) == (
        TicketEventType.TICKET_CREATED, "", TicketStatus.NEW, cast.client,
    )


@pytest.mark.django_db
def test_create_refuses_a_developer(cast):
    with pytest.raises(ActionNotPermitted):
        services.ticket_create(client=cast.developer, title="T", description="D", project_name="P")
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_transition_saves_status_and_history_together(cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="reject", reason="Spam")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (TicketStatus.REJECTED, "Spam")
    last = ticket.events.last()
    assert (last.event, last.from_status, last.to_status, last.note) == (
        TicketEventType.TICKET_REJECTED, TicketStatus.NEW, TicketStatus.REJECTED, "Spam",
    )


@pytest.mark.django_db
def test_a_refused_transition_changes_nothing(cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="open")
    assert refused.value.extra == {"status": "CLOSED", "allowed_actions": []}
    assert ticket.events.count() == 6


@pytest.mark.django_db
def test_a_bad_developer_rolls_back_the_whole_transition(cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    with pytest.raises(InvalidInput):
        services.ticket_transition(
            ticket_id=ticket.pk, actor=cast.admin, action="assign", developer_id=cast.client.pk
        )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED
    assert ticket.events.count() == 2


@pytest.mark.django_db
def test_update_records_only_real_changes(cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    services.ticket_update(
        ticket_id=ticket.pk, actor=cast.client, changes={"title": ticket.title, "priority": "LOW"}
    )
    assert ticket.events.last().note == "Edited: priority"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_transitions_let_exactly_one_through(cast, ticket_in):
    skip_unless_postgres()
    ticket = ticket_in(TicketStatus.NEW)
    threads_count = 8

    def open_it() -> str:
        try:
            services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="open")
            return "ok"
        except TransitionNotAllowed:
            return "conflict"

    outcomes = all_at_once(threads_count, open_it)

    assert sorted(outcomes) == ["conflict"] * (threads_count - 1) + ["ok"]
    assert ticket.events.filter(event=TicketEventType.TICKET_OPENED).count() == 1
