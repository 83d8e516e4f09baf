"""Email as a channel of the ledger (notifications.channels): the fallback, or a channel of its own
with NOTIFICATION_CHANNELS."""
import uuid
from collections.abc import Callable
from datetime import date, datetime

from notifications.channels import Draft
from notifications.email.client import EmailSender
from notifications.messages import as_email, email_subject
from notifications.models import Channel, MessageType, NotificationLog, NotificationStatus
from notifications.sending import SendResult

NO_EMAIL = "No email address on the user's account."


class EmailRowSender:
    def __init__(self) -> None:
        self.client = EmailSender()

    def ready(self, row: NotificationLog) -> None:
        pass  # nothing to read first

    def send(self, row: NotificationLog, *, deadline: float,
             sleep: Callable[[float], None]) -> SendResult:
        if not row.to:
            return SendResult(status=NotificationStatus.SKIPPED, error_message=NO_EMAIL)
        subject = email_subject(row.message, ticket_id=row.ticket_id)
        return self.client.send(to=row.to, subject=subject, body=row.message)


class EmailChannel:
    name = Channel.EMAIL

    def send_time(self) -> float:
        return 0.0  # Django's mail backend keeps its own EMAIL_TIMEOUT; the bound is WhatsApp's

    def pause(self) -> float:
        return 0.0

    def sender(self) -> EmailRowSender:
        return EmailRowSender()

    def compose(self, draft: Draft) -> NotificationLog:
        return NotificationLog(**draft.base, channel=Channel.EMAIL, to=draft.recipient.email,
                               message=as_email(draft.text()), message_type=MessageType.EMAIL,
                               callback_id=uuid.uuid4().hex)

    def refresh(self, row: NotificationLog, now: datetime) -> dict:
        return {"to": row.recipient.email}  # it may have been fixed

    def answered(self, message_ids: list[str]) -> None:
        pass  # mail servers send no delivery reports here

    def tidy(self, now: datetime) -> None:
        pass

    def final_codes(self) -> tuple[str, ...]:
        return ()

    def explain(self, code: str) -> str | None:
        return None

    def warning(self, today: date):
        return None
