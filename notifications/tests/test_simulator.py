"""The WhatsApp phone simulator: only in console mode, only for staff, and every action goes
through the real webhook as a signed payload."""
import json

import pytest

from notifications.models import NotificationLog, ReceivedMessage
from notifications.tests.test_webhooks import post
from notifications.whatsapp import simulator
from tickets.models import TicketEvent, TicketEventType as E, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def on(settings, sender):
    settings.WHATSAPP_SIMULATOR = True
    return settings


def phone(staff, user, **params):
    return staff.get(f"/simulator/{user.pk}/", params, secure=True)


def act(staff, user, **form):
    return staff.post(f"/simulator/{user.pk}/act/", form, secure=True)


def test_it_is_off_without_console_mode_or_without_debug_and_its_setting(staff, cast, settings):
    settings.DEBUG, settings.WHATSAPP_SIMULATOR = False, False
    assert staff.get("/simulator/", secure=True).status_code == 404
    settings.DEBUG = True
    assert staff.get("/simulator/", secure=True).status_code == 200
    settings.DEBUG, settings.WHATSAPP_SIMULATOR = False, True
    assert staff.get("/simulator/", secure=True).status_code == 200
    settings.WHATSAPP_ACCESS_TOKEN = "a-real-token"  # Meta is in play: no simulated phones
    assert staff.get("/simulator/", secure=True).status_code == 404
    assert staff.post(f"/simulator/{cast.client.pk}/act/", {"action": "reply", "text": "hi"},
                      secure=True).status_code == 404


def test_it_is_for_staff_only(on, client, cast):
    assert client.get("/simulator/", secure=True).status_code == 302  # to the admin's login
    client.force_login(cast.client)
    for answer in (client.get(f"/simulator/{cast.client.pk}/", secure=True),
                   client.post(f"/simulator/{cast.client.pk}/act/", {"action": "reply", "text": "x"},
                               secure=True)):
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    assert not ReceivedMessage.objects.exists()


def test_the_people_page_lists_everyone_with_a_number(on, staff, cast):
    page = staff.get("/simulator/", secure=True).content.decode()
    for user in (cast.admin, cast.client, cast.developer):
        assert f"/simulator/{user.pk}/" in page and user.profile.whatsapp_number in page


@pytest.mark.django_db(transaction=True)  # real commits: what the tap causes is sent after them
def test_tapping_open_on_the_admins_phone_opens_the_ticket_and_the_client_is_told(
        on, staff, cast, ticket_in, notify):
    ticket = ticket_in(TicketStatus.NEW)
    [row] = notify(ticket, E.TICKET_CREATED)
    shown = phone(staff, cast.admin).content.decode()
    (payload, title), _ = row.buttons
    assert title == "Open" and payload in shown and ">Open</button>" in shown
    act(staff, cast.admin, action="tap", payload=payload, title=title, wamid=row.provider_message_id,
        template="1" if row.message_type == "template" else "0")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED
    told = NotificationLog.objects.get(ticket=ticket, recipient=cast.client, event=E.TICKET_OPENED)
    assert told.status == "SENT"  # sent after the webhook's answer, as with Meta
    chat = phone(staff, cast.client, part="chat").content.decode()
    assert "Your Ticket Has Been Opened" in told.message
    assert "<b>Your Ticket Has Been Opened</b>" in chat  # WhatsApp's *bold*, as the app shows it


def test_a_reply_quoting_a_message_is_a_comment_on_its_ticket(on, staff, cast, ticket_in, notify):
    ticket = ticket_in(TicketStatus.OPENED)
    ticket_in(TicketStatus.OPENED)  # another open ticket: only the quote says which one is meant
    [row] = notify(ticket, E.TICKET_OPENED)
    act(staff, cast.client, action="reply", text="It still fails on Firefox",
        wamid=row.provider_message_id)
    assert TicketEvent.objects.filter(ticket=ticket, event=E.COMMENT_ADDED,
                                      note="It still fails on Firefox").exists()
    assert "It still fails on Firefox" in phone(staff, cast.client).content.decode()


def test_stop_from_the_phone_opts_the_person_out(on, staff, cast):
    act(staff, cast.client, action="reply", text="STOP")
    cast.client.profile.refresh_from_db()
    assert cast.client.profile.whatsapp_opted_out_at is not None


@pytest.mark.parametrize("state, code", [("delivered", ""), ("read", ""), ("failed", "131026")])
def test_a_message_can_be_marked_delivered_read_or_failed(on, staff, cast, ticket_in, notify,
                                                          state, code):
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.provider_message_id
    act(staff, cast.client, action=state, wamid=row.provider_message_id, code=code)
    row.refresh_from_db()
    assert row.delivery_status == state and row.error_code == code


def test_nothing_to_send_is_a_400_that_says_so(on, staff, cast):
    answer = act(staff, cast.client, action="reply", text="   ")
    assert answer.status_code == 400 and "Nothing to send" in answer.content.decode()


def test_its_payloads_are_signed_with_the_app_secret_or_else_a_key_only_this_process_knows(
        on, client, cast):
    payload = simulator.envelope(messages=[simulator.text("201000000003", "hello")])
    on.WHATSAPP_APP_SECRET = "test-app-secret"
    assert simulator.deliver(payload) == 200
    on.WHATSAPP_APP_SECRET = ""
    assert simulator.deliver(payload) == 200  # signed with simulator.KEY
    body = json.dumps(payload).encode()
    import hashlib
    import hmac

    signed = "sha256=" + hmac.new(simulator.KEY.encode(), body, hashlib.sha256).hexdigest()
    on.WHATSAPP_SIMULATOR = False  # off: the process's key signs nothing any more
    assert post(client, body, signature=signed).status_code == 403
