"""The seam between tickets and whoever listens: tickets emits its events inside the change's
transaction and imports nothing of its listeners."""
import ast
from pathlib import Path

import pytest

from tickets import events, services
from tickets.models import TicketEventType

ROOT = Path(__file__).resolve().parents[1]


def test_tickets_imports_nothing_from_notifications():
    for path in ROOT.rglob("*.py"):
        if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "notifications" for n in names), path


@pytest.mark.django_db
def test_each_change_is_emitted_inside_its_transaction(cast, monkeypatch):
    heard = []
    monkeypatch.setattr(events, "_listeners", [*events._listeners, heard.append])
    ticket = services.ticket_create(client=cast.client, title="t", description="d",
                                    project_name="p")
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action="open")
    services.comment_add(ticket_id=ticket.pk, author=cast.admin, body="On it.")
    services.ticket_update(ticket_id=ticket.pk, actor=cast.admin, changes={"title": "T"})
    assert [e.event for e in heard] == [TicketEventType.TICKET_CREATED,
                                        TicketEventType.TICKET_OPENED,
                                        TicketEventType.COMMENT_ADDED]
    # notifications listens from the start: each event's rows were written with it.
    from notifications.models import NotificationLog

    assert all(NotificationLog.objects.filter(ticket_event=e).exists() for e in heard)


def test_a_listener_subscribed_twice_hears_once(monkeypatch):
    heard = []
    monkeypatch.setattr(events, "_listeners", [])
    events.subscribe(heard.append)
    events.subscribe(heard.append)
    events.emit("an event")
    assert heard == ["an event"]
