"""The seam through which a ticket's changes reach whoever listens: notifications subscribes when
Django starts. `emit` runs inside the change's own transaction, so what a listener writes commits
or rolls back with the change. tickets imports nothing of its listeners."""
from collections.abc import Callable

from tickets.models import TicketEvent

Listener = Callable[[TicketEvent], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Call `listener` with every ticket event emitted from now on (once, however often asked)."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(ticket_event: TicketEvent) -> None:
    for listener in _listeners:
        listener(ticket_event)
