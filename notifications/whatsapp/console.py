"""Console mode: with no access token, messages are printed in full instead of sent.

Each gets a wamid of its own (`wamid.CONSOLE…`), printed with it, so that a reply quoting it or a
status naming it (hand-made, or from the simulator) finds its row as one from Meta would. The reply
buttons' payloads are printed too: they are what a tap sends back.
"""
import sys
import uuid
from typing import TextIO

from notifications.models import NotificationStatus
from notifications.sending import SendResult
from notifications.whatsapp.types import Button, Media, MediaUnavailable, TemplateMessage

CONSOLE_MODE_REASON = (
    "Console mode: WHATSAPP_ACCESS_TOKEN is not set, so the message was printed to the server "
    "console instead of sent. Set the token (see .env.example) to send for real."
)
PREFIX = "wamid.CONSOLE"


class ConsoleWhatsAppClient:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons: list[Button] = ()) -> SendResult:
        return self._print(to, body, list(buttons))

    def send_template(self, *, to: str, template: TemplateMessage,
                      callback_data: str = "") -> SendResult:
        # The registered body, its values filled in; the buttons' titles are in it.
        from notifications.whatsapp.templates import preview

        return self._print(to, preview(template), [(payload, "") for payload in template.buttons])

    def fetch_media(self, media_id: str, *, max_bytes: int, within: float) -> Media:
        raise MediaUnavailable("console mode has no access token to fetch files from WhatsApp "
                               "with (WHATSAPP_ACCESS_TOKEN)", again=False)

    def _print(self, to: str, body: str, buttons: list[Button]) -> SendResult:
        wamid = f"{PREFIX}{uuid.uuid4().hex}"
        taps = "".join(f"\n{f'[{title}]' if title else f'Button {n}'} sends back: {payload}"
                       for n, (payload, title) in enumerate(buttons, 1))
        stream = self._stream or sys.stdout
        stream.write(f"\n----- WhatsApp (console mode) to {to}, {wamid} -----\n{body}{taps}"
                     "\n----- end -----\n")
        stream.flush()
        return SendResult(status=NotificationStatus.SKIPPED, message_id=wamid,
                          error_message=CONSOLE_MODE_REASON)
