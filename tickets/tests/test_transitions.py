"""The lifecycle table, row by row, and the pure helpers that read it."""
import pytest

from accounts.models import Role
from tickets import transitions
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus as S
from tickets.transitions import Party as P

# The table, written out independently of tickets/transitions.py.
EXPECTED = {
    "open": ({S.NEW}, S.OPENED, {P.ADMIN}, E.TICKET_OPENED),
    "assign": ({S.OPENED, S.ASSIGNED, S.IN_PROGRESS}, S.ASSIGNED, {P.ADMIN}, E.DEVELOPER_ASSIGNED),
    "start": ({S.ASSIGNED}, S.IN_PROGRESS, {P.ASSIGNED_DEVELOPER}, E.WORK_STARTED),
    "finish": ({S.IN_PROGRESS}, S.FINISHED, {P.ASSIGNED_DEVELOPER}, E.WORK_FINISHED),
    "close": ({S.FINISHED}, S.CLOSED, {P.ADMIN, P.OWNER}, E.TICKET_CLOSED),
    "reject": ({S.NEW, S.OPENED}, S.REJECTED, {P.ADMIN}, E.TICKET_REJECTED),
    "reopen": ({S.FINISHED}, S.IN_PROGRESS, {P.ADMIN, P.OWNER}, E.TICKET_REOPENED),
}


def test_the_table_has_exactly_the_seven_actions_in_lifecycle_order():
    assert transitions.ACTIONS == ("open", "assign", "start", "finish", "close", "reject", "reopen")


@pytest.mark.parametrize("action", EXPECTED)
def test_each_row_matches_the_lifecycle(action):
    sources, target, parties, event = EXPECTED[action]
    row = transitions.TRANSITIONS[action]
    assert row.sources == sources
    assert row.target == target
    assert row.parties == parties
    assert row.event == event


def test_closed_and_rejected_are_final():
    everyone = set(transitions.Party)
    assert transitions.allowed_actions(S.CLOSED, everyone) == []
    assert transitions.allowed_actions(S.REJECTED, everyone) == []


@pytest.mark.parametrize(
    "role, user_id, client_id, developer_id, expected",
    [
        (Role.ADMIN, 1, 2, None, {P.ADMIN}),
        (Role.ADMIN, 1, 1, None, {P.ADMIN, P.OWNER}),
        (Role.CLIENT, 2, 2, 3, {P.OWNER}),
        (Role.CLIENT, 4, 2, 3, set()),
        (Role.DEVELOPER, 3, 2, 3, {P.ASSIGNED_DEVELOPER}),
        (Role.DEVELOPER, 5, 2, 3, set()),
        (Role.DEVELOPER, 3, 2, None, set()),
        (None, 2, 2, 3, set()),
    ],
)
def test_parties(role, user_id, client_id, developer_id, expected):
    assert transitions.parties(
        role=role, user_id=user_id, client_id=client_id, developer_id=developer_id
    ) == expected


@pytest.mark.parametrize(
    "status, who, expected",
    [
        (S.NEW, {P.ADMIN}, ["open", "reject"]),
        (S.NEW, {P.OWNER}, []),
        (S.OPENED, {P.ADMIN}, ["assign", "reject"]),
        (S.ASSIGNED, {P.ADMIN}, ["assign"]),
        (S.ASSIGNED, {P.ASSIGNED_DEVELOPER}, ["start"]),
        (S.IN_PROGRESS, {P.ASSIGNED_DEVELOPER}, ["finish"]),
        (S.IN_PROGRESS, {P.ADMIN}, ["assign"]),
        (S.FINISHED, {P.OWNER}, ["close", "reopen"]),
        (S.FINISHED, {P.ADMIN, P.OWNER}, ["close", "reopen"]),
        (S.FINISHED, {P.ASSIGNED_DEVELOPER}, []),
        (S.CLOSED, {P.ADMIN, P.OWNER}, []),
        (S.REJECTED, {P.ADMIN}, []),
        (S.NEW, set(), []),
    ],
)
def test_allowed_actions(status, who, expected):
    assert transitions.allowed_actions(status, who) == expected


@pytest.mark.parametrize(
    "status, who, expected",
    [
        (S.NEW, {P.OWNER}, True),
        (S.OPENED, {P.OWNER}, False),
        (S.OPENED, {P.ADMIN}, True),
        (S.FINISHED, {P.ADMIN}, True),
        (S.CLOSED, {P.ADMIN}, False),
        (S.REJECTED, {P.ADMIN, P.OWNER}, False),
        (S.NEW, {P.ASSIGNED_DEVELOPER}, False),
    ],
)
def test_may_edit(status, who, expected):
    assert transitions.may_edit(status, who) is expected


def test_every_action_is_an_enum_member_with_one_transition():
    from tickets.transitions import ACTIONS, TRANSITIONS, Action

    assert set(TRANSITIONS) == set(Action) and ACTIONS == tuple(Action)
    assert all(isinstance(t.action, Action) for t in TRANSITIONS.values())
    # The enum's values are the URL segments clients already use.
    assert [a.value for a in Action] == ["open", "assign", "start", "finish", "close", "reject",
                                         "reopen"]
