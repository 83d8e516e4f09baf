"""A scripted WhatsApp sender for service tests: records every call, answers as told."""
import threading
from dataclasses import dataclass, field

from notifications.sending import SendResult
from notifications.whatsapp.types import Media, MediaUnavailable, TemplateMessage
from notifications.models import NotificationStatus


@dataclass(frozen=True)
class Call:
    to: str
    body: str
    template: TemplateMessage | None
    callback_data: str
    thread: str
    buttons: tuple = ()


@dataclass
class FakeWhatsAppSender:
    """Answers SENT with a fresh wamid unless `results` says otherwise for a number.

    A list in `results` is answered in turn, one item per attempt (then the last one again).
    `gate`, when set, makes every send wait on it: a Barrier proves sends overlap, an Event holds
    them past the time bound.
    """

    results: dict[str, SendResult | list[SendResult]] = field(default_factory=dict)
    gate: threading.Barrier | threading.Event | None = None
    calls: list[Call] = field(default_factory=list)
    # Files people sent, by media id: what fetch_media answers (a list: in turn, as `results`).
    media: dict[str, Media | MediaUnavailable | list] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fetch_media(self, media_id: str, *, max_bytes: int, within: float) -> Media:
        with self._lock:
            self.fetched.append(media_id)
            tries = self.fetched.count(media_id)
        answer = self.media.get(media_id, MediaUnavailable("no such media (HTTP 404)", again=False))
        if isinstance(answer, list):
            answer = answer[min(tries, len(answer)) - 1]
        if isinstance(answer, MediaUnavailable):
            raise answer
        return answer

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons=()) -> SendResult:
        return self._answer(to, body, None, callback_data, tuple(tuple(b) for b in buttons))

    def send_template(self, *, to: str, template: TemplateMessage, callback_data: str = "") -> SendResult:
        return self._answer(to, "", template, callback_data)

    def calls_to(self, number: str) -> list[Call]:
        return [call for call in self.calls if call.to == number]

    def _answer(self, to, body, template, callback_data, buttons=()) -> SendResult:
        with self._lock:
            self.calls.append(Call(to, body, template, callback_data,
                                   threading.current_thread().name, buttons))
            count = len(self.calls)
            tries = len(self.calls_to(to))
        if self.gate is not None:
            self.gate.wait(timeout=5)
        scripted = self.results.get(to)
        if isinstance(scripted, list):
            return scripted[min(tries, len(scripted)) - 1]
        if scripted is not None:
            return scripted
        return SendResult(status=NotificationStatus.SENT, message_id=f"wamid.fake{count}", http_status=200)


# The sender the `sender` fixture installs; `current` is the WHATSAPP_CLIENT_FACTORY that
# returns it, so code under test finds it through the same seam as production.
installed = None


def current():
    return installed if installed is not None else FakeWhatsAppSender()
