"""The WhatsApp webhook: handshake, signatures over the raw body, statuses applied monotonically
and idempotently, inbound messages opening the 24-hour window."""
import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

from notifications.models import Channel, DeliveryStatus, NotificationLog, NotificationStatus
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
URL = "/api/notifications/whatsapp/webhook/"
SECRET = "test-app-secret"  # Incident/settings_test.py
T0 = 1_790_000_000


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=body, content_type="application/json", **headers)


def envelope(*, statuses=(), messages=(), field="messages") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}}
    if statuses:
        value["statuses"] = list(statuses)
    if messages:
        value["messages"] = list(messages)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA_ID", "changes": [{"field": field, "value": value}]}]}


def status(wamid: str, name: str, at: int = T0, callback: str = "", **extra) -> dict:
    item = {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": "201000000003", **extra}
    if callback:
        item["biz_opaque_callback_data"] = callback
    return item


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture
def sent_row(cast, ticket_in) -> NotificationLog:
    ticket = ticket_in(TicketStatus.NEW)
    return NotificationLog.objects.create(
        ticket=ticket, event="TICKET_OPENED", recipient=cast.client, channel=Channel.WHATSAPP,
        to="+201000000003", message="hello", status=NotificationStatus.SENT,
        provider_message_id="wamid.ONE", callback_id="cb-one",
        sent_at=datetime.fromtimestamp(T0 - 5, tz=timezone.utc),
    )


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


# --- GET handshake ----------------------------------------------------------------------------------


@pytest.mark.parametrize("challenge", ["1158201444", "0001234", "123456789012345678901234567890"])
def test_handshake_echoes_the_challenge_byte_for_byte(client, challenge):
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token",
                                "hub.challenge": challenge})
    assert response.status_code == 200
    assert response.content == challenge.encode()
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
    {"hub.challenge": "1"},
])
def test_handshake_refuses_a_wrong_token_or_mode(client, params):
    assert client.get(URL, params).status_code == 403


def test_handshake_refuses_everything_without_a_configured_token(client, settings):
    settings.WHATSAPP_WEBHOOK_VERIFY_TOKEN = ""
    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


# --- POST signature ---------------------------------------------------------------------------------


def test_missing_signature_is_401_and_changes_nothing(client, sent_row):
    response = post(client, body_of(envelope(statuses=[status("wamid.ONE", "read")])), signature=None)
    assert response.status_code == 401
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == ""


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha1=abc", "nonsense"])
def test_wrong_signature_is_403_and_changes_nothing(client, sent_row, signature):
    response = post(client, body_of(envelope(statuses=[status("wamid.ONE", "read")])), signature)
    assert response.status_code == 403
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == "" and sent_row.read_at is None


def test_a_signature_made_with_another_secret_is_403(client, sent_row):
    body = body_of(envelope(statuses=[status("wamid.ONE", "read")]))
    assert post(client, body, sign(body, "someone-else")).status_code == 403


def test_no_app_secret_means_nothing_is_accepted(client, settings, sent_row):
    settings.WHATSAPP_APP_SECRET = ""
    body = body_of(envelope(statuses=[status("wamid.ONE", "read")]))
    assert post(client, body, sign(body, "")).status_code == 403


def test_the_raw_body_is_hashed_escapes_and_emoji_included(client, sent_row, cast):
    """Meta sends non-ASCII as \\uXXXX; re-serialising the JSON would change the bytes."""
    cast.client.profile.whatsapp_number = "+201000000003"
    cast.client.profile.save()
    raw = (
        '{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages",'
        '"value":{"messaging_product":"whatsapp","contacts":[{"profile":{"name":"J\\u00f6rg \\ud83d\\ude80'
        ' \\u0623\\u062d\\u0645\\u062f"},"wa_id":"201000000003"}],"messages":[{"from":"201000000003",'
        '"id":"wamid.IN","timestamp":"' + str(T0) + '","type":"text","text":{"body":"\\ud83d\\udc4d ok"}}],'
        '"statuses":[{"id":"wamid.ONE","status":"delivered","timestamp":"' + str(T0) + '"}]}}]}]}'
    ).encode()
    assert json.dumps(json.loads(raw)).encode() != raw  # re-encoding would break the signature

    response = post(client, raw)

    assert response.status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == DeliveryStatus.DELIVERED
    cast.client.profile.refresh_from_db()
    assert cast.client.profile.whatsapp_last_inbound_at == at(T0)


def test_malformed_json_is_400(client):
    body = b'{"object": "whatsapp_business_account", "entry": ['
    assert post(client, body).status_code == 400


@pytest.mark.parametrize("payload", [
    envelope(field="message_template_status_update"),
    {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"field": "messages",
     "value": {"errors": [{"code": 131000, "title": "Something went wrong"}]}}]}]},
    {"object": "page"},
    [],
    {"entry": "not a list"},
    envelope(statuses=[{"id": "wamid.X", "status": "played", "timestamp": str(T0)},
                       {"status": "read"}, "junk"]),
])
def test_anything_signed_and_parseable_gets_200(client, payload):
    response = post(client, body_of(payload))
    assert response.status_code == 200 and response.content == b"OK"


# --- statuses ---------------------------------------------------------------------------------------


def test_statuses_move_forward_with_the_time_of_each_step(client, sent_row):
    for name, when in (("sent", T0), ("delivered", T0 + 2), ("read", T0 + 60)):
        assert post(client, body_of(envelope(statuses=[status("wamid.ONE", name, when)]))).status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == DeliveryStatus.READ
    assert (sent_row.wa_sent_at, sent_row.delivered_at, sent_row.read_at) == (at(T0), at(T0 + 2), at(T0 + 60))
    assert sent_row.status == NotificationStatus.SENT


def test_a_status_never_moves_backwards(client, sent_row):
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "read", T0 + 60)])))
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 2)])))
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == DeliveryStatus.READ
    assert sent_row.delivered_at == at(T0 + 2)  # the step's time is still worth keeping


def test_read_without_delivered_is_fine(client, sent_row):
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "read", T0 + 9)])))
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == DeliveryStatus.READ and sent_row.delivered_at is None


def test_a_repeated_status_changes_nothing(client, sent_row):
    body = body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 2)]))
    post(client, body)
    sent_row.refresh_from_db()
    first = (sent_row.delivery_status, sent_row.delivered_at)
    redelivered = body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 500)]))
    assert post(client, redelivered).status_code == 200
    sent_row.refresh_from_db()
    assert (sent_row.delivery_status, sent_row.delivered_at) == first


def test_failed_makes_the_row_failed_with_code_details_and_what_to_do(client, sent_row):
    failed = status("wamid.ONE", "failed", T0 + 3, errors=[{
        "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}])
    post(client, body_of(envelope(statuses=[failed])))
    sent_row.refresh_from_db()
    assert sent_row.status == NotificationStatus.FAILED
    assert sent_row.delivery_status == DeliveryStatus.FAILED
    assert sent_row.error_code == "131047" and sent_row.failed_at == at(T0 + 3)
    assert "24 hours" in sent_row.error_message and "template" in sent_row.error_message
    # Meta's details once; its title is replaced by what the code means, not repeated.
    assert sent_row.error_message.endswith(
        "(Meta: Message failed to send because more than 24 hours have passed.)")
    assert "Re-engagement message" not in sent_row.error_message


def test_failed_for_an_unknown_code_keeps_metas_title_and_details(client, sent_row):
    failed = status("wamid.ONE", "failed", errors=[{"code": 139999, "title": "Brand-new error",
                                                    "error_data": {"details": "Unknown."}}])
    post(client, body_of(envelope(statuses=[failed])))
    sent_row.refresh_from_db()
    assert sent_row.error_code == "139999"
    assert sent_row.error_message == "Brand-new error: Unknown."


def test_failed_after_read_is_ignored_but_read_after_failed_wins(client, sent_row, ticket_in, cast):
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "read", T0 + 9)])))
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "failed", T0 + 10,
                                                    errors=[{"code": 131026, "title": "x"}])])))
    sent_row.refresh_from_db()
    assert (sent_row.status, sent_row.delivery_status) == (NotificationStatus.SENT, DeliveryStatus.READ)

    other = NotificationLog.objects.create(
        ticket=sent_row.ticket, event="TICKET_OPENED", recipient=cast.admin, to="+201000000001",
        message="m", status=NotificationStatus.SENT, provider_message_id="wamid.TWO")
    post(client, body_of(envelope(statuses=[status("wamid.TWO", "failed", T0, errors=[{"code": 131026}])])))
    post(client, body_of(envelope(statuses=[status("wamid.TWO", "delivered", T0 + 1)])))
    other.refresh_from_db()
    assert (other.status, other.delivery_status, other.error_code) == ("SENT", "delivered", "")


def test_an_unknown_wamid_is_ignored(client, sent_row):
    response = post(client, body_of(envelope(statuses=[status("wamid.NOBODY", "read")])))
    assert response.status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == ""


def test_callback_data_finds_the_row_when_wamids_are_not_unique(client, sent_row, cast):
    twin = NotificationLog.objects.create(
        ticket=sent_row.ticket, event="TICKET_OPENED", recipient=cast.admin, to="+201000000001",
        message="m", status=NotificationStatus.SENT, provider_message_id="wamid.ONE",
        callback_id="cb-twin")
    post(client, body_of(envelope(statuses=[status("wamid.ONE", "read", callback="cb-twin")])))
    twin.refresh_from_db()
    sent_row.refresh_from_db()
    assert twin.delivery_status == DeliveryStatus.READ
    assert sent_row.delivery_status == ""  # ambiguous by wamid alone, so only the callback counted


def test_a_batch_of_100_statuses_costs_a_few_queries(client, sent_row, cast, django_assert_max_num_queries):
    rows = NotificationLog.objects.bulk_create(
        NotificationLog(ticket=sent_row.ticket, event="TICKET_OPENED", recipient=cast.client,
                        to="+201000000003", message="m", status="SENT",
                        provider_message_id=f"wamid.B{i}") for i in range(100))
    statuses = [status(f"wamid.B{i}", name, T0 + i) for i in range(50) for name in ("delivered", "read")]
    with django_assert_max_num_queries(8):
        assert post(client, body_of(envelope(statuses=statuses))).status_code == 200
    assert NotificationLog.objects.filter(delivery_status="read").count() == 50
    assert len(rows) == 100


# --- inbound messages -------------------------------------------------------------------------------


def test_inbound_messages_record_when_each_user_last_wrote(client, cast):
    messages = [
        {"from": "201000000003", "id": "wamid.A", "timestamp": str(T0), "type": "text", "text": {"body": "hi"}},
        {"from": "201000000003", "id": "wamid.B", "timestamp": str(T0 + 30), "type": "text", "text": {"body": "again"}},
        {"from": "19999999999", "id": "wamid.C", "timestamp": str(T0), "type": "text", "text": {"body": "?"}},
        {"user_id": "US.13491208655302741918", "id": "wamid.D", "timestamp": str(T0), "type": "text"},
    ]
    cast.client.profile.whatsapp_number = "+201000000003"
    cast.client.profile.save()
    assert post(client, body_of(envelope(messages=messages))).status_code == 200
    cast.client.profile.refresh_from_db()
    assert cast.client.profile.whatsapp_last_inbound_at == at(T0 + 30)

    older = [{"from": "201000000003", "id": "wamid.E", "timestamp": str(T0 - 999), "type": "text"}]
    post(client, body_of(envelope(messages=older)))
    cast.client.profile.refresh_from_db()
    assert cast.client.profile.whatsapp_last_inbound_at == at(T0 + 30)


def test_an_inbound_message_opens_the_window_of_the_active_holder_only(client, cast):
    """A deactivated user may keep a number that an active user now holds."""
    cast.client.profile.whatsapp_number = "+201000000003"
    cast.client.profile.save()
    cast.other_client.is_active = False
    cast.other_client.save()
    cast.other_client.profile.whatsapp_number = "+201000000003"
    cast.other_client.profile.save()
    messages = [{"from": "201000000003", "id": "wamid.A", "timestamp": str(T0), "type": "text"}]
    assert post(client, body_of(envelope(messages=messages))).status_code == 200
    cast.client.profile.refresh_from_db()
    cast.other_client.profile.refresh_from_db()
    assert cast.client.profile.whatsapp_last_inbound_at == at(T0)
    assert cast.other_client.profile.whatsapp_last_inbound_at is None


@pytest.mark.parametrize("extra", [
    # Before v24.0: the conversation the message opened or joined.
    {"conversation": {"id": "CONVERSATION_ID", "expiration_timestamp": str(T0 + 86400),
                      "origin": {"type": "utility"}},
     "pricing": {"billable": True, "pricing_model": "CBP", "category": "utility"}},
    # From v24.0: no conversation; per-message pricing.
    {"pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"}},
    {},
], ids=["with conversation", "without conversation", "bare"])
def test_statuses_of_either_graph_version_shape_apply(client, sent_row, extra):
    body = body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 10, **extra)]))
    assert post(client, body).status_code == 200
    sent_row.refresh_from_db()
    assert (sent_row.delivery_status, sent_row.delivered_at) == ("delivered", at(T0 + 10))


def test_a_non_ascii_signature_is_403_not_500(client):
    response = client.post(URL, data=b"{}", content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256="sha256=é" + "0" * 63)
    assert response.status_code == 403


def test_json_nested_too_deep_is_400_not_500(client):
    body = b"[" * 200_000 + b"]" * 200_000
    response = post(client, body)
    assert response.status_code == 400 and response.json()["detail"] == "Malformed JSON."


@pytest.mark.parametrize("odd", [[], {}, 7, None])
def test_a_status_of_an_odd_type_is_ignored_with_200(client, sent_row, odd):
    item = {"id": "wamid.ONE", "status": odd, "timestamp": str(T0)}
    assert post(client, body_of(envelope(statuses=[item]))).status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == ""


def test_a_large_signed_batch_is_accepted(client, sent_row, settings):
    """Meta may send megabytes at once; the API-wide 2.5 MB limit does not apply here."""
    filler = [status(f"wamid.OTHER{n}", "delivered", T0) for n in range(30_000)]
    body = body_of(envelope(statuses=[*filler, status("wamid.ONE", "delivered", T0 + 5)]))
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert post(client, body).status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == "delivered"


def test_a_body_over_the_webhook_limit_is_413(client, monkeypatch):
    from notifications.whatsapp import views

    monkeypatch.setattr(views, "WEBHOOK_MAX_BYTES", 100)
    response = post(client, b"{" + b" " * 200 + b"}")
    assert response.status_code == 413 and "over 100 bytes" in response.json()["detail"]


def test_the_webhook_answers_without_the_trailing_slash(client, sent_row):
    body = body_of(envelope(statuses=[status("wamid.ONE", "delivered", T0 + 10)]))
    response = client.post(URL.rstrip("/"), data=body, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=sign(body))
    assert response.status_code == 200
    sent_row.refresh_from_db()
    assert sent_row.delivery_status == "delivered"
