"""Two-way WhatsApp you can trust, through signed webhooks and the API: internal stays internal, a
reply lands where it was meant, and a number belongs to whoever proved it."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import NumberOrigin, UserProfile
from accounts.tests.test_admin import _change_form
from notifications.whatsapp import channel, inbound
from notifications import services as notification_services
from notifications.sending import SendResult
from notifications.messages import INTERNAL_NOTE
from notifications.models import Channel, NotificationLog, NotificationStatus, Question, ReceivedMessage
from notifications.tests.conftest import send_event
from notifications.tests.test_inbound import (comments, delivered_as, notified, replies, send, tap,
                                              text)
from tickets import services
from tickets.models import Source, TicketEventType, TicketStatus
from tickets.transitions import Action

pytestmark = pytest.mark.django_db
User = get_user_model()
_wamids = iter(range(1, 10_000))


def profile_of(user) -> UserProfile:
    return UserProfile.objects.get(user=user)


def note(ticket, author, body: str):
    return services.comment_add(ticket_id=ticket.pk, author=author, body=body, internal=True)


def last_reply(user) -> str:
    """The wamid of our latest answer to `user`, given as Meta's answer would (to quote it)."""
    wamid = f"wamid.REPLY{next(_wamids)}"
    delivered_as(NotificationLog.objects.filter(recipient=user, event="REPLY").latest("pk"), wamid)
    return wamid


# --- Internal stays internal ----------------------------------------------------------------------


def test_an_internal_note_says_so_first_and_reaches_staff_only_on_every_channel(
        cast, ticket_in, settings):
    settings.NOTIFICATION_CHANNELS = ["whatsapp", "email"]
    ticket = ticket_in(TicketStatus.ASSIGNED)
    note(ticket, cast.admin, "Client is on the old plan.")
    rows = NotificationLog.objects.filter(ticket=ticket, event=INTERNAL_NOTE)
    assert {row.recipient for row in rows} == {cast.developer}  # the admin wrote it
    assert {row.channel for row in rows} == {Channel.WHATSAPP, Channel.EMAIL}
    whatsapp = rows.get(channel=Channel.WHATSAPP)
    assert whatsapp.message.splitlines()[0] == "🔐 *Internal Note: Staff Only*"
    assert "client does not see this note" in whatsapp.message
    assert rows.get(channel=Channel.EMAIL).message.splitlines()[0] == "🔐 Internal Note: Staff Only"
    assert not NotificationLog.objects.filter(recipient=cast.client, message__contains="old plan")


def test_outside_the_window_an_internal_note_goes_as_its_own_template(cast, ticket_in, settings):
    settings.WHATSAPP_MESSAGE_MODE = "template"
    ticket = ticket_in(TicketStatus.ASSIGNED)
    note(ticket, cast.admin, "Client is on the old plan.")
    row = notified(ticket, INTERNAL_NOTE, cast.developer)
    assert row.template_name == "internal_note"
    assert row.message.startswith(
        f"[template internal_note (en_US)] 🔐 Internal note, staff only: ticket #{ticket.pk}")


def test_a_reply_to_an_internal_note_is_an_internal_note_and_the_client_never_gets_it(
        client, api, cast, ticket_in, settings):
    settings.NOTIFICATION_CHANNELS = ["whatsapp", "email"]
    ticket = ticket_in(TicketStatus.ASSIGNED)
    note(ticket, cast.admin, "Client is on the old plan.")
    delivered_as(notified(ticket, INTERNAL_NOTE, cast.developer), "wamid.NOTE1")
    send(client, text(cast.developer, "Then the fix needs the new plan.", quoting="wamid.NOTE1"))

    reply = ticket.events.get(note="Then the fix needs the new plan.")
    assert (reply.internal, reply.actor, reply.source) == (True, cast.developer, Source.WHATSAPP)
    assert replies(cast.developer) == [
        f"Saved as an internal note on ticket #{ticket.pk} \"{ticket.title}\": staff only, the "
        "client does not see it."]
    # The admin hears of it as an internal note; the client hears nothing, by any channel.
    assert notified(ticket, INTERNAL_NOTE, cast.admin).ticket_event == reply
    assert not NotificationLog.objects.filter(recipient=cast.client, message__contains="new plan")
    assert api(cast.client).get(f"/api/tickets/{ticket.pk}/comments/").json() == []
    assert "new plan" not in str(api(cast.client).get(f"/api/tickets/{ticket.pk}/").json())

    # Answering our confirmation goes on in the same place: still internal.
    send(client, text(cast.developer, "Ordered it.", quoting=last_reply(cast.developer)))
    assert ticket.events.get(note="Ordered it.").internal is True


def test_a_client_cannot_write_an_internal_note_by_whatsapp(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    note(ticket, cast.admin, "Client is on the old plan.")
    delivered_as(notified(ticket, INTERNAL_NOTE, cast.developer), "wamid.NOTE2")
    # A client can only quote it by forging the quote (they are never sent one).
    send(client, text(cast.client, "I saw that!", quoting="wamid.NOTE2"))
    assert [c.note for c in comments(ticket)] == ["Client is on the old plan."]
    assert replies(cast.client) == [
        f"Not added to ticket #{ticket.pk}: you replied to an internal note, and only the "
        "ticket's staff may write one."]


def test_the_tickets_developer_may_write_internal_notes_through_the_api(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    response = api(cast.developer).post(f"/api/tickets/{ticket.pk}/comments/",
                                        {"body": "Root cause: the cache.", "internal": True})
    assert response.status_code == 201 and response.json()["internal"] is True
    refused = api(cast.client).post(f"/api/tickets/{ticket.pk}/comments/",
                                    {"body": "Mine too", "internal": True})
    assert refused.status_code == 403 and "admin or the ticket's developer" in (
        refused.json()["detail"])


# --- A reply lands where it was meant -----------------------------------------------------------


def reject_tapped(client, cast, ticket) -> Question:
    _, reject = notified(ticket, TicketEventType.TICKET_CREATED, cast.admin).buttons
    send(client, tap(cast.admin, reject[0]))
    question = Question.objects.get(user=cast.admin)
    delivered_as(question.asked, f"wamid.ASK{next(_wamids)}")
    return Question.objects.select_related("asked").get(pk=question.pk)  # with the wamid


def test_a_reply_quoting_another_ticket_is_never_taken_as_the_reason(client, cast, ticket_in):
    a = ticket_in(TicketStatus.NEW, title="Spam")
    b = ticket_in(TicketStatus.NEW, title="Printer on fire")
    question = reject_tapped(client, cast, a)
    assert (question.ticket, question.action) == (a, Action.REJECT.value)
    delivered_as(notified(b, TicketEventType.TICKET_CREATED, cast.admin), "wamid.B")

    send(client, text(cast.admin, "Looking into B now, will call the client.", quoting="wamid.B"))
    a.refresh_from_db()
    assert a.status == TicketStatus.NEW and a.rejection_reason == ""
    assert [c.note for c in comments(b)] == ["Looking into B now, will call the client."]
    assert Question.objects.filter(pk=question.pk).exists()  # still waiting for its answer

    send(client, text(cast.admin, "Spam from a bot.", quoting=question.asked.provider_message_id))
    a.refresh_from_db()
    assert (a.status, a.rejection_reason) == (TicketStatus.REJECTED, "Spam from a bot.")
    assert replies(cast.admin)[-1] == f"Ticket #{a.pk} \"Spam\" rejected: Spam from a bot."
    assert not Question.objects.exists()


def test_a_reason_for_a_ticket_that_moved_on_is_kept_as_an_internal_note(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    reject_tapped(client, cast, ticket)
    # Meanwhile another admin opens it and assigns it.
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action=Action.OPEN)
    services.ticket_transition(ticket_id=ticket.pk, actor=cast.admin, action=Action.ASSIGN,
                               developer_id=cast.developer.pk)
    send(client, text(cast.admin, "Duplicate of #12."))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED
    kept = ticket.events.get(note="Duplicate of #12.")
    assert (kept.internal, kept.actor) == (True, cast.admin)
    assert replies(cast.admin)[-1] == (
        f"Ticket #{ticket.pk} \"{ticket.title}\" was not rejected (Cannot reject a ticket whose "
        "status is ASSIGNED). Your text was saved as an internal note on it.")
    assert not NotificationLog.objects.filter(recipient=cast.client, message__contains="#12")


def test_an_answer_quoting_an_expired_question_is_kept_as_an_internal_note(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    question = reject_tapped(client, cast, ticket)
    Question.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    send(client, text(cast.admin, "Spam.", quoting=question.asked.provider_message_id))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    assert ticket.events.get(note="Spam.").internal is True
    assert "the question expired after 60 minutes; tap Reject again" in replies(cast.admin)[-1]


# --- A number belongs to whoever proved it ------------------------------------------------------


def test_a_new_number_forgets_everything_learnt_from_the_old_one(api, cast):
    now = timezone.now()
    UserProfile.objects.filter(user=cast.client).update(
        whatsapp_wa_id="201099", whatsapp_user_id="EG.1", whatsapp_verified_at=now,
        whatsapp_opted_in_at=now, whatsapp_opted_out_at=now, whatsapp_last_inbound_at=now,
        whatsapp_notice="changed", whatsapp_code="")
    response = api(User.objects.get(pk=cast.client.pk)).patch(
        "/api/auth/me/", {"whatsapp_number": "+201234567891"})
    assert response.status_code == 200
    profile = profile_of(cast.client)
    assert (profile.whatsapp_wa_id, profile.whatsapp_user_id, profile.whatsapp_notice) == ("", "", "")
    assert profile.whatsapp_verified_at is profile.whatsapp_opted_in_at is None
    assert profile.whatsapp_opted_out_at is profile.whatsapp_last_inbound_at is None
    assert len(profile.whatsapp_code) == 6
    assert (profile.whatsapp_number_origin, profile.whatsapp_number_set_by) == (
        NumberOrigin.SELF, cast.client)
    assert response.json()["whatsapp"]["proof_required"] is True


def test_a_stale_wa_id_never_takes_the_next_holders_messages(client, cast, ticket_in, sender,
                                                              staff):
    """Mexico: +52 1 55… is dialled, WhatsApp answers and writes as 52 55… (no 1)."""
    old, wa_id = "+5215512345678", "525512345678"
    UserProfile.objects.filter(user=cast.developer).update(whatsapp_number=old)
    sender.results[old] = SendResult(status=NotificationStatus.SENT, message_id="wamid.MX1",
                                     http_status=200, wa_id=wa_id)
    ticket = ticket_in(TicketStatus.ASSIGNED)
    send_event(ticket.events.get(event=TicketEventType.DEVELOPER_ASSIGNED).pk)
    assert profile_of(cast.developer).whatsapp_wa_id == wa_id  # learnt from Meta's answer

    # The developer gets a new number; the old one goes to another client, set by staff.
    response = staff.post(f"/admin/auth/user/{cast.developer.pk}/change/",
                          _change_form(cast.developer, "+201555000111", "DEVELOPER"))
    assert response.status_code == 302
    assert profile_of(cast.developer).whatsapp_wa_id == ""
    UserProfile.objects.filter(user=cast.other_client).update(whatsapp_number=old)

    item = text(cast.other_client, "STOP")
    item["from"] = wa_id
    send(client, item)
    # Not the developer's any more: nobody's until the new holder is known by that id.
    assert profile_of(cast.developer).whatsapp_opted_out_at is None
    assert not ReceivedMessage.objects.exists()

    sender.results[old] = SendResult(status=NotificationStatus.SENT, message_id="wamid.MX2",
                                     http_status=200, wa_id=wa_id)
    theirs = ticket_in(TicketStatus.OPENED, client=cast.other_client)
    send_event(theirs.events.get(event=TicketEventType.TICKET_OPENED).pk)
    item = text(cast.other_client, "STOP")
    item["from"] = wa_id
    send(client, item)
    assert profile_of(cast.other_client).whatsapp_opted_out_at is not None
    assert profile_of(cast.developer).whatsapp_opted_out_at is None
    assert ReceivedMessage.objects.get().user == cast.other_client


def test_whoever_holds_the_number_now_wins_over_a_learnt_wa_id(client, cast, ticket_in):
    """Argentina: an id learnt before these rules (or by any other way) against the number's
    holder: the holder wins, and the id is forgotten once the holder is known by it."""
    holder_number = "+5491155551234"
    UserProfile.objects.filter(user=cast.client).update(whatsapp_wa_id="5491155551234")
    UserProfile.objects.filter(user=cast.other_client).update(whatsapp_number=holder_number)
    ticket = ticket_in(TicketStatus.OPENED, client=cast.other_client)
    item = text(cast.other_client, "Any news?")
    item["from"] = holder_number.lstrip("+")
    send(client, item)
    assert [c.actor for c in comments(ticket)] == [cast.other_client]
    assert ReceivedMessage.objects.get().user == cast.other_client
    assert replies(cast.client) == []


def test_an_answer_about_an_old_number_teaches_the_new_one_nothing(cast, ticket_in, sender):
    ticket = ticket_in(TicketStatus.OPENED)
    row = notified(ticket, TicketEventType.TICKET_OPENED, cast.client)
    sender.results[row.to] = SendResult(status=NotificationStatus.SENT, message_id="wamid.OLD",
                                        http_status=200, wa_id="999")
    profile = profile_of(cast.client)
    profile.whatsapp_number = "+201000999888"
    profile.save()
    send_event(row.ticket_event_id)
    assert NotificationLog.objects.get(pk=row.pk).status == NotificationStatus.SENT
    assert profile_of(cast.client).whatsapp_wa_id == ""


@pytest.fixture
def self_set(api, cast):
    """The client's number, set by the client through the API: theirs to prove."""
    response = api(User.objects.get(pk=cast.client.pk)).patch(
        "/api/auth/me/", {"whatsapp_number": "+201234567891"})
    assert response.json()["whatsapp"]["proof_required"] is True
    cast.client.profile = profile_of(cast.client)
    return response.json()["whatsapp"]["code"]


def test_a_number_set_through_the_api_gets_nothing_and_does_nothing_until_proved(
        client, cast, ticket_in, self_set):
    ticket = ticket_in(TicketStatus.FINISHED)
    row = notified(ticket, TicketEventType.WORK_FINISHED, cast.client)
    assert row.status == NotificationStatus.SKIPPED
    assert "number not proved: send the code from that phone" in row.error_message
    assert notification_services.resend([row]) == []  # no resend either

    send(client, text(cast.client, "Works now, thanks."), tap(cast.client, row.buttons[0][0]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.FINISHED and comments(ticket) == []
    assert replies(cast.client) == [inbound.NOT_PROVED] * 2

    send(client, text(cast.client, f"VERIFY {self_set}"))
    assert profile_of(cast.client).whatsapp_verified_at is not None
    send(client, text(cast.client, "Works now, thanks."))
    assert [c.note for c in comments(ticket)] == ["Works now, thanks."]
    later = ticket_in(TicketStatus.OPENED)
    assert notified(later, TicketEventType.TICKET_OPENED, cast.client).status == (
        NotificationStatus.QUEUED)


def test_staff_set_numbers_are_trusted_and_the_admin_records_who(staff, cast, ticket_in):
    response = staff.post(f"/admin/auth/user/{cast.client.pk}/change/",
                          _change_form(cast.client, "+201234567892"))
    assert response.status_code == 302
    profile = profile_of(cast.client)
    assert (profile.whatsapp_number_origin, profile.whatsapp_number_set_by) == (
        NumberOrigin.STAFF, cast.admin)
    assert profile.whatsapp_verified_at is None and profile.whatsapp_number_set_at is not None
    row = notified(ticket_in(TicketStatus.OPENED), TicketEventType.TICKET_OPENED, cast.client)
    assert (row.status, row.to) == (NotificationStatus.QUEUED, "+201234567892")
    page = staff.get(f"/admin/auth/user/{cast.client.pk}/change/").content.decode()
    assert "Number set by" in page and "Staff (Django admin or a command)" in page


@pytest.mark.parametrize("mode, staff_number_waits, own_number_waits", [
    ("self", False, True), ("all", True, True), ("none", False, False)])
def test_require_proof_says_which_numbers_must_be_proved(
        cast, ticket_in, self_set, settings, mode, staff_number_waits, own_number_waits):
    settings.WHATSAPP_REQUIRE_PROOF = mode
    ticket = ticket_in(TicketStatus.ASSIGNED)
    own = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.client)
    staffs = notified(ticket, TicketEventType.DEVELOPER_ASSIGNED, cast.developer)
    assert (own.status == NotificationStatus.SKIPPED) is own_number_waits
    assert (staffs.status == NotificationStatus.SKIPPED) is staff_number_waits


def test_the_code_is_made_once_and_reading_it_writes_nothing(api, cast, self_set,
                                                             django_assert_num_queries):
    user = User.objects.get(pk=cast.client.pk)
    codes = set()
    for _ in range(2):
        with django_assert_num_queries(1):  # the profile; no write
            codes.add(api(user).get("/api/auth/me/").json()["whatsapp"]["code"])
        user = User.objects.get(pk=cast.client.pk)
    assert codes == {self_set}


def test_five_wrong_codes_lock_it_for_fifteen_minutes(client, cast, self_set):
    wrong = "000000" if self_set != "000000" else "111111"
    for _ in range(5):
        send(client, text(cast.client, f"VERIFY {wrong}"))
    answers = replies(cast.client)
    assert [a.split(";")[1][:20] for a in answers[:4]] == [
        " 4 more wrong tries ", " 3 more wrong tries ", " 2 more wrong tries ",
        " 1 more wrong tries "]
    assert answers[4].startswith("Too many wrong codes")
    send(client, text(cast.client, f"VERIFY {self_set}"))  # right, but locked
    profile = profile_of(cast.client)
    assert profile.whatsapp_verified_at is None and profile.whatsapp_code == self_set
    assert 14 * 60 < (profile.whatsapp_code_locked_until - timezone.now()).total_seconds() <= 15 * 60
    assert replies(cast.client)[-1].startswith("Too many wrong codes")

    UserProfile.objects.filter(pk=profile.pk).update(
        whatsapp_code_locked_until=timezone.now() - timedelta(seconds=1))
    send(client, text(cast.client, f"VERIFY {self_set}"))
    assert profile_of(cast.client).whatsapp_verified_at is not None


def test_stop_and_start_still_work_from_a_number_not_proved(client, cast, self_set):
    send(client, text(cast.client, "STOP"))
    assert profile_of(cast.client).whatsapp_opted_out_at is not None


def test_the_reply_log_row_of_a_skipped_unproved_number_tells_what_to_do(cast, ticket_in, self_set):
    row = notified(ticket_in(TicketStatus.OPENED), TicketEventType.TICKET_OPENED, cast.client)
    assert row.error_message == channel.NOT_PROVED


def test_an_id_learnt_for_one_person_is_forgotten_by_any_other(cast, ticket_in, sender):
    UserProfile.objects.filter(user=cast.developer).update(whatsapp_wa_id="201000999")
    ticket = ticket_in(TicketStatus.OPENED)
    row = notified(ticket, TicketEventType.TICKET_OPENED, cast.client)
    sender.results[row.to] = SendResult(status=NotificationStatus.SENT, message_id="wamid.ID",
                                        http_status=200, wa_id="201000999")
    send_event(row.ticket_event_id)
    assert profile_of(cast.client).whatsapp_wa_id == "201000999"
    assert profile_of(cast.developer).whatsapp_wa_id == ""
