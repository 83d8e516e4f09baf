"""Reply buttons: which notifications carry them, and the payload each button sends back.

A payload names a ticket, an action and the person the message went to, signed with SECRET_KEY:
a tap is only acted on when the payload is ours and comes from that person's number, so nobody can
make one up, or replay one from another number or into another ticket's action.
"""
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from tickets.models import TicketEventType as E
from tickets.transitions import Action, Party

TITLES = {Action.OPEN: "Open", Action.REJECT: "Reject", Action.START: "Start work",
          Action.CLOSE: "Close", Action.REOPEN: "Not fixed"}
# What the reader of each notification may do next, in the order the buttons show.
OFFERED: dict[tuple[str, Party], tuple[Action, ...]] = {
    (E.TICKET_CREATED, Party.ADMIN): (Action.OPEN, Action.REJECT),
    (E.DEVELOPER_ASSIGNED, Party.ASSIGNED_DEVELOPER): (Action.START,),
    (E.WORK_FINISHED, Party.OWNER): (Action.CLOSE, Action.REOPEN),
    (E.WORK_FINISHED, Party.ADMIN): (Action.CLOSE, Action.REOPEN),
}
_SIGNATURE = 24  # hex characters of the HMAC kept: 96 bits


@dataclass(frozen=True)
class Tap:
    action: Action
    ticket_id: int
    user_id: int


def for_message(event: str, party: Party, *, ticket_id: int, user_id: int) -> list[list[str]]:
    """The buttons of one notification, [payload, title] each (none for most)."""
    return [[payload(action, ticket_id, user_id), TITLES[action]]
            for action in OFFERED.get((event, party), ())]


def payload(action: Action, ticket_id: int, user_id: int) -> str:
    body = f"{action.value}:{ticket_id}:{user_id}"
    return f"{body}:{_sign(body)}"


def read(raw: str) -> Tap | None:
    """The tap a payload stands for, or None when it is not one we signed."""
    body, _, signature = str(raw).rpartition(":")
    parts = body.split(":")
    if len(parts) != 3 or not hmac.compare_digest(_sign(body), signature):
        return None
    action, ticket_id, user_id = parts
    try:
        return Tap(Action(action), int(ticket_id), int(user_id))
    except ValueError:
        return None


def _sign(body: str) -> str:
    key = f"incident.buttons:{settings.SECRET_KEY}".encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE]
