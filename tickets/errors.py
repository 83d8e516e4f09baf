"""Refusals the ticket services raise; Incident.errors renders them."""
from Incident.errors import ApplicationError, Conflict, Forbidden


class ActionNotPermitted(Forbidden):
    code = "action_not_permitted"


class TransitionNotAllowed(Conflict):
    """The action exists and is the caller's to take, but not from the ticket's current status."""

    code = "transition_not_allowed"

    def __init__(self, *, action: str, status: str, allowed_actions: list[str]) -> None:
        detail = f"Cannot {action} a ticket whose status is {status}."
        super().__init__(detail, status=status, allowed_actions=allowed_actions)


class EditNotAllowed(Conflict):
    code = "edit_not_allowed"

    def __init__(self, *, status: str, allowed_actions: list[str], why: str) -> None:
        super().__init__(why, status=status, allowed_actions=allowed_actions)


class IdempotencyKeyReused(ApplicationError):
    """The same Idempotency-Key came with a different ticket: a client bug, not a retry."""

    status_code = 422
    code = "idempotency_key_reused"


class CommentNotAllowed(Conflict):
    code = "comment_not_allowed"

    def __init__(self, *, status: str) -> None:
        super().__init__(f"A ticket whose status is {status} takes no more comments; file a new "
                         "ticket if the problem is back.", status=status)


class RatingNotAllowed(Conflict):
    code = "rating_not_allowed"

    def __init__(self, *, status: str, allowed_actions: list[str]) -> None:
        super().__init__(f"Only a closed ticket's fix can be rated; this one is {status}.",
                         status=status, allowed_actions=allowed_actions)
