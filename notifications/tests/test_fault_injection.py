"""Faults at the Graph client, seen from the API: the ticket still changes state, every attempt
leaves exactly one log row, and the request ends within its time bound."""
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
URL = "https://graph.facebook.com/v21.0/123456789012345/messages"

FAULTS = {
    "timeout": {"body": requests.ReadTimeout("read timed out")},
    "reset connection": {
        "body": requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection reset by peer"))},
    "500 with an HTML body": {"status": 500, "body": "<html><h1>Internal error</h1></html>",
                              "content_type": "text/html"},
    "200 that is not JSON": {"status": 200, "body": "OK, sent!", "content_type": "text/plain"},
    "401 with code 190": {"status": 401, "json": {"error": {
        "message": "Error validating access token: Session has expired", "type": "OAuthException",
        "code": 190}}},
    "429 with 130429": {"status": 429, "json": {"error": {
        "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}}},
}


@pytest.fixture
def graph_with_token(settings):
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN  # the seam forgets its cached client on this change
    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        yield graph


def rows_for(ticket: Ticket, event: str) -> list[NotificationLog]:
    return list(NotificationLog.objects.filter(ticket=ticket, event=event).order_by("pk"))


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_graph_fault_never_stops_the_ticket(api, cast, ticket_in, graph_with_token, fault):
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

    rows = rows_for(ticket, TicketEventType.TICKET_OPENED)
    attempts = len(graph_with_token.calls) - calls_before
    assert attempts >= 1
    assert len(rows) == attempts  # one row per attempt, no more, no fewer
    assert all(r.status == NotificationStatus.FAILED and r.error_message for r in rows)
    assert all(r.recipient_id == cast.client.pk for r in rows)
    # Retries point at what they repeat.
    assert rows[0].retry_of_id is None
    assert all(later.retry_of_id == earlier.pk for earlier, later in zip(rows, rows[1:]))
    assert TOKEN not in response.content.decode()


def test_a_temporary_fault_then_success_is_one_failed_and_one_sent_row(
        api, cast, ticket_in, graph_with_token):
    ticket = ticket_in(TicketStatus.NEW)
    graph_with_token.add(responses.POST, URL, **FAULTS["429 with 130429"])
    graph_with_token.add(responses.POST, URL, status=200, json={
        "messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "x"}],
        "messages": [{"id": "wamid.AFTER-RETRY"}]})

    assert api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/").status_code == 200
    rows = rows_for(ticket, TicketEventType.TICKET_OPENED)
    assert [r.status for r in rows] == [NotificationStatus.FAILED, NotificationStatus.SENT]
    assert rows[1].provider_message_id == "wamid.AFTER-RETRY" and rows[1].retry_of_id == rows[0].pk


def test_a_slow_answer_is_cut_off_at_the_time_bound(api, cast, ticket_in, graph_with_token,
                                                    monkeypatch):
    """No clock and no sleep: the bound "runs out" once both sends are inside Graph, held there
    until the request has answered."""
    ticket = ticket_in(TicketStatus.IN_PROGRESS)  # finishing tells the client and the admin
    inside = threading.Barrier(3)  # two sends inside Graph, and the stand-in for wait()
    release = threading.Event()
    # Counted on arrival: responses records a call only once its answer is made, which for a
    # held send may be after the request has ended.
    arrived = []

    def slow_graph(request):
        arrived.append(request)
        inside.wait(timeout=5)
        release.wait(timeout=5)
        return 200, {}, '{"messages": [{"id": "wamid.TOO-LATE"}]}'

    graph_with_token.add_callback(responses.POST, URL, callback=slow_graph)
    monkeypatch.setattr(delivery, "wait", lambda futures, timeout: inside.wait(timeout=5))
    try:
        response = api(cast.developer).post(f"/api/tickets/{ticket.pk}/finish/",
                                            {"resolution": "Done"}, format="json")
    finally:
        release.set()

    assert response.status_code == 200 and response.json()["status"] == TicketStatus.FINISHED
    rows = rows_for(ticket, TicketEventType.WORK_FINISHED)
    assert {r.recipient_id for r in rows} == {cast.client.pk, cast.admin.pk}
    assert len(rows) == 2 == len(arrived)
    for row in rows:
        assert row.status == NotificationStatus.FAILED
        assert row.error_message == delivery.NO_ANSWER_IN_TIME
        assert row.may_have_been_sent  # it may yet arrive: the admin must not blindly resend
