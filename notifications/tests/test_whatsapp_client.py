"""The Cloud API client's HTTP contract, with Graph mocked by `responses`: request shape, and every
outcome (success, each listed error code, timeouts, refused and reset connections, unreadable
answers)."""
import json

import pytest
import requests
import responses
import urllib3

from notifications.whatsapp.types import TemplateMessage
from notifications.whatsapp.client import WhatsAppClient
from notifications.models import NotificationStatus

TOKEN = "EAAtest-token-DO-NOT-LEAK-1234567890"
URL = "https://graph.facebook.com/v25.0/123456789012345/messages"


@pytest.fixture
def client() -> WhatsAppClient:
    return WhatsAppClient(access_token=TOKEN, phone_number_id="123456789012345", timeout=10)


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def graph_error(code: int, message: str, details: str = "", http: int = 400, **extra) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Az8or2", **extra}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"json": {"error": error}, "status": http}


def test_the_request_is_the_documented_one(client, graph):
    graph.post(URL, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.ABC"}]})
    client.send_text(to="+201234567890", body="Hello *there*")

    request = graph.calls[0].request
    assert request.url == URL
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "201234567890",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello *there*"},
    }


def test_reply_buttons_go_as_an_interactive_message(client, graph):
    graph.post(URL, json={"messages": [{"id": "wamid.B"}]})
    client.send_text(to="+201234567890", body="Ticket 7 is yours", callback_data="cb1",
                     buttons=[("start:7:3:abc", "Start work")])
    assert json.loads(graph.calls[0].request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "201234567890",
        "type": "interactive", "biz_opaque_callback_data": "cb1",
        "interactive": {"type": "button", "body": {"text": "Ticket 7 is yours"}, "action": {
            "buttons": [{"type": "reply", "reply": {"id": "start:7:3:abc", "title": "Start work"}}]}},
    }


def test_more_than_three_choices_go_as_a_list_message_with_titles_cut_to_meta_limits(client, graph):
    graph.post(URL, json={"messages": [{"id": "wamid.L"}]})
    choices = [("new:4:PRIORITY:LOW", "Low"), ("new:4:PRIORITY:MEDIUM", "Medium"),
               ("new:4:PRIORITY:HIGH", "High"), ("new:4:PROJECT:0", "A project with a long name")]
    client.send_text(to="+201234567890", body="How urgent is it?", buttons=choices)
    sent = json.loads(graph.calls[0].request.body)["interactive"]
    assert sent == {"type": "list", "body": {"text": "How urgent is it?"}, "action": {
        "button": "Choose", "sections": [{"rows": [
            {"id": "new:4:PRIORITY:LOW", "title": "Low"},
            {"id": "new:4:PRIORITY:MEDIUM", "title": "Medium"},
            {"id": "new:4:PRIORITY:HIGH", "title": "High"},
            {"id": "new:4:PROJECT:0", "title": "A project with a long na"}]}]}}
    graph.post(URL, json={"messages": [{"id": "wamid.B2"}]})
    client.send_text(to="+201234567890", body="Which?", buttons=choices[3:])
    [button] = json.loads(graph.calls[1].request.body)["interactive"]["action"]["buttons"]
    assert button["reply"]["title"] == "A project with a lon"  # 20 characters at most


def test_a_templates_quick_reply_buttons_carry_their_payloads_by_index(client, graph):
    graph.post(URL, json={"messages": [{"id": "wamid.T"}]})
    client.send_template(to="+201234567890", template=TemplateMessage(
        "work_finished", "en_US", ["Sam", "7", "Export", "Done"], ["close:7:3:a", "reopen:7:3:b"]))
    content = json.loads(graph.calls[0].request.body)["template"]
    assert content["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": v} for v in
                                        ("Sam", "7", "Export", "Done")]},
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "close:7:3:a"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "1",
         "parameters": [{"type": "payload", "payload": "reopen:7:3:b"}]},
    ]


def test_timeouts_are_always_set(client, graph):
    graph.post(URL, json={"messages": [{"id": "wamid.ABC"}]})
    client.send_text(to="+201234567890", body="x")
    assert graph.calls[0].request.req_kwargs["timeout"] == (5.0, 10)


def test_base_url_and_version_come_from_the_arguments(graph):
    local = WhatsAppClient(
        access_token=TOKEN, phone_number_id="42", api_version="v22.0",
        base_url="http://127.0.0.1:9999/", timeout=2,
    )
    graph.post("http://127.0.0.1:9999/v22.0/42/messages", json={"messages": [{"id": "wamid.L"}]})
    assert local.send_text(to="+12025551234", body="x").message_id == "wamid.L"
    assert graph.calls[0].request.req_kwargs["timeout"] == (2, 2)


def test_success_is_sent_with_the_wamid(client, graph):
    graph.post(URL, json={
        "messaging_product": "whatsapp",
        "contacts": [{"input": "201234567890", "wa_id": "201234567890"}],
        "messages": [{"id": "wamid.HBgLMjAxMjM0NTY3ODkwFQIAERgSQ0U=", "message_status": "accepted"}],
    })
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.SENT
    assert result.message_id == "wamid.HBgLMjAxMjM0NTY3ODkwFQIAERgSQ0U="
    assert result.http_status == 200 and result.error_message == ""


# code, HTTP status, Graph's message, and words our error_message must contain
ERROR_CASES = [
    (190, 401, "Error validating access token: Session has expired", ["access token has expired", "permanent token"]),
    (131030, 400, "(#131030) Recipient phone number not in allowed list", ["not in allowed list", "Manage phone number list"]),
    (100, 400, "(#100) Invalid parameter", ["parameter is not valid", "WHATSAPP_PHONE_NUMBER_ID", "country code"]),
    (131047, 400, "(#131047) Re-engagement message", ["24 hours", "template"]),
    (131026, 400, "(#131026) Message Undeliverable", ["not on WhatsApp", "Check the number"]),
    (133010, 400, "(#133010) Account not registered", ["not registered", "register"]),
    (130429, 429, "(#130429) Rate limit hit", ["throughput", "tried again"]),
    (131056, 400, "(#131056) (Business Account, Consumer Account) pair rate limit hit", ["this recipient", "tried again later"]),
    (368, 403, "(#368) Temporarily blocked for policies violations", ["blocked for policy", "Account Quality"]),
    (131000, 500, "(#131000) Something went wrong", ["went wrong", "may or may not"]),
    (80007, 400, "(#80007) Rate limit issues", ["rate limit", "hourly"]),
]


@pytest.mark.parametrize("code, http, graph_message, words", ERROR_CASES, ids=[str(c[0]) for c in ERROR_CASES])
def test_each_listed_graph_error_is_failed_with_what_to_do(client, graph, code, http, graph_message, words):
    graph.post(URL, **graph_error(code, graph_message, details="Details from Meta.", http=http))
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert result.error_code == str(code)
    assert result.http_status == http
    assert result.message_id == ""
    for word in words:
        assert word.lower() in result.error_message.lower()
    assert "Details from Meta." in result.error_message


# 131000 may have gone out: never "temporary" (that would repeat it blindly).
@pytest.mark.parametrize("code, temporary", [(130429, True), (131000, False), (80007, True),
                                             (131056, True), (190, False), (131030, False),
                                             (100, False), (131047, False), (368, False)])
def test_errors_are_classified_temporary_or_permanent(client, graph, code, temporary):
    graph.post(URL, **graph_error(code, "x"))
    assert client.send_text(to="+201234567890", body="x").temporary is temporary


def test_an_unknown_code_keeps_graphs_own_message(client, graph):
    graph.post(URL, **graph_error(999999, "(#999999) Something brand new", details="More words."))
    result = client.send_text(to="+201234567890", body="x")
    assert result.error_code == "999999"
    # Graph's title once (the code is stored beside it), then its details.
    assert result.error_message == "Something brand new: More words."


def test_a_read_timeout_is_failed_and_says_the_outcome_is_unknown(client, graph):
    graph.post(URL, body=requests.ReadTimeout("read timed out"))
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert "No answer from WhatsApp within 10 s" in result.error_message
    assert "may or may not" in result.error_message
    assert result.temporary is False  # it may have gone out: never resend blindly
    assert result.http_status is None and result.error_code == ""


def test_a_connect_timeout_says_it_was_not_sent(client, graph):
    graph.post(URL, body=requests.ConnectTimeout("connect timed out"))
    result = client.send_text(to="+201234567890", body="x")
    assert "was not sent" in result.error_message and result.temporary is True


def test_a_refused_connection_is_failed_and_not_sent(client, graph):
    refused = urllib3.exceptions.MaxRetryError(
        pool=None, url="/", reason=urllib3.exceptions.NewConnectionError(None, "Connection refused")
    )
    graph.post(URL, body=requests.ConnectionError(refused))
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert "connection refused or host not found" in result.error_message
    assert result.temporary is True


def test_a_reset_connection_says_the_outcome_is_unknown(client, graph):
    reset = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    graph.post(URL, body=requests.ConnectionError(reset))
    result = client.send_text(to="+201234567890", body="x")
    assert "may or may not" in result.error_message and result.temporary is False


def test_an_html_502_is_failed_as_unreadable(client, graph):
    graph.post(URL, body="<html><body><h1>502 Bad Gateway</h1></body></html>", status=502,
               content_type="text/html")
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert result.http_status == 502 and result.error_code == ""
    assert "not JSON" in result.error_message
    assert result.temporary is True


def test_a_200_without_a_message_id_is_failed(client, graph):
    graph.post(URL, json={"messaging_product": "whatsapp", "contacts": [], "messages": []})
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert result.http_status == 200
    assert "without a message id" in result.error_message


def test_a_200_that_is_not_json_is_failed(client, graph):
    graph.post(URL, body="OK", status=200, content_type="text/plain")
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED and result.http_status == 200


def test_an_error_status_without_an_error_object_is_failed(client, graph):
    graph.post(URL, json={"unexpected": True}, status=503)
    result = client.send_text(to="+201234567890", body="x")
    assert result.status == NotificationStatus.FAILED
    assert "HTTP 503" in result.error_message and result.temporary is True


def test_the_token_never_appears_in_a_result_even_if_graph_echoes_it(client, graph):
    graph.post(URL, **graph_error(999, f"Bad token {TOKEN} supplied", details=f"token={TOKEN}"))
    result = client.send_text(to="+201234567890", body="x")
    assert TOKEN not in repr(result)
    assert "[redacted]" in result.error_message
    assert TOKEN not in repr(client)


def test_a_client_without_a_token_cannot_be_built():
    with pytest.raises(ValueError, match="console mode"):
        WhatsAppClient(access_token="", phone_number_id="1")
