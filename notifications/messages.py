"""Who is told of each event and what they read: one table, NOTIFIED. Pure: facts in, text out;
no database, no HTTP.

The admin "new ticket" and client "ticket opened" texts are the setup guide's, character for
character; the others follow their style: an emoji and a *bold* title, the fields that matter to
that reader, what happens next, an _italic_ footer.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass

from tickets.models import TicketEventType as E
from tickets.transitions import Party

# WhatsApp refuses text bodies over 4096 characters.
MAX_LENGTH = 4096
CUT_MARK = "… [cut]"
ADMIN_FOOTER = "_Incident Management System_"
CLIENT_FOOTER = "_Support Team_"
_LEADING_SYMBOLS = re.compile(r"^[^A-Za-z0-9]+")


@dataclass(frozen=True)
class TicketFacts:
    """What the texts may mention, taken from a ticket once (see notifications.services)."""

    title: str
    project: str
    priority: str
    category: str
    status: str  # the label: "Opened", "In progress"
    description: str
    client_name: str
    developer_name: str = ""
    resolution: str = ""
    rejection_reason: str = ""


def render(event: str, party: Party, facts: TicketFacts) -> str:
    """The text `party` reads about `event`, at most MAX_LENGTH characters long."""
    template = dict(NOTIFIED[event])[party]
    text = template(facts)
    # Cut the longest free-text fields first, the description before anything else, so the
    # title, status and footer always survive.
    for field in ("description", "resolution", "rejection_reason", "title", "project"):
        overflow = length(text) - MAX_LENGTH
        if overflow <= 0:
            return text
        facts = _shorten(facts, field, overflow)
        text = template(facts)
    return _cut(text, MAX_LENGTH) if length(text) > MAX_LENGTH else text


def length(text: str) -> int:
    """Length as WhatsApp may count it: UTF-16 code units, so emoji count as two, never fewer."""
    return len(text.encode("utf-16-le")) // 2


def _shorten(facts: TicketFacts, field: str, overflow: int) -> TicketFacts:
    value = getattr(facts, field)
    if length(value) <= length(CUT_MARK):
        return facts
    keep = max(length(value) - overflow - length(CUT_MARK), 0)
    return _replace(facts, field, _cut(value, keep + length(CUT_MARK)))


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, ending in the cut mark."""
    room = limit - length(CUT_MARK)
    kept, used = [], 0
    for char in text:
        size = length(char)
        if used + size > room:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + CUT_MARK


def _replace(facts: TicketFacts, field: str, value: str) -> TicketFacts:
    return TicketFacts(**{**facts.__dict__, field: value})


# --- The texts ---------------------------------------------------------------------------------------


def _admin_new_ticket(f: TicketFacts) -> str:
    return (
        "🎫 *New Ticket Created*\n\n"
        f"*Client:* {f.client_name}\n"
        f"*Title:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Priority:* {f.priority}\n"
        f"*Category:* {f.category}\n\n"
        "*Description:*\n"
        f"{f.description}\n\n"
        "Please review and assign this ticket.\n\n"
        f"{ADMIN_FOOTER}"
    )


def _client_opened(f: TicketFacts) -> str:
    return (
        "✅ *Your Ticket Has Been Opened*\n\n"
        f"Hello {f.client_name},\n\n"
        "Your ticket has been acknowledged.\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Status:* {f.status}\n\n"
        "We will assign a developer shortly.\n\n"
        f"{CLIENT_FOOTER}"
    )


def _developer_assigned(f: TicketFacts) -> str:
    return (
        "👨‍💻 *New Ticket Assigned to You*\n\n"
        f"Hello {f.developer_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Priority:* {f.priority}\n"
        f"*Category:* {f.category}\n"
        f"*Client:* {f.client_name}\n\n"
        "*Description:*\n"
        f"{f.description}\n\n"
        "Please start work on it when you are ready.\n\n"
        f"{ADMIN_FOOTER}"
    )


def _client_assigned(f: TicketFacts) -> str:
    return (
        "👨‍💻 *A Developer Has Been Assigned*\n\n"
        f"Hello {f.client_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Developer:* {f.developer_name}\n"
        f"*Status:* {f.status}\n\n"
        "We will let you know when work starts.\n\n"
        f"{CLIENT_FOOTER}"
    )


def _client_started(f: TicketFacts) -> str:
    return (
        "🛠️ *Work Has Started on Your Ticket*\n\n"
        f"Hello {f.client_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Developer:* {f.developer_name}\n"
        f"*Status:* {f.status}\n\n"
        "We will let you know when it is finished.\n\n"
        f"{CLIENT_FOOTER}"
    )


def _resolution_block(f: TicketFacts) -> str:
    if not f.resolution:
        return ""
    return f"*Resolution:*\n{f.resolution}\n\n"


def _client_finished(f: TicketFacts) -> str:
    return (
        "🎉 *Work on Your Ticket Is Finished*\n\n"
        f"Hello {f.client_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Developer:* {f.developer_name}\n"
        f"*Status:* {f.status}\n\n"
        f"{_resolution_block(f)}"
        "Please check the result. You can close the ticket if all is well.\n\n"
        f"{CLIENT_FOOTER}"
    )


def _admin_finished(f: TicketFacts) -> str:
    return (
        "🏁 *Ticket Finished*\n\n"
        f"*Client:* {f.client_name}\n"
        f"*Title:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Priority:* {f.priority}\n"
        f"*Developer:* {f.developer_name}\n\n"
        f"{_resolution_block(f)}"
        "Please review and close this ticket.\n\n"
        f"{ADMIN_FOOTER}"
    )


def _client_closed(f: TicketFacts) -> str:
    return (
        "🔒 *Your Ticket Has Been Closed*\n\n"
        f"Hello {f.client_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Status:* {f.status}\n\n"
        "Thank you for your patience. If the problem comes back, please file a new ticket.\n\n"
        f"{CLIENT_FOOTER}"
    )


def _developer_closed(f: TicketFacts) -> str:
    return (
        "🔒 *Ticket Closed*\n\n"
        f"Hello {f.developer_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Client:* {f.client_name}\n"
        f"*Status:* {f.status}\n\n"
        "The ticket is done. Thank you for your work on it.\n\n"
        f"{ADMIN_FOOTER}"
    )


def _client_rejected(f: TicketFacts) -> str:
    return (
        "❌ *Your Ticket Has Been Rejected*\n\n"
        f"Hello {f.client_name},\n\n"
        f"*Ticket:* {f.title}\n"
        f"*Project:* {f.project}\n"
        f"*Status:* {f.status}\n\n"
        "*Reason:*\n"
        f"{f.rejection_reason}\n\n"
        "If you think this is a mistake, please file a new ticket with more details.\n\n"
        f"{CLIENT_FOOTER}"
    )


P = Party
# Per event, who is told (in this order) and the text they read. Party.ADMIN means every active
# admin, Party.OWNER the ticket's client, Party.ASSIGNED_DEVELOPER its developer. Edits of details
# (TICKET_UPDATED) tell nobody.
NOTIFIED: dict[str, tuple[tuple[Party, Callable[[TicketFacts], str]], ...]] = {
    E.TICKET_CREATED: ((P.ADMIN, _admin_new_ticket),),
    E.TICKET_OPENED: ((P.OWNER, _client_opened),),
    E.DEVELOPER_ASSIGNED: ((P.ASSIGNED_DEVELOPER, _developer_assigned), (P.OWNER, _client_assigned)),
    E.WORK_STARTED: ((P.OWNER, _client_started),),
    E.WORK_FINISHED: ((P.OWNER, _client_finished), (P.ADMIN, _admin_finished)),
    E.TICKET_CLOSED: ((P.OWNER, _client_closed), (P.ASSIGNED_DEVELOPER, _developer_closed)),
    E.TICKET_REJECTED: ((P.OWNER, _client_rejected),),
}


def as_email(text: str) -> str:
    """The same message as an email body: the text without WhatsApp markup."""
    return "\n".join(
        line.replace("*", "").strip("_") if line.startswith("_") else line.replace("*", "")
        for line in text.splitlines()
    )


def email_subject(body: str, *, ticket_id: int) -> str:
    """An email's subject, from its body's title line (ours and English: the emoji dropped)."""
    lines = body.splitlines()
    title = _LEADING_SYMBOLS.sub("", lines[0]) if lines else ""
    return f"[Ticket #{ticket_id}] {title or 'Ticket update'}"
