"""The access token appears in no log line, database row, API response or command output, whatever
goes wrong."""
import logging

import pytest
import requests
import responses
import urllib3
from django.core.management import CommandError, call_command

from notifications.models import NotificationLog
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
TOKEN = "EAArecognisable-SECRET-token-0123456789"
URL = "https://graph.facebook.com/v21.0/123456789012345/messages"

FAILURES = [
    {"json": {"error": {"code": 190, "message": "Invalid OAuth access token"}}, "status": 401},
    {"json": {"error": {"code": 100, "message": f"Invalid parameter near {TOKEN}"}}, "status": 400},
    {"json": {"error": {"code": 131030, "message": "not allowed",
                        "error_data": {"details": f"token {TOKEN}"}}}, "status": 400},
    {"body": requests.ReadTimeout(f"timed out sending with {TOKEN}")},
    {"body": requests.ConnectionError(urllib3.exceptions.ProtocolError("reset"))},
    {"body": "<html>502</html>", "status": 502, "content_type": "text/html"},
    {"json": {"messages": []}, "status": 200},
]


@responses.activate
def test_no_failure_path_reveals_the_token(
    api, cast, ticket_in, settings, caplog, capsys, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN
    settings.WHATSAPP_RETRY_BACKOFF = []  # one attempt each: each mocked answer meets one send
    caplog.set_level(logging.DEBUG)
    for answer in FAILURES:
        responses.post(URL, **answer)
    # Created outside the capture block, so only the `open` notifications are sent: one each,
    # meeting the failures in turn.
    tickets = [ticket_in(TicketStatus.NEW) for _ in FAILURES]

    bodies = []
    with django_capture_on_commit_callbacks(execute=True):
        for ticket in tickets:
            bodies.append(api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/").content.decode())
    for number in ("+201234567890",):
        responses.post(URL, json={"error": {"code": 190, "message": f"bad {TOKEN}"}}, status=401)
        with pytest.raises(CommandError) as failed:
            call_command("whatsapp_test", number)
        bodies.append(str(failed.value))
    bodies.append(api(cast.admin).get("/api/notifications/logs/?page_size=100").content.decode())

    rows = list(NotificationLog.objects.values_list(
        "to", "message", "error_code", "error_message", "provider_message_id"))
    assert len(rows) == len(FAILURES)
    assert all(status == "FAILED" for status in NotificationLog.objects.values_list("status", flat=True))
    assert TOKEN not in repr(rows)
    assert TOKEN not in caplog.text
    assert TOKEN not in capsys.readouterr().out
    assert all(TOKEN not in body for body in bodies)
