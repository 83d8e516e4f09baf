"""Faults at the Graph client, seen from the API: the ticket still changes state, the notification
keeps one row with exactly one attempt per request Graph saw, its status says what is known, and
the request ends within its time bound."""
import threading
import time

import pytest
import requests
import responses
import urllib3

from notifications import delivery
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import Ticket, TicketEventType, TicketStatus

# Transactional: on_commit runs inside the request, as in production, so the request's duration
# includes its notifications.
pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "EAA-fault-injection-token"
URL = "https://graph.facebook.com/v25.0/123456789012345/messages"

S = NotificationStatus
# Each fault, and where the notification rests after it.
FAULTS = {
    "timeout": ({"body": requests.ReadTimeout("read timed out")}, S.UNKNOWN),
    "reset connection": ({
        "body": requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection reset by peer"))},
        S.UNKNOWN),
    "500 with an HTML body": ({"status": 500, "body": "<html><h1>Internal error</h1></html>",
                               "content_type": "text/html"}, S.QUEUED),
    "200 that is not JSON": ({"status": 200, "body": "OK, sent!", "content_type": "text/plain"},
                             S.UNKNOWN),
    "401 with code 190": ({"status": 401, "json": {"error": {
        "message": "Error validating access token: Session has expired", "type": "OAuthException",
        "code": 190}}}, S.FAILED),
    "429 with 130429": ({"status": 429, "json": {"error": {
        "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}}}, S.QUEUED),
}


@pytest.fixture
def graph_with_token(settings):
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN  # the seam forgets its cached client on this change
    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        yield graph


def rows_for(ticket: Ticket, event: str) -> list[NotificationLog]:
    return list(NotificationLog.objects.filter(ticket=ticket, event=event).order_by("pk"))


@pytest.mark.parametrize("fault, rests", FAULTS.values(), ids=FAULTS.keys())
def test_a_graph_fault_never_stops_the_ticket(api, cast, ticket_in, graph_with_token, fault, rests):
    ticket = ticket_in(TicketStatus.NEW)
    graph_with_token.add(responses.POST, URL, **fault)
    calls_before = len(graph_with_token.calls)  # the set-up's own sends

    started = time.monotonic()
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/")
    elapsed = time.monotonic() - started

    assert response.status_code == 200 and response.json()["status"] == TicketStatus.OPENED
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED
    assert elapsed < delivery.time_bound()

    [row] = rows_for(ticket, TicketEventType.TICKET_OPENED)
    sent_to_graph = len(graph_with_token.calls) - calls_before
    assert sent_to_graph >= 1
    assert row.attempts.count() == row.attempt_count == sent_to_graph  # one attempt per request
    assert (row.status, row.recipient_id) == (rests, cast.client.pk) and row.error_message
    assert all(a.error_message and a.finished_at for a in row.attempts.all())
    assert row.may_have_been_sent is (rests == S.UNKNOWN)
    assert TOKEN not in response.content.decode()


def test_a_temporary_fault_then_success_is_one_sent_row_with_two_attempts(
        api, cast, ticket_in, graph_with_token):
    ticket = ticket_in(TicketStatus.NEW)
    graph_with_token.add(responses.POST, URL, status=503, json={"error": {
        "message": "Service temporarily unavailable", "type": "OAuthException"}})
    graph_with_token.add(responses.POST, URL, status=200, json={
        "messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "x"}],
        "messages": [{"id": "wamid.AFTER-RETRY"}]})

    assert api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/").status_code == 200
    [row] = rows_for(ticket, TicketEventType.TICKET_OPENED)
    assert (row.status, row.provider_message_id) == (S.SENT, "wamid.AFTER-RETRY")
    assert [(a.status, a.http_status) for a in row.attempts.all()] == [(S.FAILED, 503), (S.SENT, 200)]


@pytest.mark.parametrize("status, action, body, told", [
    (TicketStatus.IN_PROGRESS, "finish", {"resolution": "Done"}, 2),  # the client and the admin
    (TicketStatus.NEW, "open", {}, 1),  # one recipient: held to the same bound
])
def test_a_slow_answer_is_cut_off_at_the_time_bound(api, cast, ticket_in, graph_with_token,
                                                    monkeypatch, status, action, body, told):
    """No clock and no sleep: the bound "runs out" once every send is inside Graph, held there
    until the request has answered (Graph trickling bytes defeats a socket timeout; the bound
    holds whatever the socket does)."""
    ticket = ticket_in(status)
    inside = threading.Barrier(told + 1)  # the sends inside Graph, and the stand-in for wait()
    release = threading.Event()
    # Counted on arrival: responses records a call only once its answer is made, which for a
    # held send may be after the request has ended.
    arrived = []

    def slow_graph(request):
        arrived.append(request)
        inside.wait(timeout=5)
        release.wait(timeout=5)
        return 200, {}, '{"messages": [{"id": "wamid.TOO-LATE"}]}'

    def time_runs_out(futures, timeout, return_when):
        inside.wait(timeout=5)
        return set(), set(futures)

    graph_with_token.add_callback(responses.POST, URL, callback=slow_graph)
    monkeypatch.setattr(delivery, "wait", time_runs_out)
    actor = cast.admin if action == "open" else cast.developer
    try:
        response = api(actor).post(f"/api/tickets/{ticket.pk}/{action}/", body, format="json")
    finally:
        release.set()

    assert response.status_code == 200 and response.json()["status"] != status
    event = TicketEventType.TICKET_OPENED if action == "open" else TicketEventType.WORK_FINISHED
    rows = rows_for(ticket, event)
    assert len(rows) == told == len(arrived)
    for row in rows:
        assert row.status == S.UNKNOWN  # it may yet arrive: the admin must not blindly resend
        assert row.error_message == delivery.NO_ANSWER_IN_TIME and row.may_have_been_sent
