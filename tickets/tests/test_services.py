"""The ticket services on their own: history rows, refusals, and row locking under concurrency."""
import threading

import pytest
from django.db import connection, connections

from Incident.errors import InvalidInput
from tickets import services
from tickets.errors import ActionNotPermitted, TransitionNotAllowed
from tickets.models import Ticket, TicketEvent, TicketEventType, TicketStatus


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


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_transitions_let_exactly_one_through(cast, ticket_in):
    if not _is_postgres():
        pytest.skip("SQLite has no row locks; .ci/run runs this on PostgreSQL")
    ticket = ticket_in(TicketStatus.NEW)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def open_it() -> None:
        try:
            barrier.wait()
            services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="open")
            result = "ok"
        except TransitionNotAllowed:
            result = "conflict"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=open_it) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * (threads_count - 1) + ["ok"]
    assert ticket.events.filter(event=TicketEventType.TICKET_OPENED).count() == 1
