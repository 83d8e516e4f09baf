"""Console mode: with no access token, messages are printed in full instead of sent."""
import sys
from typing import TextIO

from notifications.sending import SendResult
from notifications.whatsapp.types import Button, TemplateMessage
from notifications.models import NotificationStatus

CONSOLE_MODE_REASON = (
    "Console mode: WHATSAPP_ACCESS_TOKEN is not set, so the message was printed to the server "
    "console instead of sent. Set the token (see .env.example) to send for real."
)


class ConsoleWhatsAppClient:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons: list[Button] = ()) -> SendResult:
        return self._print(to, body + _buttons([title for _, title in buttons]))

    def send_template(self, *, to: str, template: TemplateMessage, callback_data: str = "") -> SendResult:
        from notifications.whatsapp.templates import preview  # the registered body, its values filled in

        return self._print(to, preview(template))

    def _print(self, to: str, body: str) -> SendResult:
        stream = self._stream or sys.stdout
        stream.write(f"\n----- WhatsApp (console mode) to {to} -----\n{body}\n----- end -----\n")
        stream.flush()
        return SendResult(status=NotificationStatus.SKIPPED, error_message=CONSOLE_MODE_REASON)


def _buttons(titles: list[str]) -> str:
    return "\n" + " ".join(f"[{title}]" for title in titles) if titles else ""
