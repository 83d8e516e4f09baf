"""The rooms keep their doors: the ledger reaches its channels only through notifications.channels,
and tickets know nothing of notifications."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def production(folder: str, *, skip: tuple[str, ...] = ()) -> list[Path]:
    return [path for path in (ROOT / folder).rglob("*.py")
            if not {"tests", "migrations", *skip} & set(path.relative_to(ROOT).parts)]


@pytest.mark.parametrize("path", production("notifications", skip=("whatsapp", "email")),
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_the_ledger_reaches_no_channel_package_directly(path):
    reached = {name for name in imported(path)
               if name.startswith(("notifications.whatsapp", "notifications.email"))}
    assert reached == set()


@pytest.mark.parametrize("path", production("tickets"), ids=lambda path: str(path.relative_to(ROOT)))
def test_tickets_import_nothing_from_notifications(path):
    assert {name for name in imported(path) if name.startswith("notifications")} == set()


def test_every_channel_the_ledger_names_is_registered():
    from notifications import channels
    from notifications.models import Channel

    assert {channel.name for channel in channels.every()} == set(Channel.values)
