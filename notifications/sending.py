"""What every channel's sender returns, and how the ledger names an answer's retry class: the
language the delivery loop and the channels share."""
from dataclasses import dataclass
from enum import Enum

from notifications.models import NotificationStatus


class Failure(str, Enum):
    """Why a send failed: decides whether it may be retried and whether it could have gone out."""

    NOT_SENT = "not_sent"  # no connection was made (refused, unknown host, connect timeout)
    OUTCOME_UNKNOWN = "outcome_unknown"  # timeout or reset after the request left
    PROVIDER_ERROR = "provider_error"  # Graph (or the mail server) answered with an error
    BAD_ANSWER = "bad_answer"  # an answer that cannot be read: HTML, or no message id
    INTERNAL = "internal"  # our own code failed
    PACED = "paced"  # not sent: the business number's pace left no room in the time bound


class Retry(str, Enum):
    """A channel's reading of a failed answer; notifications.outcomes.decide turns it into the
    notification's next step."""

    NOW = "retry now"  # a passing fault: the same request again, in this run
    LATER = "retry later"  # waiting clears it: QUEUED again, with a growing delay
    NEVER = "never"  # a person must change something first (or, for a few codes, never at all)
    UNKNOWN = "unknown"  # it may have gone out: never repeated blindly


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
    # The channel's reading of a failure (notifications.channels): its retry class (None: judged
    # by `failure` and `temporary` alone), whether waiting alone clears it (a rate limit: never
    # counted toward FAILED), and the seconds to wait when the channel knows them.
    retry: Retry | None = None
    rate_limited: bool = False
    retry_after: float | None = None

