"""The ticket lifecycle as data: which action moves which status where, who may take it, and the
event it emits. Pure: no database, no HTTP. The services enforce it; the API's `allowed_actions`
and the 409 answer read it.
"""
from collections.abc import Set
from dataclasses import dataclass
from enum import Enum
from functools import cache

from accounts.models import Role
from tickets.models import TicketEventType as Event
from tickets.models import TicketStatus as S


class Action(str, Enum):
    """The lifecycle actions, as they appear in URLs (`POST /api/tickets/{id}/<action>/`)."""

    OPEN = "open"
    ASSIGN = "assign"
    START = "start"
    FINISH = "finish"
    CLOSE = "close"
    REJECT = "reject"
    REOPEN = "reopen"

    def __str__(self) -> str:
        return self.value


class Party(str, Enum):
    """How a user stands towards one ticket."""

    ADMIN = "ADMIN"
    OWNER = "OWNER"  # the client who filed it
    ASSIGNED_DEVELOPER = "ASSIGNED_DEVELOPER"
    PAGED = "PAGED"  # staff an escalation step paged (tickets.escalation); never a client


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[S]
    target: S
    parties: frozenset[Party]
    event: Event


def _t(action: Action, sources: set[S], target: S, parties: set[Party], event: Event) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(parties), event)


A = Action
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        _t(A.OPEN, {S.NEW}, S.OPENED, {Party.ADMIN}, Event.TICKET_OPENED),
        _t(A.ASSIGN, {S.OPENED, S.ASSIGNED, S.IN_PROGRESS}, S.ASSIGNED, {Party.ADMIN},
           Event.DEVELOPER_ASSIGNED),
        _t(A.START, {S.ASSIGNED}, S.IN_PROGRESS, {Party.ASSIGNED_DEVELOPER}, Event.WORK_STARTED),
        _t(A.FINISH, {S.IN_PROGRESS}, S.FINISHED, {Party.ASSIGNED_DEVELOPER}, Event.WORK_FINISHED),
        _t(A.CLOSE, {S.FINISHED}, S.CLOSED, {Party.ADMIN, Party.OWNER}, Event.TICKET_CLOSED),
        _t(A.REJECT, {S.NEW, S.OPENED}, S.REJECTED, {Party.ADMIN}, Event.TICKET_REJECTED),
        # "Not fixed": the work goes back to the developer.
        _t(A.REOPEN, {S.FINISHED}, S.IN_PROGRESS, {Party.ADMIN, Party.OWNER}, Event.TICKET_REOPENED),
    )
}

ACTIONS: tuple[Action, ...] = tuple(TRANSITIONS)

# Who may edit a ticket's details (PATCH), and in which statuses.
EDITABLE_STATUSES: dict[Party, frozenset[S]] = {
    Party.OWNER: frozenset({S.NEW}),
    Party.ADMIN: frozenset(set(S) - {S.CLOSED, S.REJECTED}),
}


# The parties who read and write internal notes: never the client.
STAFF = frozenset({Party.ADMIN, Party.ASSIGNED_DEVELOPER})

# A ticket takes comments from any of its parties until it is over.
NO_COMMENTS = frozenset({S.CLOSED, S.REJECTED})


def may_comment(status: str, who: Set[Party]) -> bool:
    return bool(who) and status not in NO_COMMENTS


def parties(*, role: str | None, user_id: int, client_id: int, developer_id: int | None
            ) -> frozenset[Party]:
    """The parties a user is to a ticket, from their role and the ticket's two user ids."""
    found = []
    if role == Role.ADMIN:
        found.append(Party.ADMIN)
    if user_id == client_id and role in (Role.CLIENT, Role.ADMIN):
        found.append(Party.OWNER)
    if role == Role.DEVELOPER and developer_id is not None and user_id == developer_id:
        found.append(Party.ASSIGNED_DEVELOPER)
    return frozenset(found)


def may_take(action: str, who: Set[Party]) -> bool:
    """Whether these parties may ever take `action`, whatever the status."""
    return bool(TRANSITIONS[action].parties & who)


def allowed_actions(status: str, who: Set[Party]) -> list[str]:
    """The actions these parties may take on a ticket in `status`, in lifecycle order."""
    return list(_allowed(status, frozenset(who)))


@cache  # a few statuses times a few kinds of party: a list page asks the same of most rows
def _allowed(status: str, who: frozenset[Party]) -> tuple[str, ...]:
    return tuple(t.action.value for t in TRANSITIONS.values()
                 if status in t.sources and t.parties & who)


def may_edit(status: str, who: Set[Party]) -> bool:
    return any(status in EDITABLE_STATUSES.get(party, ()) for party in who)
