"""The seam between the ledger and the channels that carry its messages.

The ledger (intents, the delivery loop, the policy, recovery, resend, insights) reaches a channel
only through this interface. Each channel's package (notifications/whatsapp/, notifications/email/)
implements it and registers itself when Django starts, so the ledger never imports them.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from notifications.models import NotificationLog
from notifications.sending import SendResult


@dataclass(frozen=True)
class Draft:
    """One person's notice of one event, before a channel shapes it into a ledger row."""

    event: str
    party: str
    ticket_id: int
    recipient: object  # the user told
    facts: object  # notifications.messages.TicketFacts
    now: datetime
    # The row's common fields (ticket, event, recipient, due time), ready for NotificationLog(...).
    base: dict
    # The text for this person's party, shortened to fit a length when one is given.
    text: Callable[..., str]
    page: int | None = None  # the page a PAGED person answers with the message's buttons


class Sender(Protocol):
    """One delivery call's way of sending on a channel."""

    def ready(self, row: NotificationLog) -> None:
        """Called on the loop's own thread before `send`: the only place a sender may read the
        database (e.g. which templates are usable)."""

    def send(self, row: NotificationLog, *, deadline: float,
             sleep: Callable[[float], None]) -> SendResult:
        """One try, on a pool thread: never raises, never touches the database, gives up at the
        monotonic `deadline`. The result carries the channel's reading of any failure."""


class Channel(Protocol):
    name: str  # a notifications.models.Channel value

    def send_time(self) -> float:
        """Seconds one send may take at most."""

    def pause(self) -> float:
        """Seconds the channel's rate-limit pause lasts (0: it has none)."""

    def sender(self) -> Sender: ...

    def compose(self, draft: Draft) -> NotificationLog:
        """The unsaved QUEUED (or SKIPPED, saying why) row that tells `draft` on this channel."""

    def refresh(self, row: NotificationLog, now: datetime) -> dict:
        """The fields a resend changes: the current address, and the message's form."""

    def answered(self, message_ids: list[str]) -> None:
        """Answers with these provider ids were just recorded (reports may have come first)."""

    def tidy(self, now: datetime) -> None:
        """The recovery pass's housekeeping for this channel."""

    def final_codes(self) -> tuple[str, ...]:
        """Error codes no resend can cure."""

    def explain(self, code: str) -> str | None:
        """What an error code means and what to do, or None for a code the channel does not know."""

    def warning(self, today: date):
        """A warning for admins about the channel's set-up (its level and message), or None."""


_registered: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _registered[channel.name] = channel


def get(name: str) -> Channel:
    try:
        return _registered[name]
    except KeyError:
        raise LookupError(
            f"No {name} channel is installed: add its app (notifications.whatsapp or "
            "notifications.email) to INSTALLED_APPS.") from None


def every() -> Iterable[Channel]:
    return list(_registered.values())


def final_codes() -> tuple[str, ...]:
    return tuple(code for channel in every() for code in channel.final_codes())


def explain(code: str) -> str | None:
    return next((text for channel in every() if (text := channel.explain(code)) is not None), None)
