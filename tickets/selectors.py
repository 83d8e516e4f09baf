"""Read-side rules for tickets: who sees which ticket, and how a user stands towards one."""
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth
from django.http import Http404

from accounts.models import Role
from accounts.selectors import role_of
from Incident.prepared import Prepared
from tickets import transitions
from tickets.models import PRIORITY_RANK, Satisfaction, Ticket, TicketEvent, TicketEventType


def tickets_visible_to(*, user: AbstractBaseUser) -> QuerySet:
    return visible_tickets(role=role_of(user), user_id=user.pk)


def visible_tickets(*, role: str | None, user_id: int) -> QuerySet:
    """Admins see every ticket, developers those assigned to them, clients those they filed."""
    tickets = Ticket.objects.select_related("client", "assigned_developer")
    if role == Role.ADMIN:
        return tickets
    if role == Role.DEVELOPER:
        return tickets.filter(assigned_developer_id=user_id)
    return tickets.filter(client_id=user_id)


def tickets_list(*, role: str | None, user_id: int, by_priority: bool = False) -> QuerySet:
    """The tickets visible to this user; `by_priority`: with `priority_rank`, so the list can sort
    by severity (only then: building and comparing the expression costs every other request too)."""
    tickets = visible_tickets(role=role, user_id=user_id)
    if not by_priority:
        return tickets
    rank = Case(
        *(When(priority=priority, then=Value(value)) for priority, value in PRIORITY_RANK.items()),
        output_field=IntegerField(),
    )
    return tickets.annotate(priority_rank=rank)


# A ticket the caller may not see is answered as one that does not exist.
NOT_VISIBLE = "No ticket with this id is visible to you."


def ticket_get(*, user: AbstractBaseUser, ticket_id: int) -> Ticket:
    """The ticket if `user` may see it; 404 otherwise, so its existence is not revealed."""
    ticket = tickets_visible_to(user=user).filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404(NOT_VISIBLE)
    return ticket


# A ticket's page, read on nearly every request after a change: compiled once per role.
_TICKET_ROW = Prepared(lambda shape, user_id, ticket_id: visible_tickets(
    role=shape[0], user_id=user_id).filter(pk=ticket_id).order_by().values(*shape[1]))
_HISTORY = Prepared(lambda shape, ticket_id: visible_events(
    role=shape[0]).filter(ticket_id=ticket_id).values(*shape[1]))


# The columns that say who stands where towards a ticket (parties_of, the transitions table).
STANDING = ("id", "status", "client_id", "assigned_developer_id")


def ticket_standing(*, user: AbstractBaseUser, ticket_id: int) -> Ticket:
    """The ticket's STANDING columns only, if `user` may see it (404 otherwise): enough to judge
    what they may do to it, in one precompiled query, for requests that need no more."""
    found = _TICKET_ROW.rows((role_of(user), STANDING), user_id=user.pk, ticket_id=int(ticket_id))
    if not found:
        raise Http404(NOT_VISIBLE)
    return Ticket(**found[0])


def ticket_values(*, user: AbstractBaseUser, ticket_id: int, columns: tuple[str, ...],
                  event_columns: tuple[str, ...]) -> tuple[dict, list[dict]]:
    """The ticket's `columns` and its history's `event_columns` as `user` may see them (rows,
    not model instances: what a ticket's page shows); 404 otherwise, as ticket_get."""
    role = role_of(user)
    found = _TICKET_ROW.rows((role, columns), user_id=user.pk, ticket_id=int(ticket_id))
    if not found:
        raise Http404(NOT_VISIBLE)
    return found[0], _HISTORY.rows((role, event_columns), ticket_id=int(ticket_id))


def events_visible_to(*, user: AbstractBaseUser) -> QuerySet:
    return visible_events(role=role_of(user))


def visible_events(*, role: str | None) -> QuerySet:
    """History rows a user in `role` may read: everything, except internal notes for clients."""
    events = TicketEvent.objects.select_related("actor")
    if role == Role.CLIENT:
        events = events.filter(internal=False)
    return events


def comments_of(*, user: AbstractBaseUser, ticket: Ticket) -> QuerySet:
    return events_visible_to(user=user).filter(ticket=ticket, event=TicketEventType.COMMENT_ADDED)


def may_comment(*, user: AbstractBaseUser, ticket: Ticket) -> bool:
    return transitions.may_comment(ticket.status, parties_of(user=user, ticket=ticket))


def parties_of(*, user: AbstractBaseUser, ticket: Ticket) -> frozenset[transitions.Party]:
    return transitions.parties(
        role=role_of(user),
        user_id=user.pk,
        client_id=ticket.client_id,
        developer_id=ticket.assigned_developer_id,
    )


def allowed_actions_for(*, user: AbstractBaseUser, ticket: Ticket) -> list[str]:
    return transitions.allowed_actions(ticket.status, parties_of(user=user, ticket=ticket))


@dataclass(frozen=True)
class SatisfactionRow:
    """Ratings of one developer, project or month. CSAT is the share of 😀 among them (the usual
    definition: satisfied answers out of all answers)."""

    key: str | date
    unhappy: int
    neutral: int
    happy: int

    @property
    def rated(self) -> int:
        return self.unhappy + self.neutral + self.happy

    @property
    def csat(self) -> str:
        return f"{100 * self.happy / self.rated:.0f}%"


SATISFACTION_GROUPS = {"developer": "assigned_developer__username", "project": "project_name",
                       "month": "month"}


def satisfaction_by(*, since: datetime) -> dict[str, list[SatisfactionRow]]:
    """The clients' ratings since `since`, per developer, project and month (newest month first;
    otherwise the most rated first): one grouped query over the rated tickets (an index holds
    only those), added up here per grouping."""
    scores = {f"n{score}": Count("pk", filter=Q(satisfaction=score)) for score in Satisfaction}
    rows = (Ticket.objects.filter(rated_at__gte=since).annotate(month=TruncMonth("rated_at"))
            .values(*SATISFACTION_GROUPS.values()).annotate(**scores).order_by())
    tallies: dict[str, dict] = {group: {} for group in SATISFACTION_GROUPS}
    for row in rows:
        counts = [row[f"n{score}"] for score in Satisfaction]
        for group, field in SATISFACTION_GROUPS.items():
            key = row[field].date() if group == "month" else (row[field] or "(none)")
            kept = tallies[group].setdefault(key, [0] * len(counts))
            tallies[group][key] = [a + b for a, b in zip(kept, counts)]
    found = {group: [SatisfactionRow(key, *counts) for key, counts in kept.items()]
             for group, kept in tallies.items()}
    found["month"].sort(key=lambda row: row.key, reverse=True)
    for group in ("developer", "project"):
        found[group].sort(key=lambda row: (-row.rated, str(row.key)))
    return found
