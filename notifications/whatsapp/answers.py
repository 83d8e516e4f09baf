"""What the product answers a person who wrote on WhatsApp (notifications.whatsapp.inbound)."""
from dataclasses import dataclass, field

from tickets.models import Ticket, TicketEvent


@dataclass(frozen=True)
class Answer:
    text: str
    ticket: Ticket | None = None
    # The comment it confirms: a reply quoting the confirmation lands as that comment did.
    event: TicketEvent | None = None
    # It asks a question the person's next message answers: the action it is for (Reject), or
    # RATED (what they want to add to their rating).
    asks: str = ""
    later: bool = False  # what `text` records is told later (a file, once fetched): no reply now
    # Choices offered with it, [payload, title] each: reply buttons, or a list beyond three.
    choices: list[list[str]] = field(default_factory=list)
