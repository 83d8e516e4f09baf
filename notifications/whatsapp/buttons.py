"""Reply buttons: their titles, and the payload each sends back (which notifications carry them is
notifications.messages.NOTICES).

A payload names a ticket, what the button does (a lifecycle action, or a rating of the fix) and
the person the message went to (a page's buttons name the page: its run, step and person), signed with SECRET_KEY: a tap is only acted on when the payload is
ours and comes from that person's number, so nobody can make one up, or replay one from another
number or into another ticket's action.
"""
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from notifications.messages import NOTICES, notice
from tickets.escalation.models import Answer
from tickets.models import Satisfaction
from tickets.transitions import Action, Party

TITLES = {Action.OPEN: "Open", Action.REJECT: "Reject", Action.START: "Start work",
          Action.CLOSE: "Close", Action.REOPEN: "Not fixed",
          **{score: score.label for score in Satisfaction},
          Answer.ACKNOWLEDGE: "Acknowledge", Answer.SNOOZE: "Snooze 30 min",
          Answer.ESCALATE: "Escalate now"}
_SIGNATURE = 24  # hex characters of the HMAC kept: 96 bits
RATE = "rate"  # a rating's verb: rate1, rate2, rate3
PAGE = "page-"  # a page's answer's verb: page-acknowledge, page-snooze, page-escalate


@dataclass(frozen=True)
class Tap:
    action: Action | Satisfaction
    ticket_id: int
    user_id: int


@dataclass(frozen=True)
class PageTap:
    answer: Answer
    page_id: int
    user_id: int


def for_message(event: str, party: Party, *, ticket_id: int, user_id: int,
                page: int | None = None) -> list[list[str]]:
    """The buttons of one notification, [payload, title] each (none for most); a page's name
    `page`."""
    offered = notice(event, party).buttons if event in NOTICES else ()
    if page is None:
        offered = [action for action in offered if not isinstance(action, Answer)]
    return [[payload(action, page if isinstance(action, Answer) else ticket_id, user_id),
             TITLES[action]] for action in offered]


def payload(action: Action | Satisfaction | Answer, about: int, user_id: int) -> str:
    """`about`: the ticket, or for a page's answer the page."""
    if isinstance(action, Satisfaction):
        verb = f"{RATE}{int(action)}"
    elif isinstance(action, Answer):
        verb = PAGE + action.value.lower()
    else:
        verb = action.value
    body = f"{verb}:{about}:{user_id}"
    return f"{body}:{_sign(body)}"


def read(raw: str) -> Tap | PageTap | None:
    """The tap a payload stands for, or None when it is not one we signed."""
    body, _, signature = str(raw).rpartition(":")
    parts = body.split(":")
    if len(parts) != 3 or not hmac.compare_digest(_sign(body), signature):
        return None
    verb, ticket_id, user_id = parts
    try:
        if verb.startswith(PAGE):
            return PageTap(Answer(verb.removeprefix(PAGE).upper()), int(ticket_id), int(user_id))
        action = (Satisfaction(int(verb.removeprefix(RATE))) if verb.startswith(RATE)
                  else Action(verb))
        return Tap(action, int(ticket_id), int(user_id))
    except ValueError:
        return None


def _sign(body: str) -> str:
    key = f"incident.buttons:{settings.SECRET_KEY}".encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE]
