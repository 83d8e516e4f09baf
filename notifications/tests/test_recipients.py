"""Who is told about each event: the issue's table, minus the actor and inactive users."""
import pytest

from accounts.tests.factories import make_admin
from tickets.transitions import Party
from notifications.recipients import recipients_for
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def told(ticket, event, actor=None):
    return [(r.user.username, r.party) for r in recipients_for(
        ticket=ticket, event=event, actor_id=actor.pk if actor else None)]


@pytest.mark.parametrize(
    "event, expected",
    [
        (E.TICKET_CREATED, [("admin", Party.ADMIN), ("admin2", Party.ADMIN)]),
        (E.TICKET_OPENED, [("client", Party.OWNER)]),
        (E.DEVELOPER_ASSIGNED, [("dev", Party.ASSIGNED_DEVELOPER), ("client", Party.OWNER)]),
        (E.WORK_STARTED, [("client", Party.OWNER)]),
        (E.WORK_FINISHED, [("client", Party.OWNER), ("admin", Party.ADMIN), ("admin2", Party.ADMIN)]),
        (E.TICKET_CLOSED, [("client", Party.OWNER), ("dev", Party.ASSIGNED_DEVELOPER)]),
        (E.TICKET_REJECTED, [("client", Party.OWNER)]),
        (E.TICKET_UPDATED, []),
    ],
)
def test_recipients_of_each_event(cast, ticket_in, event, expected):
    make_admin(username="admin2")
    ticket = ticket_in(TicketStatus.FINISHED)
    assert told(ticket, event) == expected


def test_the_actor_is_not_told(cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    assert ("admin", Party.ADMIN) not in told(ticket, E.WORK_FINISHED, actor=cast.admin)
    assert told(ticket, E.TICKET_CLOSED, actor=cast.client) == [("dev", Party.ASSIGNED_DEVELOPER)]


def test_inactive_users_are_never_told(cast, ticket_in):
    make_admin(username="retired", is_active=False)
    ticket = ticket_in(TicketStatus.FINISHED)
    cast.client.is_active = False
    cast.client.save()
    ticket.refresh_from_db()
    assert told(ticket, E.TICKET_CREATED) == [("admin", Party.ADMIN)]
    assert told(ticket, E.TICKET_CLOSED) == [("dev", Party.ASSIGNED_DEVELOPER)]


def test_an_admin_who_filed_the_ticket_hears_once_as_its_client(cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED, client=cast.admin)
    assert told(ticket, E.WORK_FINISHED, actor=cast.developer) == [("admin", Party.OWNER)]
