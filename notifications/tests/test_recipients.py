"""Who is told about each event: the issue's table, minus the actor and inactive users."""
import pytest

from accounts.tests.factories import make_admin
from notifications.messages import Audience
from notifications.recipients import recipients_for
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def told(ticket, event, actor=None):
    return [(r.user.username, r.audience) for r in recipients_for(
        ticket=ticket, event=event, actor_id=actor.pk if actor else None)]


@pytest.mark.parametrize(
    "event, expected",
    [
        (E.TICKET_CREATED, [("admin", Audience.ADMIN), ("admin2", Audience.ADMIN)]),
        (E.TICKET_OPENED, [("client", Audience.CLIENT)]),
        (E.DEVELOPER_ASSIGNED, [("dev", Audience.DEVELOPER), ("client", Audience.CLIENT)]),
        (E.WORK_STARTED, [("client", Audience.CLIENT)]),
        (E.WORK_FINISHED, [("client", Audience.CLIENT), ("admin", Audience.ADMIN), ("admin2", Audience.ADMIN)]),
        (E.TICKET_CLOSED, [("client", Audience.CLIENT), ("dev", Audience.DEVELOPER)]),
        (E.TICKET_REJECTED, [("client", Audience.CLIENT)]),
        (E.TICKET_UPDATED, []),
    ],
)
def test_recipients_of_each_event(cast, ticket_in, event, expected):
    make_admin(username="admin2")
    ticket = ticket_in(TicketStatus.FINISHED)
    assert told(ticket, event) == expected


def test_the_actor_is_not_told(cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    assert ("admin", Audience.ADMIN) not in told(ticket, E.WORK_FINISHED, actor=cast.admin)
    assert told(ticket, E.TICKET_CLOSED, actor=cast.client) == [("dev", Audience.DEVELOPER)]


def test_inactive_users_are_never_told(cast, ticket_in):
    make_admin(username="retired", is_active=False)
    ticket = ticket_in(TicketStatus.FINISHED)
    cast.client.is_active = False
    cast.client.save()
    ticket.refresh_from_db()
    assert told(ticket, E.TICKET_CREATED) == [("admin", Audience.ADMIN)]
    assert told(ticket, E.TICKET_CLOSED) == [("dev", Audience.DEVELOPER)]


def test_an_admin_who_filed_the_ticket_hears_once_as_its_client(cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED, client=cast.admin)
    assert told(ticket, E.WORK_FINISHED, actor=cast.developer) == [("admin", Audience.CLIENT)]
