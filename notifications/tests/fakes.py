"""A scripted WhatsApp sender for service tests: records every call, answers as told."""
import threading
from dataclasses import dataclass, field

from notifications.clients.base import SendResult
from notifications.models import NotificationStatus


@dataclass
class FakeWhatsAppSender:
    """Answers SENT with a fresh wamid unless `results` says otherwise for a number.

    `gate`, when set, makes every send wait on it: tests use a Barrier to prove sends overlap,
    or an Event to hold sends past the time bound.
    """

    results: dict[str, SendResult] = field(default_factory=dict)
    gate: threading.Barrier | threading.Event | None = None
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (to, body, thread name)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, *, to: str, body: str) -> SendResult:
        with self._lock:
            self.calls.append((to, body, threading.current_thread().name))
            count = len(self.calls)
        if isinstance(self.gate, threading.Barrier):
            self.gate.wait(timeout=5)
        elif isinstance(self.gate, threading.Event):
            self.gate.wait(timeout=5)
        if to in self.results:
            return self.results[to]
        return SendResult(
            status=NotificationStatus.SENT, message_id=f"wamid.fake{count}", http_status=200
        )
