"""Who is told of each event, what they read, the template and the buttons: one table, NOTICES.
Pure: facts in, text out; no database, no HTTP.

The admin "new ticket" and client "ticket opened" texts are the setup guide's, character for
character; the others follow their style: an emoji and a *bold* title, the fields that matter to
that reader, what happens next, an _italic_ footer.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass

from tickets.escalation.models import Answer
from tickets.models import Satisfaction
from tickets.models import TicketEventType as E
from tickets.transitions import Action, Party

# WhatsApp refuses text bodies over 4096 characters, and the body of a message with reply buttons
# over 1024.
MAX_LENGTH, BUTTONS_MAX_LENGTH = 4096, 1024
CUT_MARK = "… [cut]"
ADMIN_FOOTER = "_Incident Management System_"
CLIENT_FOOTER = "_Support Team_"
_LEADING_SYMBOLS = re.compile(r"^[^A-Za-z0-9]+")
# A COMMENT_ADDED that is an internal note is told as this event of its own: staff only, a text
# that says so first, and a reply to it is an internal note too (notifications.whatsapp.inbound).
INTERNAL_NOTE = "INTERNAL_NOTE"


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
    # The event's own words: a comment (or why a ticket was reopened) and who wrote it.
    comment: str = ""
    author_name: str = ""


def render(event: str, party: Party, facts: TicketFacts, limit: int = MAX_LENGTH) -> str:
    """The text `party` reads about `event`, at most `limit` characters long (a message with
    reply buttons may have 1,024)."""
    text_of = notice(event, party).text
    text = text_of(facts)
    # Cut the longest free-text fields first, the description before anything else, so the
    # title, status and footer always survive.
    for field in ("description", "comment", "resolution", "rejection_reason", "title", "project"):
        overflow = length(text) - limit
        if overflow <= 0:
            return text
        facts = _shorten(facts, field, overflow)
        text = text_of(facts)
    return _cut(text, limit) if length(text) > limit else text


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


@dataclass(frozen=True)
class Text:
    """One message's shape: a title, the reader greeted by name, an opening line, the fields that
    matter to them (label, TicketFacts field), blocks of free text, what happens next, a footer.
    Parts are separated by a blank line, as in the setup guide."""

    title: str
    fields: tuple[tuple[str, str], ...]
    closing: str
    footer: str
    greet: str = ""  # the TicketFacts field with the reader's name
    opening: str = ""
    blocks: tuple[tuple[str, str], ...] = ()
    skip_empty_blocks: bool = False  # a resolution is optional; a description or reason is not

    def __call__(self, f: TicketFacts) -> str:
        parts = [self.title]
        if self.greet:
            parts.append(f"Hello {getattr(f, self.greet)},")
        if self.opening:
            parts.append(self.opening)
        parts.append("\n".join(f"*{label}:* {getattr(f, name)}" for label, name in self.fields))
        parts += [f"*{label}:*\n{getattr(f, name)}" for label, name in self.blocks
                  if getattr(f, name) or not self.skip_empty_blocks]
        return "\n\n".join([*parts, self.closing, self.footer])


TICKET, PROJECT, STATUS = ("Ticket", "title"), ("Project", "project"), ("Status", "status")
CLIENT, DEVELOPER = ("Client", "client_name"), ("Developer", "developer_name")
PRIORITY, CATEGORY = ("Priority", "priority"), ("Category", "category")
DESCRIPTION, RESOLUTION = ("Description", "description"), ("Resolution", "resolution")
COMMENT, AUTHOR = ("Comment", "comment"), ("From", "author_name")
NOTE = ("Note", "comment")
INTERNAL_CLOSING = ("The client does not see this note. A reply to this message is saved as an "
                    "internal note too.")

@dataclass(frozen=True)
class TemplateSpec:
    """A WhatsApp message template: what the product sends outside the 24-hour window, and what
    `whatsapp_templates --create` registers (notifications.whatsapp.templates fills it in)."""

    name: str
    language: str
    params: tuple[str, ...]
    body: str  # the text to register in WhatsApp Manager (docs/templates.md); not sent
    buttons: tuple[str, ...] = ()  # quick-reply button titles, in order (from the notice's actions)


@dataclass(frozen=True)
class Notice:
    """One party's notice of one event: the text they read, the template that carries it outside
    the 24-hour window, and the actions offered as reply buttons."""

    party: Party
    text: Callable[[TicketFacts], str]
    template: TemplateSpec
    # Actions, the ratings of the fix, or a page's answers.
    buttons: tuple[Action | Satisfaction | Answer, ...] = ()
    # WHATSAPP_TEMPLATES names this template "EVENT:PARTY" (it is this party's own), not "EVENT".
    own_template: bool = False


def _template(name: str, params: str, body: str) -> TemplateSpec:
    return TemplateSpec(name, "en_US", tuple(params.split()), body)


CREATED = _template(
    "ticket_created", "ticket_id client_name title project priority",
    "🎫 New ticket #{{1}} from {{2}}: {{3}} (project {{4}}, priority {{5}}). "
    "Please review and assign it.")
OPENED = _template(
    "ticket_opened", "recipient_name ticket_id title",
    "✅ Hello {{1}}, your ticket #{{2}} \"{{3}}\" has been opened. "
    "We will assign a developer shortly.")
ASSIGNED = _template(
    "developer_assigned", "recipient_name developer_name ticket_id title",
    "👨‍💻 Hello {{1}}, {{2}} has been assigned to ticket #{{3}} \"{{4}}\".")
ASSIGNED_TO_YOU = _template(
    "ticket_assigned_to_you", "recipient_name ticket_id title priority",
    "👨‍💻 Hello {{1}}, ticket #{{2}} \"{{3}}\" (priority {{4}}) has been assigned to you.")
STARTED = _template(
    "work_started", "recipient_name ticket_id title developer_name",
    "🛠️ Hello {{1}}, work has started on your ticket #{{2}} \"{{3}}\" ({{4}}).")
FINISHED = _template(
    "work_finished", "recipient_name ticket_id title resolution",
    "🎉 Hello {{1}}, work on ticket #{{2}} \"{{3}}\" is finished. Resolution: {{4}}")
CLOSED = _template(
    "ticket_closed", "recipient_name ticket_id title",
    "🔒 Hello {{1}}, ticket #{{2}} \"{{3}}\" is now closed. Thank you.")
# The client's "closed" is the survey: its buttons rate the fix (notifications.whatsapp.inbound).
CLOSED_RATING = _template(
    "ticket_closed_rating", "recipient_name ticket_id title",
    "🔒 Hello {{1}}, ticket #{{2}} \"{{3}}\" is now closed. How did we do? Tap a face below; you "
    "may reply to tell us more.")
REJECTED = _template(
    "ticket_rejected", "recipient_name ticket_id title rejection_reason",
    "❌ Hello {{1}}, your ticket #{{2}} \"{{3}}\" was rejected. Reason: {{4}}")
REOPENED = _template(
    "ticket_reopened", "recipient_name ticket_id title author_name",
    "🔁 Hello {{1}}, ticket #{{2}} \"{{3}}\" was reopened by {{4}}: it is back in progress.")
COMMENTED = _template(
    "comment_added", "recipient_name ticket_id title author_name comment",
    "💬 Hello {{1}}, new comment on ticket #{{2}} \"{{3}}\" from {{4}}: {{5}}")
# A page: a utility template, since the person paged is rarely inside the 24-hour window.
PAGED = _template(
    "ticket_page", "ticket_id title priority comment",
    "🚨 Ticket #{{1}} \"{{2}}\" (priority {{3}}) needs someone now. {{4}}. Tap Acknowledge to take "
    "it.")
ACKNOWLEDGED = _template(
    "page_acknowledged", "ticket_id title author_name",
    "✅ Ticket #{{1}} \"{{2}}\": {{3}} acknowledged the page and took it. You need not act.")
NOTED = _template(
    "internal_note", "ticket_id title author_name comment",
    "🔐 Internal note, staff only: ticket #{{1}} \"{{2}}\", from {{3}}: {{4}}")

P, A = Party, Action
# Per event, who is told (in this order), what they read, the template and the reply buttons.
# Party.ADMIN means every active admin, Party.OWNER the ticket's client, Party.ASSIGNED_DEVELOPER
# its developer. Edits of details (TICKET_UPDATED) tell nobody. The manual's tables are checked
# against this one.
NOTICES: dict[str, tuple[Notice, ...]] = {
    E.TICKET_CREATED: (Notice(P.ADMIN, Text(
        "🎫 *New Ticket Created*", (CLIENT, ("Title", "title"), PROJECT, PRIORITY, CATEGORY),
        "Please review and assign this ticket.", ADMIN_FOOTER, blocks=(DESCRIPTION,)),
        CREATED, (A.OPEN, A.REJECT)),),
    E.TICKET_OPENED: (Notice(P.OWNER, Text(
        "✅ *Your Ticket Has Been Opened*", (TICKET, PROJECT, STATUS),
        "We will assign a developer shortly.", CLIENT_FOOTER, greet="client_name",
        opening="Your ticket has been acknowledged."), OPENED),),
    E.DEVELOPER_ASSIGNED: (
        Notice(P.ASSIGNED_DEVELOPER, Text(
            "👨‍💻 *New Ticket Assigned to You*", (TICKET, PROJECT, PRIORITY, CATEGORY, CLIENT),
            "Please start work on it when you are ready.", ADMIN_FOOTER, greet="developer_name",
            blocks=(DESCRIPTION,)), ASSIGNED_TO_YOU, (A.START,), own_template=True),
        Notice(P.OWNER, Text(
            "👨‍💻 *A Developer Has Been Assigned*", (TICKET, PROJECT, DEVELOPER, STATUS),
            "We will let you know when work starts.", CLIENT_FOOTER, greet="client_name"),
            ASSIGNED),
    ),
    E.WORK_STARTED: (Notice(P.OWNER, Text(
        "🛠️ *Work Has Started on Your Ticket*", (TICKET, PROJECT, DEVELOPER, STATUS),
        "We will let you know when it is finished.", CLIENT_FOOTER, greet="client_name"),
        STARTED),),
    E.WORK_FINISHED: (
        Notice(P.OWNER, Text(
            "🎉 *Work on Your Ticket Is Finished*", (TICKET, PROJECT, DEVELOPER, STATUS),
            "Please check the result. You can close the ticket if all is well.", CLIENT_FOOTER,
            greet="client_name", blocks=(RESOLUTION,), skip_empty_blocks=True),
            FINISHED, (A.CLOSE, A.REOPEN)),
        Notice(P.ADMIN, Text(
            "🏁 *Ticket Finished*", (CLIENT, ("Title", "title"), PROJECT, PRIORITY, DEVELOPER),
            "Please review and close this ticket.", ADMIN_FOOTER, blocks=(RESOLUTION,),
            skip_empty_blocks=True), FINISHED, (A.CLOSE, A.REOPEN)),
    ),
    E.TICKET_CLOSED: (
        # One survey per closure: a ticket closes once, and REJECTED asks nothing.
        Notice(P.OWNER, Text(
            "🔒 *Your Ticket Has Been Closed*", (TICKET, PROJECT, STATUS),
            "*How did we do?* Tap a face below; you may reply to tell us more. If the problem "
            "comes back, please file a new ticket.",
            CLIENT_FOOTER, greet="client_name"), CLOSED_RATING, tuple(Satisfaction),
            own_template=True),
        Notice(P.ASSIGNED_DEVELOPER, Text(
            "🔒 *Ticket Closed*", (TICKET, PROJECT, CLIENT, STATUS),
            "The ticket is done. Thank you for your work on it.", ADMIN_FOOTER,
            greet="developer_name"), CLOSED),
    ),
    E.TICKET_REJECTED: (Notice(P.OWNER, Text(
        "❌ *Your Ticket Has Been Rejected*", (TICKET, PROJECT, STATUS),
        "If you think this is a mistake, please file a new ticket with more details.",
        CLIENT_FOOTER, greet="client_name", blocks=(("Reason", "rejection_reason"),)),
        REJECTED),),
    E.TICKET_REOPENED: (
        Notice(P.ASSIGNED_DEVELOPER, Text(
            "🔁 *Ticket Reopened: Not Fixed Yet*", (TICKET, PROJECT, CLIENT, AUTHOR),
            "Please have another look; the ticket is back in progress.", ADMIN_FOOTER,
            greet="developer_name", blocks=(("What is still wrong", "comment"),),
            skip_empty_blocks=True), REOPENED),
        Notice(P.ADMIN, Text(
            "🔁 *Ticket Reopened*", (CLIENT, ("Title", "title"), PROJECT, DEVELOPER, AUTHOR),
            "The ticket is back in progress with its developer.", ADMIN_FOOTER,
            blocks=(("What is still wrong", "comment"),), skip_empty_blocks=True), REOPENED),
        Notice(P.OWNER, Text(
            "🔁 *Your Ticket Is Back in Progress*", (TICKET, PROJECT, DEVELOPER, STATUS),
            "We will let you know when it is finished again.", CLIENT_FOOTER,
            greet="client_name"), REOPENED),
    ),
    # Reply to the message to answer on the ticket (notifications.whatsapp.inbound).
    E.COMMENT_ADDED: (
        Notice(P.OWNER, Text(
            "💬 *New Comment on Your Ticket*", (TICKET, AUTHOR), "Reply to this message to answer.",
            CLIENT_FOOTER, greet="client_name", blocks=(COMMENT,)), COMMENTED),
        Notice(P.ASSIGNED_DEVELOPER, Text(
            "💬 *New Comment*", (TICKET, PROJECT, AUTHOR), "Reply to this message to answer.",
            ADMIN_FOOTER, greet="developer_name", blocks=(COMMENT,)), COMMENTED),
        Notice(P.ADMIN, Text(
            "💬 *New Comment*", (TICKET, PROJECT, AUTHOR), "Reply to this message to answer.",
            ADMIN_FOOTER, blocks=(COMMENT,)), COMMENTED),
    ),
    # Escalation (tickets.escalation): the people a step paged, never a client. Acknowledging
    # tells everyone else that run paged who took it.
    E.TICKET_PAGED: (Notice(P.PAGED, Text(
        "🚨 *Page: a Ticket Needs Someone Now*", (TICKET, PROJECT, PRIORITY, STATUS, CLIENT),
        "Tap *Acknowledge* to take it (the paging stops), *Snooze 30 min*, or *Escalate now* to "
        "page the next step.", ADMIN_FOOTER, blocks=(("Why", "comment"),)), PAGED,
        (Answer.ACKNOWLEDGE, Answer.SNOOZE, Answer.ESCALATE)),),
    E.TICKET_ACKNOWLEDGED: (Notice(P.PAGED, Text(
        "✅ *Page Acknowledged*", (TICKET, PROJECT, ("Taken by", "author_name")),
        "The paging has stopped; you need not act.", ADMIN_FOOTER), ACKNOWLEDGED),),
    # Never the client: an internal note is for the ticket's staff.
    INTERNAL_NOTE: (
        Notice(P.ASSIGNED_DEVELOPER, Text(
            "🔐 *Internal Note: Staff Only*", (TICKET, PROJECT, AUTHOR), INTERNAL_CLOSING,
            ADMIN_FOOTER, greet="developer_name", blocks=(NOTE,)), NOTED),
        Notice(P.ADMIN, Text(
            "🔐 *Internal Note: Staff Only*", (TICKET, PROJECT, AUTHOR), INTERNAL_CLOSING,
            ADMIN_FOOTER, blocks=(NOTE,)), NOTED),
    ),
}


def notice(event: str, party: Party) -> Notice:
    return next(n for n in NOTICES[event] if n.party == party)


def parties(event: str) -> tuple[Party, ...]:
    """Who is told of `event`, in order (none for an event nobody hears of)."""
    return tuple(n.party for n in NOTICES.get(event, ()))


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
