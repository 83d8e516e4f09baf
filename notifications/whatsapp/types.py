"""What a WhatsApp message carries beyond its text, and what every WhatsApp client promises."""
from dataclasses import dataclass, field
from typing import Protocol

from notifications.sending import SendResult


@dataclass(frozen=True)
class TemplateMessage:
    """A template (notifications.messages.TemplateSpec) filled in for one message."""

    name: str
    language: str
    params: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)  # each quick-reply button's payload, in order


# A reply button: the payload it sends back when tapped, and its title (at most 20 characters).
Button = tuple[str, str]


@dataclass(frozen=True)
class Media:
    """A file someone sent on WhatsApp, as fetched from Graph."""

    content: bytes
    mime_type: str  # as Meta names it; the attachment's type is read from the content


class MediaUnavailable(Exception):
    """A media file that could not be fetched: why (for the person and the ticket), and whether
    trying again later may help."""

    def __init__(self, why: str, again: bool) -> None:
        super().__init__(why)
        self.why, self.again = why, again


class WhatsAppSender(Protocol):
    """Never raises for a failed send: every outcome is a SendResult."""

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons: list[Button] = ()) -> SendResult: ...

    def send_template(self, *, to: str, template: TemplateMessage,
                      callback_data: str = "") -> SendResult: ...

    def fetch_media(self, media_id: str, *, max_bytes: int, within: float) -> Media:
        """Raises MediaUnavailable."""
