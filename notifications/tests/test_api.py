"""End to end: a ticket request whose WhatsApp messages succeed or fail, and the logs endpoint."""
import json

import pytest
import requests
import responses

from notifications.sending import SendResult
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db
URL = "https://graph.facebook.com/v25.0/123456789012345/messages"


@pytest.fixture
def live_settings(settings):
    settings.WHATSAPP_ACCESS_TOKEN = "EAAlive-test-token"
    return settings


NEW_TICKET = {"title": "Test WhatsApp", "description": "Testing WhatsApp Cloud API",
              "priority": "HIGH", "category": "BUG", "project_name": "Test Project"}


@responses.activate
def test_creating_a_ticket_sends_to_admins_through_graph(
    api, cast, live_settings, django_capture_on_commit_callbacks
):
    responses.post(URL, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OK1"}]})
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.client).post("/api/tickets/", NEW_TICKET, format="json")

    assert response.status_code == 201
    [row] = NotificationLog.objects.all()
    assert (row.recipient, row.status, row.provider_message_id) == (cast.admin, "SENT", "wamid.OK1")
    assert [(a.number, a.status, a.provider_message_id) for a in row.attempts.all()] == [
        (1, "SENT", "wamid.OK1")]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer EAAlive-test-token"
    sent = json.loads(responses.calls[0].request.body)
    assert sent["biz_opaque_callback_data"] == row.callback_id != ""


@pytest.mark.parametrize(
    "graph_answer, attempts, status",
    [
        ({"json": {"error": {"code": 190, "message": "Invalid OAuth access token"}}, "status": 401}, 1,
         NotificationStatus.FAILED),
        ({"body": requests.ReadTimeout("slow")}, 1, NotificationStatus.UNKNOWN),
        # A 5xx is retried twice at once (WHATSAPP_RETRY_BACKOFF is 0 in tests), then queued for
        # the recovery pass: one notification, three attempts.
        ({"body": "<html>503 Service Unavailable</html>", "status": 503,
          "content_type": "text/html"}, 3, NotificationStatus.QUEUED),
        # A gateway's 504 or 502 may have passed the message on: never sent again blindly.
        ({"body": "<html>504 Gateway Time-out</html>", "status": 504, "content_type": "text/html"},
         1, NotificationStatus.UNKNOWN),
        ({"body": "<html>502 Bad Gateway</html>", "status": 502, "content_type": "text/html"}, 1,
         NotificationStatus.UNKNOWN),
    ],
    ids=["expired-token", "timeout", "html-503", "html-504", "html-502"],
)
@responses.activate
def test_a_whatsapp_failure_never_breaks_the_ticket_change(
    api, cast, ticket_in, live_settings, django_capture_on_commit_callbacks, graph_answer, attempts,
    status,
):
    responses.post(URL, **graph_answer)
    ticket = ticket_in(TicketStatus.NEW)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/", format="json")

    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPENED
    [row] = NotificationLog.objects.filter(event="TICKET_OPENED")
    assert (row.status, row.recipient, row.attempt_count) == (status, cast.client, attempts)
    assert row.error_message
    assert row.attempts.count() == attempts == len(responses.calls)
    assert all(a.error_message and a.finished_at for a in row.attempts.all())


def test_each_lifecycle_step_notifies_its_recipients(api, cast, django_capture_on_commit_callbacks):
    """Console mode (the suite's default): every row SKIPPED, but every recipient has one."""
    steps = [
        (cast.client, "/api/tickets/", NEW_TICKET),
        (cast.admin, "open/", None),
        (cast.admin, "assign/", {"developer": cast.developer.pk}),
        (cast.developer, "start/", None),
        (cast.developer, "finish/", {"resolution": "Done"}),
        (cast.client, "close/", None),
    ]
    ticket_id = None
    with django_capture_on_commit_callbacks(execute=True):
        for user, path, body in steps:
            url = path if ticket_id is None else f"/api/tickets/{ticket_id}/{path}"
            response = api(user).post(url, body or {}, format="json")
            assert response.status_code in (200, 201), response.json()
            ticket_id = response.json()["id"]

    told = list(NotificationLog.objects.order_by("id").values_list("event", "recipient__username"))
    assert told == [
        ("TICKET_CREATED", "admin"),
        ("TICKET_OPENED", "client"),
        ("DEVELOPER_ASSIGNED", "dev"),
        ("DEVELOPER_ASSIGNED", "client"),
        ("WORK_STARTED", "client"),
        ("WORK_FINISHED", "client"),
        ("WORK_FINISHED", "admin"),
        ("TICKET_CLOSED", "dev"),
    ]
    assert set(NotificationLog.objects.values_list("status", flat=True)) == {"SKIPPED"}


def test_editing_details_notifies_nobody(api, cast, ticket_in, django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.NEW)
    before = NotificationLog.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api(cast.client).patch(f"/api/tickets/{ticket.pk}/", {"title": "New"}, format="json")
    assert NotificationLog.objects.count() == before and callbacks == []


# --- GET /api/notifications/logs/ ----------------------------------------------------------------------


@pytest.fixture
def logs(cast, ticket_in, sender, notify):
    first = ticket_in(TicketStatus.ASSIGNED)
    second = ticket_in(TicketStatus.OPENED)
    sender.results[cast.developer.profile.whatsapp_number] = SendResult(
        status=NotificationStatus.FAILED, error_code="131030", error_message="not in allowed list")
    notify(first, "DEVELOPER_ASSIGNED")
    notify(second, "TICKET_OPENED")
    # The set-up's other events were never delivered (their transactions never committed).
    NotificationLog.objects.filter(status=NotificationStatus.QUEUED).delete()
    return first, second


def test_logs_list_for_admins_with_filters(api, cast, logs):
    first, second = logs
    everything = api(cast.admin).get("/api/notifications/logs/").json()
    assert everything["count"] == 3
    row = everything["results"][0]
    assert set(row) >= {"id", "ticket", "event", "recipient", "channel", "to", "message", "status",
                        "provider_message_id", "error_code", "error_message", "http_status",
                        "created_at", "sent_at", "delivery_status", "delivered_at", "read_at",
                        "retry_of", "attempt_count", "next_attempt_at", "attempts"}
    assert row["retry_of"] is None
    assert [(a["number"], a["status"]) for a in row["attempts"]] == [(1, row["status"])]

    failed = api(cast.admin).get("/api/notifications/logs/?status=FAILED&channel=WHATSAPP").json()
    assert [(r["recipient"]["username"], r["error_code"]) for r in failed["results"]] == [("dev", "131030")]
    by_ticket = api(cast.admin).get(f"/api/notifications/logs/?ticket={second.pk}").json()
    assert [r["event"] for r in by_ticket["results"]] == ["TICKET_OPENED"]
    by_event = api(cast.admin).get("/api/notifications/logs/?event=DEVELOPER_ASSIGNED").json()
    assert by_event["count"] == 2


def test_logs_bad_filter_value_lists_allowed(api, cast, logs):
    response = api(cast.admin).get("/api/notifications/logs/?status=LOST")
    assert response.status_code == 400
    assert "SENT, FAILED, SKIPPED" in response.json()["status"][0]


@pytest.mark.parametrize("who", ["client", "developer"])
def test_logs_are_for_admins_only(api, cast, logs, who):
    assert api(getattr(cast, who)).get("/api/notifications/logs/").status_code == 403
    assert api().get("/api/notifications/logs/").status_code == 401
