"""Fixtures for ticket tests: a cast of users and tickets taken to any status by the services."""
from dataclasses import dataclass

import pytest

from accounts.tests.factories import make_admin, make_client, make_developer
from tickets import services
from tickets.models import Category, Priority, Ticket, TicketStatus

# The actions, with their bodies, that take a NEW ticket to each status.
PATH_TO = {
    TicketStatus.NEW: [],
    TicketStatus.OPENED: ["open"],
    TicketStatus.ASSIGNED: ["open", "assign"],
    TicketStatus.IN_PROGRESS: ["open", "assign", "start"],
    TicketStatus.FINISHED: ["open", "assign", "start", "finish"],
    TicketStatus.CLOSED: ["open", "assign", "start", "finish", "close"],
    TicketStatus.REJECTED: ["reject"],
}


@dataclass
class Cast:
    admin: object
    client: object
    other_client: object
    developer: object
    other_developer: object


@pytest.fixture
def cast(db) -> Cast:
    return Cast(
        admin=make_admin(username="admin"),
        client=make_client(username="client", first_name="John", last_name="Doe"),
        other_client=make_client(username="other_client"),
        developer=make_developer(username="dev"),
        other_developer=make_developer(username="other_dev"),
    )


@pytest.fixture
def staff(client, cast):
    """A Django test client logged in to the admin as `cast.admin`."""
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.set_password("pw")
    cast.admin.save()
    client.login(username="admin", password="pw")
    return client


@pytest.fixture
def ticket_in(cast):
    """Return a function making a ticket of `cast.client` in the given status."""

    def make(status: str = TicketStatus.NEW, **fields) -> Ticket:
        ticket = services.ticket_create(
            client=fields.pop("client", cast.client),
            title=fields.pop("title", "Login page not working"),
            description=fields.pop("description", "Users cannot login to the portal..."),
            project_name=fields.pop("project_name", "Web Portal"),
            priority=fields.pop("priority", Priority.HIGH),
            category=fields.pop("category", Category.BUG),
        )
        actors = {
            "open": cast.admin, "assign": cast.admin, "start": cast.developer,
            "finish": cast.developer, "close": cast.admin, "reject": cast.admin,
        }
        for action in PATH_TO[status]:
            ticket = services.ticket_transition(
                ticket_id=ticket.pk,
                actor=actors[action],
                action=action,
                developer_id=cast.developer.pk if action == "assign" else None,
                resolution="Fixed the session cookie." if action == "finish" else "",
                reason="Duplicate of #1." if action == "reject" else "",
            )
        return ticket

    return make
