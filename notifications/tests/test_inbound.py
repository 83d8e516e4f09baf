"""Talking back on WhatsApp: each kind of message a person sends the business number, signed and
shaped as Meta posts it, and what the product does and answers."""
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.whatsapp import buttons, inbound
from notifications import services as notification_services
from notifications.models import (REPLY, Channel, MessageType, NotificationLog, NotificationStatus,
                                  Question, ReceivedMessage)
from notifications.tests.test_webhooks import T0, envelope, post
from tickets import services
from tickets.models import Source, TicketEvent, TicketEventType, TicketStatus
from tickets.transitions import Action

pytestmark = pytest.mark.django_db
User = get_user_model()
_ids = iter(range(1, 10_000))


def message(user, kind: str = "text", *, quoting: str = "", **content) -> dict:
    item = {"from": user.profile.whatsapp_number.lstrip("+"), "id": f"wamid.IN{next(_ids)}",
            "timestamp": str(T0), "type": kind, **content}
    if quoting:
        item["context"] = {"from": "15550783881", "id": quoting}
    return item


def text(user, body: str, **extra) -> dict:
    return message(user, text={"body": body}, **extra)


def tap(user, payload: str, *, template: bool = False) -> dict:
    if template:  # a template's quick-reply button, outside the 24-hour window
        return message(user, "button", button={"payload": payload, "text": "Close"})
    return message(user, "interactive", interactive={
        "type": "button_reply", "button_reply": {"id": payload, "title": "Start work"}})


def send(client, *items) -> None:
    response = post(client, json.dumps(envelope(messages=items)).encode())
    assert response.status_code == 200


def replies(user) -> list[str]:
    return list(NotificationLog.objects.filter(recipient=user, event=REPLY).order_by("pk")
                .values_list("message", flat=True))


def comments(ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, event=TicketEventType.COMMENT_ADDED))


def notified(ticket, event: str, user) -> NotificationLog:
    return NotificationLog.objects.get(ticket=ticket, event=event, recipient=user,
                                       channel=Channel.WHATSAPP)


def delivered_as(row: NotificationLog, wamid: str) -> NotificationLog:
    NotificationLog.objects.filter(pk=row.pk).update(status=NotificationStatus.SENT,
                                                     provider_message_id=wamid)
    return row


# --- Replies become comments -------------------------------------------------------------------


def test_a_reply_quoting_a_notification_is_a_comment_on_its_ticket(client, cast, ticket_in):
    ticket, other = ticket_in(TicketStatus.ASSIGNED), ticket_in(TicketStatus.OPENED)
    delivered_as(notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.client), "wamid.OUT1")
    send(client, text(cast.client, "Still broken on Firefox.", quoting="wamid.OUT1"))
    [comment] = comments(ticket)
    assert (comment.note, comment.actor, comment.source) == (
        "Still broken on Firefox.", cast.client, Source.WHATSAPP)
    assert comments(other) == []
    assert replies(cast.client) == [f"Added your comment to ticket #{ticket.pk} \"{ticket.title}\"."]
    received = ReceivedMessage.objects.get()
    assert (received.user, received.kind, received.ticket) == (cast.client, "text", ticket)
    # The developer and the admins are told, as for a comment from the API.
    assert "Still broken on Firefox." in notified(ticket, TicketEventType.COMMENT_ADDED,
                                                  cast.developer).message


def test_without_a_quote_the_one_open_ticket_takes_the_comment(client, cast, ticket_in):
    ticket_in(TicketStatus.CLOSED)
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    send(client, text(cast.client, "Any news?"))
    assert [c.note for c in comments(ticket)] == ["Any news?"]


def test_without_a_quote_several_open_tickets_are_listed_and_nothing_is_stored(
        client, cast, ticket_in):
    first = ticket_in(TicketStatus.NEW, title="Printer on fire")
    second = ticket_in(TicketStatus.ASSIGNED, title="VPN down")
    send(client, text(cast.client, "Hello?"))
    assert comments(first) == comments(second) == []
    [answer] = replies(cast.client)
    assert f"#{first.pk} Printer on fire (New)" in answer and f"#{second.pk} VPN down (Assigned)" in answer
    assert "reply to the notification" in answer


def test_without_any_open_ticket_the_answer_says_so(client, cast, ticket_in):
    ticket_in(TicketStatus.CLOSED)
    send(client, text(cast.client, "Hello?"))
    assert "no open ticket" in replies(cast.client)[0]


def test_a_quote_of_a_ticket_the_sender_may_not_comment_on_is_refused(client, cast, ticket_in):
    closed = ticket_in(TicketStatus.CLOSED)
    delivered_as(notified(closed, TicketEventType.TICKET_CLOSED, cast.client), "wamid.OUT2")
    send(client, text(cast.client, "Thanks!", quoting="wamid.OUT2"))
    assert comments(closed) == []
    assert replies(cast.client) == [
        f"Not added to ticket #{closed.pk}: A ticket whose status is CLOSED takes no more comments; "
        "file a new ticket if the problem is back."]
    # Another client's ticket is not even named as theirs.
    theirs = ticket_in(TicketStatus.OPENED)
    delivered_as(notified(theirs, TicketEventType.TICKET_OPENED, cast.client), "wamid.OUT3")
    send(client, text(cast.other_client, "Mine now", quoting="wamid.OUT3"))
    assert comments(theirs) == []
    assert replies(cast.other_client) == [f"You may not comment on ticket #{theirs.pk}."]


def test_a_redelivered_message_is_acted_on_once(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    item = text(cast.client, "Once only")
    send(client, item)
    send(client, item)
    assert len(comments(ticket)) == 1 and len(replies(cast.client)) == 1


@pytest.mark.parametrize("kind, content, expected", [
    ("sticker", {"sticker": {"id": "MEDIA1", "mime_type": "image/webp"}}, "Only text, photos"),
    ("image", {"image": {"mime_type": "image/jpeg"}}, "Only text, photos"),  # no media id
    ("unsupported", {"errors": [{"code": 131051}]}, "Only text, photos"),
    ("reaction", {"reaction": {"message_id": "wamid.OUT9", "emoji": "👍"}}, "Reactions are not"),
])
def test_stickers_reactions_and_unsupported_messages_get_an_answer_and_store_no_comment(
        client, cast, ticket_in, kind, content, expected):
    ticket = ticket_in(TicketStatus.OPENED)
    send(client, message(cast.client, kind, **content))
    assert comments(ticket) == []
    assert replies(cast.client)[0].startswith(expected)
    assert ReceivedMessage.objects.get().kind == kind


# --- Buttons -------------------------------------------------------------------------------------


def test_notifications_where_the_reader_acts_next_carry_signed_buttons(cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    row = notified(ticket, TicketEventType.WORK_FINISHED, cast.client)
    assert [title for _, title in row.buttons] == ["Close", "Not fixed"]
    taps = [buttons.read(payload) for payload, _ in row.buttons]
    assert taps == [buttons.Tap(Action.CLOSE, ticket.pk, cast.client.pk),
                    buttons.Tap(Action.REOPEN, ticket.pk, cast.client.pk)]
    assert [t for _, t in notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer)
            .buttons] == ["Start work"]
    assert notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.client).buttons == []
    assert [t for _, t in notified(ticket, TicketEventType.TICKET_CREATED, cast.admin).buttons] == [
        "Open", "Reject"]


def test_inside_the_window_buttons_go_as_an_interactive_message(cast, ticket_in, settings):
    settings.WHATSAPP_MESSAGE_MODE = "auto"
    cast.developer.profile.whatsapp_last_inbound_at = timezone.now()
    cast.developer.profile.save()
    ticket = ticket_in(TicketStatus.ASSIGNED, description="x" * 3000)
    row = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer)
    assert row.message_type == MessageType.INTERACTIVE and len(row.message) <= 1024
    client_row = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.client)
    assert client_row.message_type == MessageType.TEMPLATE and client_row.template_name == (
        "developer_assigned")


def test_outside_the_window_buttons_go_as_the_templates_quick_replies(cast, ticket_in, settings):
    settings.WHATSAPP_MESSAGE_MODE = "auto"
    ticket = ticket_in(TicketStatus.ASSIGNED)
    row = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer)
    assert (row.message_type, row.template_name) == (MessageType.TEMPLATE, "ticket_assigned_to_you")
    assert row.message.endswith("[Start work]")


def test_a_tap_takes_the_action_as_the_person_and_a_second_tap_says_already_done(
        client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    [(payload, _)] = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer).buttons
    send(client, tap(cast.developer, payload))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    started = ticket.events.get(event=TicketEventType.WORK_STARTED)
    assert (started.actor, started.source) == (cast.developer, Source.WHATSAPP)
    send(client, tap(cast.developer, payload))
    assert replies(cast.developer) == [
        f"Done: ticket #{ticket.pk} \"{ticket.title}\" is now In progress.",
        f"Already done: ticket #{ticket.pk} \"{ticket.title}\" is In progress."]
    assert ticket.events.filter(event=TicketEventType.WORK_STARTED).count() == 1


def test_a_templates_quick_reply_tap_closes_the_ticket(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    close, _ = notified(ticket, TicketEventType.WORK_FINISHED, cast.client).buttons
    send(client, tap(cast.client, close[0], template=True))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED


def test_not_fixed_reopens_the_ticket_for_its_developer(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    _, reopen = notified(ticket, TicketEventType.WORK_FINISHED, cast.client).buttons
    send(client, tap(cast.client, reopen[0]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert notified(ticket, TicketEventType.TICKET_REOPENED, cast.developer)


def test_a_tap_from_another_number_or_into_another_ticket_does_nothing(client, cast, ticket_in):
    ticket, other = ticket_in(TicketStatus.ASSIGNED), ticket_in(TicketStatus.ASSIGNED)
    [(payload, _)] = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer).buttons
    send(client, tap(cast.other_developer, payload))  # forwarded to a colleague
    action, ticket_id, user_id, signature = payload.split(":")
    forged = ":".join((action, str(other.pk), user_id, signature))  # moved to another ticket
    send(client, tap(cast.developer, forged), tap(cast.developer, "start:1:1:" + "0" * 24))
    ticket.refresh_from_db(), other.refresh_from_db()
    assert ticket.status == other.status == TicketStatus.ASSIGNED
    assert replies(cast.other_developer) == [
        "That button was sent to someone else, so it does nothing from this number."]
    assert replies(cast.developer) == ["That button is not one of ours any more, so nothing was "
                                       "done."] * 2


def test_a_tap_for_an_action_no_longer_allowed_says_why(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    open_button, _ = notified(ticket, TicketEventType.TICKET_CREATED, cast.admin).buttons
    # Meanwhile another admin rejects it.
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action=Action.REJECT,
                               reason="Duplicate")
    send(client, tap(cast.admin, open_button[0]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REJECTED
    assert replies(cast.admin) == [
        f"Nothing done on ticket #{ticket.pk}: Cannot open a ticket whose status is REJECTED."]


def test_reject_asks_for_the_reason_and_the_next_message_is_it(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    _, reject = notified(ticket, TicketEventType.TICKET_CREATED, cast.admin).buttons
    send(client, tap(cast.admin, reject[0]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and "Reply to this message with the reason" in (
        replies(cast.admin)[0])
    send(client, text(cast.admin, "Duplicate of #12."))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (TicketStatus.REJECTED, "Duplicate of #12.")
    assert replies(cast.admin)[1] == (
        f"Ticket #{ticket.pk} \"{ticket.title}\" rejected: Duplicate of #12.")
    assert comments(ticket) == []  # the reason is not also a comment
    assert "Duplicate of #12." in notified(ticket, TicketEventType.TICKET_REJECTED,
                                           cast.client).message


def test_a_reason_that_comes_too_late_is_a_comment_again(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    _, reject = notified(ticket, TicketEventType.TICKET_CREATED, cast.admin).buttons
    send(client, tap(cast.admin, reject[0]))
    Question.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    send(client, text(cast.admin, "Duplicate."))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and [c.note for c in comments(ticket)] == ["Duplicate."]
    assert not Question.objects.exists()


# --- Consent and proof ---------------------------------------------------------------------------


def test_stop_and_start_switch_whatsapp_notifications_off_and_on(client, cast, ticket_in):
    send(client, text(cast.client, "stop"))
    profile = cast.client.profile.__class__.objects.get(user=cast.client)
    assert profile.whatsapp_opted_out_at is not None
    ticket = ticket_in(TicketStatus.OPENED)
    skipped = notified(ticket, TicketEventType.TICKET_OPENED, cast.client)
    assert skipped.status == NotificationStatus.SKIPPED and "sent STOP" in skipped.error_message
    send(client, text(cast.client, "START"))
    profile.refresh_from_db()
    assert profile.whatsapp_opted_out_at is None and profile.whatsapp_opted_in_at is not None
    assert replies(cast.client) == [
        "You will get no more WhatsApp notifications from us. Send START to turn them back on.",
        "WhatsApp notifications are on again. Send STOP to turn them off."]
    ticket = ticket_in(TicketStatus.OPENED)
    assert notified(ticket, TicketEventType.TICKET_OPENED, cast.client).status == (
        NotificationStatus.QUEUED)


def test_nothing_is_resent_on_whatsapp_to_someone_who_sent_stop(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    row = notified(ticket, TicketEventType.TICKET_OPENED, cast.client)
    NotificationLog.objects.filter(pk=row.pk).update(status=NotificationStatus.FAILED)
    send(client, text(cast.client, "STOP"))
    assert not NotificationLog.objects.filter(notification_services.resendable(), pk=row.pk).exists()
    assert notification_services.resend([row]) == []
    send(client, text(cast.client, "START"))
    assert NotificationLog.objects.filter(notification_services.resendable(), pk=row.pk).exists()


def test_the_arabic_words_work_and_are_answered_in_arabic(client, cast):
    send(client, text(cast.client, "توقف"))
    assert cast.client.profile.__class__.objects.get(user=cast.client).whatsapp_opted_out_at
    send(client, text(cast.client, "ابدأ"))
    assert cast.client.profile.__class__.objects.get(user=cast.client).whatsapp_opted_out_at is None
    assert [r[:6] for r in replies(cast.client)] == ["لن تصل", "عادت إ"]


def test_sending_the_code_from_the_number_proves_it(client, api, cast):
    def me() -> dict:  # as each request would load the user: afresh
        return api(User.objects.get(pk=cast.client.pk)).get("/api/auth/me/").json()["whatsapp"]

    code = me()["code"]
    assert code and me()["code"] == code  # made when the number was set; reading changes nothing
    send(client, text(cast.client, "VERIFY 000000" if code != "000000" else "VERIFY 111111"))
    # A wrong guess keeps the code (a typo should not cost it) and says how many tries are left.
    assert me()["verified_at"] is None and me()["code"] == code
    assert "4 more wrong tries" in replies(cast.client)[0]
    send(client, text(cast.client, f"verify {code}"))
    me = me()
    assert me["verified_at"] and me["opted_in_at"] and me["code"] == "" and me["link"] is None
    assert replies(cast.client)[-1] == "Thank you: this number is now verified for client."


def test_the_admin_shows_whether_a_number_is_verified_and_when_it_opted_in(client, staff, cast):
    send(client, text(cast.client, "START"))
    page = staff.get(f"/admin/auth/user/{cast.client.pk}/change/").content.decode()
    assert "Number verified at" in page and "Opted in at" in page and "Sent STOP at" in page
    listing = staff.get("/admin/notifications/receivedmessage/").content.decode()
    assert "START" in listing and "WhatsApp notifications are on again" in listing


def test_the_reply_is_sent_once_the_change_commits(client, cast, ticket_in, sender,
                                                   django_capture_on_commit_callbacks):
    ticket = ticket_in(TicketStatus.OPENED)
    # Sent already: one person's messages go in order, so a QUEUED one would hold the reply back.
    NotificationLog.objects.update(status=NotificationStatus.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        send(client, text(cast.client, "Any news?"))
    [call] = sender.calls_to(cast.client.profile.whatsapp_number)
    assert call.body == f"Added your comment to ticket #{ticket.pk} \"{ticket.title}\"."
    [row] = NotificationLog.objects.filter(event=REPLY)
    assert (row.status, row.ticket) == (NotificationStatus.SENT, ticket)


def test_a_reply_with_no_ticket_shows_in_the_log_the_api_and_the_insights(client, api, staff, cast):
    send(client, text(cast.client, "STOP"))
    [row] = NotificationLog.objects.filter(event=REPLY)
    assert row.ticket is None
    page = staff.get("/admin/notifications/notificationlog/?event__exact=REPLY").content.decode()
    assert "Reply on WhatsApp" in page and "1 notification log" in page
    detail = staff.get(f"/admin/notifications/notificationlog/{row.pk}/change/").content.decode()
    assert "no more WhatsApp notifications" in detail
    response = api(cast.admin).get("/api/notifications/logs/?event=REPLY")
    logs = response.json()["results"]
    assert [(log["id"], log["ticket"]) for log in logs] == [(row.pk, None)]
    assert staff.get("/admin/notifications/notificationinsights/").status_code == 200


@pytest.mark.parametrize("item", [
    {"type": "text", "text": 5},
    {"type": "text", "text": {"body": ["not", "text"]}, "context": []},
    {"type": "interactive", "interactive": "button_reply"},
    {"type": "interactive", "interactive": {"button_reply": {"id": None}}},
    {"type": "button", "button": []},
    {"type": None},
])
def test_malformed_messages_are_answered_200_and_never_act(client, cast, ticket_in, item):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    send(client, {**message(cast.client), **item})  # send() asserts the 200
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED and comments(ticket) == []
    assert replies(cast.client) == [inbound.NOT_READ]
