"""The access token appears in no log line, database row, API response or command output, whatever
goes wrong."""
import logging

import pytest
import requests
import responses
import urllib3
from django.core.management import CommandError, call_command

from notifications.models import DeliveryAttempt, NotificationLog
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
TOKEN = "EAArecognisable-SECRET-token-0123456789"
URL = "https://graph.facebook.com/v25.0/123456789012345/messages"

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

    opened = NotificationLog.objects.filter(event="TICKET_OPENED")
    rows = list(opened.values_list(
        "to", "message", "error_code", "error_message", "provider_message_id"))
    attempts = list(DeliveryAttempt.objects.values_list(
        "provider_message_id", "error_code", "error_message"))
    assert len(rows) == len(attempts) == len(FAILURES)
    assert "SENT" not in set(opened.values_list("status", flat=True))
    assert TOKEN not in repr(rows) and TOKEN not in repr(attempts)
    assert TOKEN not in caplog.text
    assert TOKEN not in capsys.readouterr().out
    assert all(TOKEN not in body for body in bodies)


@responses.activate
def test_the_token_is_in_no_table_page_command_or_log(
    api, cast, ticket_in, settings, caplog, capsys, staff, django_capture_on_commit_callbacks
):
    """Every failure path once more, then everything a person or a log collector could read."""
    from django.apps import apps
    from django.core import serializers

    settings.WHATSAPP_ACCESS_TOKEN = TOKEN
    settings.WHATSAPP_RETRY_BACKOFF = []
    caplog.set_level(logging.DEBUG)
    for answer in FAILURES * 2:  # the opens, then the resends
        responses.post(URL, **answer)
    tickets = [ticket_in(TicketStatus.NEW) for _ in FAILURES]
    outputs = []
    with django_capture_on_commit_callbacks(execute=True):
        for ticket in tickets:
            outputs.append(api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/").content)
    call_command("resend_failed_notifications", "--include-uncertain")
    call_command("check")
    row = NotificationLog.objects.filter(error_code="190").first()
    for url in ("/admin/notifications/notificationlog/",
                f"/admin/notifications/notificationlog/{row.pk}/change/",
                "/admin/notifications/notificationinsights/",
                f"/admin/tickets/ticket/{tickets[0].pk}/change/"):
        page = staff.get(url)
        assert page.status_code == 200, url
        outputs.append(page.content)
    outputs.append(api(cast.admin).get("/api/notifications/logs/?page_size=100").content)
    outputs.append(api(cast.admin).get(f"/api/tickets/{tickets[0].pk}/").content)
    outputs.append(api().get("/api/schema/").content)

    assert DeliveryAttempt.objects.count() > len(FAILURES)  # the resends ran too
    for body in outputs:
        assert TOKEN.encode() not in body
    captured = capsys.readouterr()
    assert TOKEN not in captured.out and TOKEN not in captured.err and TOKEN not in caplog.text
    for model in apps.get_models():
        dump = serializers.serialize("json", model._default_manager.all())
        assert TOKEN not in dump, model._meta.label
