"""What every WhatsApp sender returns and promises, so the service never depends on which one."""
from dataclasses import dataclass
from typing import Protocol

from notifications.models import NotificationStatus


@dataclass(frozen=True)
class SendResult:
    status: NotificationStatus
    message_id: str = ""
    http_status: int | None = None
    error_code: str = ""
    error_message: str = ""
    # Could the same request succeed later without anybody fixing anything?
    temporary: bool = False

    @property
    def ok(self) -> bool:
        return self.status == NotificationStatus.SENT


class WhatsAppSender(Protocol):
    def send_text(self, *, to: str, body: str) -> SendResult:
        """Send `body` to the E.164 number `to`. Never raises for a failed send."""
        ...
