"""What every sender returns and promises, so the service never depends on which one it has."""
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from notifications.models import NotificationStatus


class Failure(str, Enum):
    """Why a send failed: decides whether it may be retried and whether it could have gone out."""

    NOT_SENT = "not_sent"  # no connection was made (refused, unknown host, connect timeout)
    OUTCOME_UNKNOWN = "outcome_unknown"  # timeout or reset after the request left
    PROVIDER_ERROR = "provider_error"  # Graph (or the mail server) answered with an error
    BAD_ANSWER = "bad_answer"  # an answer that cannot be read: HTML, or no message id
    INTERNAL = "internal"  # our own code failed
    PACED = "paced"  # not sent: the business number's pace left no room in the time bound


@dataclass(frozen=True)
class SendResult:
    status: NotificationStatus
    message_id: str = ""
    http_status: int | None = None
    error_code: str = ""
    error_message: str = ""
    # Could the same request succeed later without anybody fixing anything?
    temporary: bool = False
    failure: Failure | None = None
    # What Meta support asks for about a failed request, and Graph's (deprecated) subcode.
    fbtrace_id: str = ""
    error_subcode: str = ""
    # From an accepted send: the recipient's WhatsApp ID, and a hold such as
    # held_for_quality_assessment (never a sign of delivery).
    wa_id: str = ""
    message_status: str = ""


@dataclass(frozen=True)
class Template:
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

    def send_template(self, *, to: str, template: Template, callback_data: str = "") -> SendResult: ...
