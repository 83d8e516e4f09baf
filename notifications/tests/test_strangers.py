"""Numbers no active user has: nothing they write is kept or acted on, and they are told how to
be registered at most once a day."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from notifications.models import REPLY, NotificationLog, ReceivedMessage
from notifications.tests.test_inbound import send, text
from notifications.whatsapp import strangers
from notifications.whatsapp.models import UnknownNumber
from tickets.models import TicketEvent, TicketStatus

pytestmark = pytest.mark.django_db
STRANGER = "19998887777"


def from_number(cast, number: str, body: str = "Hi") -> dict:
    item = text(cast.client, body)
    item["from"] = number
    return item


def told(number: str = STRANGER) -> list[NotificationLog]:
    return list(NotificationLog.objects.filter(event=REPLY, to=f"+{number}"))


def test_an_unknown_number_is_told_once_how_to_be_registered_and_nothing_is_kept(
        client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    comments_before = TicketEvent.objects.count()
    send(client, from_number(cast, STRANGER, "My printer is broken"))
    [answer] = told()
    assert answer.recipient is None and answer.message == strangers.TOLD
    assert "not registered" in answer.message and "PATCH /api/auth/me/" in answer.message
    assert ReceivedMessage.objects.count() == 0 and TicketEvent.objects.count() == comments_before
    assert not ticket.events.filter(note="My printer is broken").exists()
    # More the same day, in one webhook or the next: counted, not answered again.
    send(client, from_number(cast, STRANGER, "Hello?"), from_number(cast, STRANGER, "Anyone?"))
    assert len(told()) == 1
    seen = UnknownNumber.objects.get()
    assert (seen.number, seen.messages) == (STRANGER, 3)


def test_a_day_later_it_is_told_again(client, cast):
    send(client, from_number(cast, STRANGER))
    UnknownNumber.objects.update(told_at=UnknownNumber.objects.get().told_at - timedelta(days=1))
    send(client, from_number(cast, STRANGER))
    assert len(told()) == 2


def test_the_answer_to_a_stranger_is_sent_and_logged_like_any_reply(
        client, cast, sender, django_capture_on_commit_callbacks):
    from notifications.tests.test_media import receive

    receive(from_number(cast, STRANGER), capture=django_capture_on_commit_callbacks)
    [answer] = told()
    assert answer.status == "SENT" and str(answer).startswith("WhatsApp Reply on WhatsApp → +1999")
    [call] = sender.calls_to(f"+{STRANGER}")
    assert call.body == strangers.TOLD


def test_a_deactivated_users_number_is_told_and_a_shared_one_is_not(client, cast):
    User = get_user_model()
    User.objects.filter(pk=cast.other_client.pk).update(is_active=False)
    gone = cast.other_client.profile.whatsapp_number.lstrip("+")
    send(client, from_number(cast, gone))
    assert len(told(gone)) == 1
    # Two active users holding the same id equally: the message is nobody's, and nobody is told
    # they are unregistered.
    cast.admin.profile.__class__.objects.filter(user__in=[cast.developer, cast.admin]).update(
        whatsapp_wa_id="15550001111")
    send(client, from_number(cast, "15550001111"))
    assert told("15550001111") == []
