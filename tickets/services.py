"""Write-side rules for tickets. `ticket_transition` is the only code that changes a status.

Creation, every transition and every comment emit their event (tickets.events) inside their
transaction; notifications listens. Edits of details (TICKET_UPDATED) emit nothing.
"""
import hashlib
import json
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import active_developer, role_of
from Incident.errors import InvalidInput
from tickets import events, transitions
from tickets.transitions import Action
from tickets.errors import (
    ActionNotPermitted,
    CommentNotAllowed,
    EditNotAllowed,
    IdempotencyKeyReused,
    RatingNotAllowed,
    TransitionNotAllowed,
)
from tickets.models import (
    Category,
    IdempotencyKey,
    Priority,
    Satisfaction,
    Source,
    Ticket,
    TicketEvent,
    TicketEventType,
    TicketStatus,
)
from tickets.selectors import parties_of
from tickets.sla import clocks

EDITABLE_FIELDS = ("title", "description", "priority", "category", "project_name")


def ticket_create(
    *,
    client: AbstractBaseUser,
    title: str,
    description: str,
    project_name: str,
    priority: str = Priority.MEDIUM,
    category: str = Category.OTHER,
    source: str = Source.API,
) -> Ticket:
    """File a new ticket as `client` (a CLIENT, or an ADMIN filing on someone's behalf)."""
    ensure_filing_allowed(client)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            client=client,
            title=title,
            description=description,
            project_name=project_name,
            priority=priority,
            category=category,
        )
        created = _record(
            ticket=ticket, event=TicketEventType.TICKET_CREATED, actor=client, from_status="",
            source=source,
        )
        events.emit(created)
    return ticket


def ensure_filing_allowed(user: AbstractBaseUser) -> None:
    if role_of(user) not in (Role.CLIENT, Role.ADMIN):
        raise ActionNotPermitted("Only clients and admins can create tickets.")


# How long a client's Idempotency-Key keeps returning the ticket it first filed.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def ticket_create_once(*, client: AbstractBaseUser, key: str, fields: dict) -> tuple[Ticket, bool]:
    """File a ticket unless `client` already filed one with this key in the last 24 hours.

    Returns the ticket and whether it was filed earlier (a replay, which notifies nobody). Two
    requests with the same key at the same moment both try to insert the key; the database's
    unique constraint lets one through, and the other rolls back its ticket and returns the first.
    """
    fingerprint = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()
    earlier = _ticket_for_key(client=client, key=key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier, True
    try:
        with transaction.atomic():
            # An expired key may be used again; so may, eventually, every key.
            IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW).delete()
            ticket = ticket_create(client=client, **fields)
            IdempotencyKey.objects.create(user=client, key=key, ticket=ticket, fingerprint=fingerprint)
    except IntegrityError:
        earlier = _ticket_for_key(client=client, key=key, fingerprint=fingerprint)
        if earlier is None:
            raise
        return earlier, True
    return ticket, False


def _ticket_for_key(*, client: AbstractBaseUser, key: str, fingerprint: str) -> Ticket | None:
    used = (
        IdempotencyKey.objects.select_related("ticket")
        .filter(user=client, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_WINDOW)
        .first()
    )
    if used is None:
        return None
    if used.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {key!r} already filed ticket {used.ticket_id} with a different "
            "body in the last 24 hours. Send a new key for a new ticket.",
            ticket=used.ticket_id,
        )
    return used.ticket


def ticket_update(*, ticket_id: int, actor: AbstractBaseUser, changes: dict) -> Ticket:
    """Edit a ticket's details. The client may while it is NEW; an admin until it is closed."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        ensure_edit_allowed(ticket=ticket, actor=actor)
        changed = [f for f in EDITABLE_FIELDS if f in changes and getattr(ticket, f) != changes[f]]
        if changed:
            for field in changed:
                setattr(ticket, field, changes[field])
            ticket.save(update_fields=[*changed, "updated_at"])
            _record(
                ticket=ticket,
                event=TicketEventType.TICKET_UPDATED,
                actor=actor,
                from_status=ticket.status,
                note="Edited: " + ", ".join(changed),
            )
            if "priority" in changed:
                clocks.priority_changed(ticket, actor, timezone.now())
    return ticket


def ensure_edit_allowed(*, ticket: Ticket, actor: AbstractBaseUser) -> None:
    """Raise 403 if the actor may never edit this ticket, 409 if its status forbids it now."""
    who = parties_of(user=actor, ticket=ticket)
    if not who & set(transitions.EDITABLE_STATUSES):
        raise ActionNotPermitted("Only the ticket's client or an admin can edit it.")
    if not transitions.may_edit(ticket.status, who):
        raise EditNotAllowed(
            why=_why_not_editable(ticket.status, who),
            status=ticket.status,
            allowed_actions=transitions.allowed_actions(ticket.status, who),
        )


def ticket_transition(
    *,
    ticket_id: int,
    actor: AbstractBaseUser,
    action: Action,
    developer_id: int | None = None,
    resolution: str = "",
    reason: str = "",
    source: str = Source.API,
) -> Ticket:
    """Take one lifecycle action on a ticket.

    The row is locked before the table is checked, so of two concurrent requests for the same
    move exactly one succeeds and the other sees the new status (409).
    """
    move = transitions.TRANSITIONS[action]
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        ensure_action_allowed(ticket=ticket, actor=actor, action=action)
        from_status = ticket.status
        changed, note = _apply_action_input(
            ticket, action=action, developer_id=developer_id, resolution=resolution, reason=reason
        )
        ticket.status = move.target
        ticket.save(update_fields=["status", *changed, "updated_at"])
        happened = _record(
            ticket=ticket, event=move.event, actor=actor, from_status=from_status, note=note,
            source=source,
        )
        events.emit(happened)
    return ticket


def comment_add(*, ticket_id: int, author: AbstractBaseUser, body: str, internal: bool = False,
                source: str = Source.API) -> TicketEvent:
    """Add a comment to a ticket's history and tell its other parties. Any party may comment
    until the ticket is closed or rejected; only its staff (an admin, its developer) may make it an
    internal note."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        ensure_comment_allowed(ticket=ticket, author=author, internal=internal)
        comment = _record(ticket=ticket, event=TicketEventType.COMMENT_ADDED, actor=author,
                          from_status=ticket.status, note=body, source=source, internal=internal)
        events.emit(comment)
    return comment


def ticket_rate(*, ticket_id: int, actor: AbstractBaseUser, score: int | None = None,
                comment: str = "", source: str = Source.API) -> Ticket:
    """The client's rating of the fix (Satisfaction) once the ticket is closed, and what they add
    to it. A later rating replaces the score (a slip of the thumb can be mended); a comment without
    a score adds to the rating already given. Each is on the ticket's history; nobody is notified.
    """
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        ensure_rating_allowed(ticket=ticket, actor=actor)
        if score is None and ticket.satisfaction is None:
            raise InvalidInput("score", "Rate the fix first: score 1 (😞), 2 (😐) or 3 (😀).")
        if score is not None:
            ticket.satisfaction, ticket.rated_at = score, timezone.now()
        if comment:
            ticket.satisfaction_comment = "\n\n".join(
                part for part in (ticket.satisfaction_comment, comment) if part)
        ticket.save(update_fields=["satisfaction", "rated_at", "satisfaction_comment", "updated_at"])
        label = Satisfaction(ticket.satisfaction).label
        _record(ticket=ticket, event=TicketEventType.TICKET_RATED, actor=actor,
                from_status=ticket.status, source=source,
                note="\n\n".join(part for part in (f"Rated {label}" if score else "", comment) if part))
    return ticket


def ensure_rating_allowed(*, ticket: Ticket, actor: AbstractBaseUser) -> None:
    """403 for anyone but the ticket's client; 409 until it is closed."""
    who = parties_of(user=actor, ticket=ticket)
    if transitions.Party.OWNER not in who:
        raise ActionNotPermitted("Only the ticket's client can rate the fix.")
    if ticket.status != TicketStatus.CLOSED:
        raise RatingNotAllowed(status=ticket.status,
                               allowed_actions=transitions.allowed_actions(ticket.status, who))


def ensure_comment_allowed(*, ticket: Ticket, author: AbstractBaseUser, internal: bool) -> None:
    """403 if the author is none of the ticket's parties, or its client writing an internal note;
    409 once the ticket is closed or rejected."""
    who = parties_of(user=author, ticket=ticket)
    if not who:
        raise ActionNotPermitted("Only the ticket's client, its developer or an admin can comment.")
    if internal and not who & transitions.STAFF:
        raise ActionNotPermitted("Only an admin or the ticket's developer can add an internal "
                                 "note; leave internal false.")
    if not transitions.may_comment(ticket.status, who):
        raise CommentNotAllowed(status=ticket.status)


def ensure_action_allowed(*, ticket: Ticket, actor: AbstractBaseUser, action: Action) -> None:
    """Raise 403 if `action` is never the actor's to take, 409 if the status does not allow it."""
    move = transitions.TRANSITIONS[action]
    who = parties_of(user=actor, ticket=ticket)
    if not transitions.may_take(action, who):
        raise ActionNotPermitted(_who_may(move))
    if ticket.status not in move.sources:
        raise TransitionNotAllowed(
            action=action,
            status=ticket.status,
            allowed_actions=transitions.allowed_actions(ticket.status, who),
        )


def _apply_action_input(
    ticket: Ticket, *, action: Action, developer_id: int | None, resolution: str, reason: str
) -> tuple[list[str], str]:
    """Set the fields an action carries; return the fields changed and the history note."""
    if action == Action.ASSIGN:
        developer = active_developer(user_id=developer_id) if developer_id is not None else None
        if developer is None:
            raise InvalidInput(
                "developer", f"User {developer_id} is not an active user with the DEVELOPER role."
            )
        if developer.pk == ticket.assigned_developer_id:
            raise InvalidInput("developer", f"{developer.username} is already assigned to this ticket.")
        ticket.assigned_developer = developer
        return ["assigned_developer"], f"Assigned to {developer.username}"
    if action == Action.FINISH:
        ticket.resolution = resolution
        return ["resolution"], resolution
    if action == Action.REJECT:
        ticket.rejection_reason = reason
        return ["rejection_reason"], reason
    if action == Action.REOPEN:
        return [], reason  # why it is not fixed, for the developer
    return [], ""


def _record(
    *, ticket: Ticket, event: str, actor: AbstractBaseUser, from_status: str, note: str = "",
    source: str = Source.API, internal: bool = False,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        event=event,
        from_status=from_status,
        to_status=ticket.status,
        actor=actor,
        note=note,
        source=source,
        internal=internal,
    )


def _who_may(move: transitions.Transition) -> str:
    names = {
        transitions.Party.ADMIN: "an admin",
        transitions.Party.OWNER: "the ticket's client",
        transitions.Party.ASSIGNED_DEVELOPER: "the assigned developer",
    }
    who = " or ".join(names[p] for p in transitions.Party if p in move.parties)
    return f"Only {who} can {move.action} this ticket."


def _why_not_editable(status: str, who: set) -> str:
    if transitions.Party.ADMIN in who:
        return f"A ticket whose status is {status} can no longer be edited."
    return f"The client can edit a ticket only while it is {TicketStatus.NEW}; it is {status}."
