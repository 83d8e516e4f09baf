"""Work held back until the caller's own work is done.

A webhook answers Meta before any message it caused is sent, and an admin bulk action commits
every ticket before their notifications go out together. Code that would start such work asks
`defer` first; whoever opened the scope with `deferring()` runs what gathered when it is ready.
Outside a scope, `defer` says no and the work runs as usual.
"""
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_scope = threading.local()


@dataclass
class Deferred:
    """What was held back: for each function, every item it was to be called with."""

    work: dict[Callable[[list], None], list] = field(default_factory=dict)

    def run(self) -> None:
        """Call each function once with all its items (and forget them)."""
        work, self.work = self.work, {}
        for function, items in work.items():
            function(items)


@contextmanager
def deferring() -> Iterator[Deferred]:
    """Hold back deferrable work started inside. A scope opened inside another gathers nothing of
    its own: the outermost one runs it all."""
    if getattr(_scope, "current", None) is not None:
        yield Deferred()
        return
    _scope.current = held = Deferred()
    try:
        yield held
    finally:
        _scope.current = None


def defer(function: Callable[[list], None], items: list) -> bool:
    """Keep `function(items)` for the open scope's owner; False when no scope is open."""
    held = getattr(_scope, "current", None)
    if held is None:
        return False
    held.work.setdefault(function, []).extend(items)
    return True
