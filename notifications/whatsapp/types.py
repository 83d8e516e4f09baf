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


class WhatsAppSender(Protocol):
    """Never raises for a failed send: every outcome is a SendResult."""

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons: list[Button] = ()) -> SendResult: ...

    def send_template(self, *, to: str, template: TemplateMessage,
                      callback_data: str = "") -> SendResult: ...
