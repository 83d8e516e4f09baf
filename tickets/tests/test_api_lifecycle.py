"""Every lifecycle action, from every status, by every kind of caller, through the HTTP API."""
import pytest

from tickets.models import TicketEvent, TicketEventType, TicketStatus as S

CALLERS = ("anonymous", "owner", "other_client", "assigned_developer", "other_developer", "admin")

# Written out from the issue, not read from tickets/transitions.py.
WHO_MAY = {
    "open": {"admin"},
    "assign": {"admin"},
    "start": {"assigned_developer"},
    "finish": {"assigned_developer"},
    "close": {"admin", "owner"},
    "reject": {"admin"},
    "reopen": {"admin", "owner"},
}
FROM = {
    "open": {S.NEW},
    "assign": {S.OPENED, S.ASSIGNED, S.IN_PROGRESS},
    "start": {S.ASSIGNED},
    "finish": {S.IN_PROGRESS},
    "close": {S.FINISHED},
    "reject": {S.NEW, S.OPENED},
    "reopen": {S.FINISHED},
}
TO = {
    "open": S.OPENED, "assign": S.ASSIGNED, "start": S.IN_PROGRESS, "finish": S.FINISHED,
    "close": S.CLOSED, "reject": S.REJECTED, "reopen": S.IN_PROGRESS,
}
EVENT = {
    "open": TicketEventType.TICKET_OPENED, "assign": TicketEventType.DEVELOPER_ASSIGNED,
    "start": TicketEventType.WORK_STARTED, "finish": TicketEventType.WORK_FINISHED,
    "close": TicketEventType.TICKET_CLOSED, "reject": TicketEventType.TICKET_REJECTED,
    "reopen": TicketEventType.TICKET_REOPENED,
}
# A developer sees a ticket only once it has been assigned to them.
ASSIGNED_STATUSES = {S.ASSIGNED, S.IN_PROGRESS, S.FINISHED, S.CLOSED}


def expected_status_code(action: str, status: str, caller: str) -> int:
    if caller == "anonymous":
        return 401
    if caller in ("other_client", "other_developer"):
        return 404
    if caller == "assigned_developer" and status not in ASSIGNED_STATUSES:
        return 404
    if caller not in WHO_MAY[action]:
        return 403
    if status not in FROM[action]:
        return 409
    return 200


def user_for(cast, caller):
    return {
        "anonymous": None,
        "owner": cast.client,
        "other_client": cast.other_client,
        "assigned_developer": cast.developer,
        "other_developer": cast.other_developer,
        "admin": cast.admin,
    }[caller]


def body_for(action: str, cast) -> dict:
    return {
        "assign": {"developer": cast.other_developer.pk},
        "finish": {"resolution": "Rotated the session key."},
        "reject": {"reason": "Not a bug: working as designed."},
    }.get(action, {})


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(WHO_MAY))
def test_action_matrix(api, cast, ticket_in, action, status, caller):
    ticket = ticket_in(status)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()

    response = api(user_for(cast, caller)).post(
        f"/api/tickets/{ticket.pk}/{action}/", body_for(action, cast), format="json"
    )

    expected = expected_status_code(action, status, caller)
    assert response.status_code == expected, response.json()
    ticket.refresh_from_db()
    if expected == 200:
        assert ticket.status == TO[action]
        assert response.json()["status"] == TO[action]
        last = TicketEvent.objects.filter(ticket=ticket).last()
        assert (last.event, last.from_status, last.to_status) == (EVENT[action], status, TO[action])
        assert last.actor == user_for(cast, caller)
    else:
        assert ticket.status == status
        assert TicketEvent.objects.filter(ticket=ticket).count() == events_before
    if expected == 409:
        body = response.json()
        assert set(body) >= {"detail", "status", "allowed_actions"}
        assert body["status"] == status
        assert action not in body["allowed_actions"]
