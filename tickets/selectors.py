"""Read-side rules for tickets: who sees which ticket, and how a user stands towards one."""
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from accounts.models import Role
from accounts.selectors import role_of
from tickets import transitions
from tickets.models import PRIORITY_RANK, Ticket, TicketEvent, TicketEventType


def tickets_visible_to(*, user: AbstractBaseUser) -> QuerySet:
    """Admins see every ticket, developers those assigned to them, clients those they filed."""
    tickets = Ticket.objects.select_related("client", "assigned_developer")
    role = role_of(user)
    if role == Role.ADMIN:
        return tickets
    if role == Role.DEVELOPER:
        return tickets.filter(assigned_developer=user)
    return tickets.filter(client=user)


def tickets_list(*, user: AbstractBaseUser, by_priority: bool = False) -> QuerySet:
    """The visible tickets; `by_priority`: with `priority_rank`, so the list can sort by severity
    (only then: building and comparing the expression costs every other request too)."""
    tickets = tickets_visible_to(user=user)
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


def ticket_values(*, user: AbstractBaseUser, ticket_id: int, columns, event_columns
                  ) -> tuple[dict, list[dict]]:
    """The ticket's `columns` and its history's `event_columns` as `user` may see them (rows,
    not model instances: what a ticket's page shows); 404 otherwise, as ticket_get."""
    row = tickets_visible_to(user=user).filter(pk=ticket_id).order_by().values(*columns).first()
    if row is None:
        raise Http404(NOT_VISIBLE)
    return row, list(events_visible_to(user=user).filter(ticket_id=ticket_id).values(*event_columns))


def events_visible_to(*, user: AbstractBaseUser) -> QuerySet:
    """History rows `user` may read: everything, except internal notes for clients."""
    events = TicketEvent.objects.select_related("actor")
    if role_of(user) == Role.CLIENT:
        events = events.filter(internal=False)
    return events


def comments_of(*, user: AbstractBaseUser, ticket: Ticket) -> QuerySet:
    return events_visible_to(user=user).filter(ticket=ticket, event=TicketEventType.COMMENT_ADDED)


def may_comment(*, user: AbstractBaseUser, ticket: Ticket) -> bool:
    return transitions.may_comment(ticket.status, parties_of(user=user, ticket=ticket))


def parties_of(*, user: AbstractBaseUser, ticket: Ticket) -> set[transitions.Party]:
    return transitions.parties(
        role=role_of(user),
        user_id=user.pk,
        client_id=ticket.client_id,
        developer_id=ticket.assigned_developer_id,
    )


def allowed_actions_for(*, user: AbstractBaseUser, ticket: Ticket) -> list[str]:
    return transitions.allowed_actions(ticket.status, parties_of(user=user, ticket=ticket))
