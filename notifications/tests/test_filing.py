"""Filing a ticket by chat, end to end through signed webhooks and the fake Graph; and the words
NEW, STATUS and HELP."""
import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from notifications.models import REPLY, MessageType, NotificationLog, ReceivedMessage
from notifications.tests.test_inbound import message, notified, send, tap, text
from notifications.tests.test_media import JPEG, photo, receive
from notifications.tests.test_webhooks import envelope, post
from notifications.whatsapp import filing
from notifications.whatsapp.models import Conversation, MediaDownload, MediaState, Step
from notifications.whatsapp.types import Media
from tickets.models import (Attachment, Category, Priority, Source, Ticket, TicketEventType,
                            TicketStatus)

pytestmark = pytest.mark.django_db


def picked(user, payload: str, title: str = "") -> dict:
    """A row chosen from a list message."""
    return message(user, "interactive", interactive={
        "type": "list_reply", "list_reply": {"id": payload, "title": title}})


def last(user) -> NotificationLog:
    return NotificationLog.objects.filter(recipient=user, event=REPLY).latest("pk")


def choice(user, title: str) -> str:
    """The payload of the choice titled `title` in the last answer."""
    return next(payload for payload, shown in last(user).buttons if shown == title)


def conversation(user) -> Conversation:
    return Conversation.objects.filter(user=user).latest("pk")


def test_a_client_files_a_ticket_by_chat_with_a_screenshot(client, cast, ticket_in, sender,
                                                           django_capture_on_commit_callbacks):
    earlier = ticket_in(TicketStatus.NEW, project_name="Billing")
    send(client, text(cast.client, "new"))
    asked = last(cast.client)
    assert "Which project is it about? Choose one, or type its name." in asked.message
    assert [title for _, title in asked.buttons] == ["Billing"]
    send(client, tap(cast.client, choice(cast.client, "Billing")))
    assert conversation(cast.client).project_name == "Billing"
    assert "what is wrong" in last(cast.client).message
    send(client, text(cast.client, "Invoice PDF is blank"))
    assert "describe it" in last(cast.client).message
    sender.media["SHOT"] = Media(JPEG, "image/jpeg")
    receive(photo(cast.client, media_id="SHOT", caption="The blank page"),
            capture=django_capture_on_commit_callbacks)
    assert last(cast.client).message == "Got your photo: it will be attached once the ticket is filed."
    assert not MediaDownload.objects.exists()  # nothing to attach it to yet
    with django_capture_on_commit_callbacks(execute=True):
        send(client, text(cast.client, "Since this morning every invoice downloads empty."))
    priorities = last(cast.client)
    assert priorities.message == "How urgent is it?" and priorities.message_type == (
        MessageType.INTERACTIVE)
    assert [title for _, title in priorities.buttons] == [p.label for p in Priority]
    # Four choices: WhatsApp shows them as a list message (at most three reply buttons).
    [*_, call] = sender.calls_to(cast.client.profile.whatsapp_number)
    assert [title for _, title in call.buttons] == [p.label for p in Priority]
    send(client, picked(cast.client, choice(cast.client, "High"), "High"))
    send(client, text(cast.client, "bug"))  # typed instead of tapped
    summary = last(cast.client)
    assert "*Project:* Billing" in summary.message and "*Priority:* High" in summary.message
    assert "*Category:* Bug" in summary.message and "*Files:* 1" in summary.message
    assert [title for _, title in summary.buttons] == ["File it", "Cancel"]
    receive(tap(cast.client, choice(cast.client, "File it")),
            capture=django_capture_on_commit_callbacks)
    ticket = Ticket.objects.exclude(pk=earlier.pk).get()
    assert (ticket.client, ticket.title, ticket.project_name, ticket.priority, ticket.category,
            ticket.status) == (cast.client, "Invoice PDF is blank", "Billing", Priority.HIGH,
                               Category.BUG, TicketStatus.NEW)
    assert ticket.description == "Since this morning every invoice downloads empty."
    created = ticket.events.get(event=TicketEventType.TICKET_CREATED)
    assert (created.actor, created.source) == (cast.client, Source.WHATSAPP)
    assert notified(ticket, TicketEventType.TICKET_CREATED, cast.admin)  # as through the API
    *_, filed, added = NotificationLog.objects.filter(recipient=cast.client, event=REPLY).order_by(
        "pk").values_list("message", flat=True)
    assert filed.startswith(f"Filed: ticket #{ticket.pk} \"Invoice PDF is blank\".")
    assert added == f"Added your photo to ticket #{ticket.pk} \"Invoice PDF is blank\"."
    done = conversation(cast.client)
    assert (done.step, done.ticket) == (Step.FILED, ticket)
    fetched = MediaDownload.objects.get()
    assert (fetched.ticket, fetched.state) == (ticket, MediaState.STORED)
    [stored] = Attachment.objects.filter(ticket=ticket)
    assert stored.file.read() == JPEG and stored.comment.note == "The blank page"


def test_without_earlier_tickets_the_project_is_typed_and_checked_as_the_api_does(client, cast):
    send(client, text(cast.client, "NEW"))
    assert last(cast.client).buttons == [] and "Type its name." in last(cast.client).message
    send(client, text(cast.client, "Web Portal"))
    send(client, text(cast.client, "x" * 201))
    assert "200" in last(cast.client).message and "what is wrong" in last(cast.client).message
    assert conversation(cast.client).step == Step.TITLE


def test_bad_choices_are_refused_and_the_question_asked_again(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"),
         text(cast.client, "Login fails"), text(cast.client, "Since the update."))
    send(client, text(cast.client, "urgent"))
    again = last(cast.client)
    assert again.message.startswith('"urgent" is not one of Low, Medium, High, Critical.')
    assert conversation(cast.client).step == Step.PRIORITY
    high = choice(cast.client, "High")
    send(client, tap(cast.client, high))
    send(client, tap(cast.client, high))  # tapped twice: the second answers an earlier question
    assert last(cast.client).message.startswith("That answers an earlier question. What kind")
    assert conversation(cast.client).step == Step.CATEGORY
    # Another person's tap on this conversation does nothing.
    send(client, tap(cast.other_client, choice(cast.client, "Bug")))
    assert last(cast.other_client).message.startswith("That ticket is no longer being filed")
    assert conversation(cast.client).category == ""


def test_cancel_files_nothing_and_the_next_message_is_a_message_again(client, cast, ticket_in):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"),
         text(cast.client, "cancel"))
    assert last(cast.client).message == "Cancelled: nothing was filed. Send NEW to start again."
    assert conversation(cast.client).step == Step.CANCELLED and not Ticket.objects.exists()
    ticket = ticket_in(TicketStatus.OPENED)
    send(client, text(cast.client, "Any news?"))
    assert ticket.events.filter(event=TicketEventType.COMMENT_ADDED, note="Any news?").exists()


def test_an_idle_conversation_expires_with_a_message_saying_so(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"))
    Conversation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert filing.expire(timezone.now()) == 1
    assert filing.expire(timezone.now()) == 0  # once
    assert conversation(cast.client).step == Step.EXPIRED
    assert last(cast.client).message == filing.EXPIRED
    send(client, text(cast.client, "My title"))  # now an ordinary message: no open ticket
    assert "no open ticket" in last(cast.client).message


def test_a_message_after_the_idle_time_but_before_the_pass_is_told_it_expired(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"))
    Conversation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    send(client, text(cast.client, "My title"))
    assert last(cast.client).message == filing.EXPIRED
    assert conversation(cast.client).step == Step.EXPIRED and not Ticket.objects.exists()


def test_the_recovery_pass_ends_idle_conversations(client, cast):
    from notifications import channels
    from notifications.models import Channel

    send(client, text(cast.client, "new"))
    Conversation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    channels.get(Channel.WHATSAPP).tidy(timezone.now())
    assert conversation(cast.client).step == Step.EXPIRED


def test_a_restart_mid_conversation_loses_nothing(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"),
         text(cast.client, "Login fails"))
    # A restart: another server process (a new client), every cache emptied; only the database
    # carries on.
    for cache in caches.all():
        cache.clear()
    client = Client()
    send(client, text(cast.client, "Since the update."))
    send(client, tap(cast.client, choice(cast.client, "Low")))
    send(client, tap(cast.client, choice(cast.client, "Support")))
    send(client, text(cast.client, "file it"))
    ticket = Ticket.objects.get()
    assert (ticket.title, ticket.priority, ticket.category) == ("Login fails", Priority.LOW,
                                                                 Category.SUPPORT)


def test_the_same_message_delivered_twice_answers_once(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"))
    title = text(cast.client, "Login fails")
    for _ in range(2):
        response = post(client, json.dumps(envelope(messages=[title])).encode())
        assert response.status_code == 200
    assert conversation(cast.client).step == Step.DESCRIPTION
    assert NotificationLog.objects.filter(recipient=cast.client, event=REPLY).count() == 3
    assert ReceivedMessage.objects.filter(wamid=title["id"]).count() == 1


def test_file_it_tapped_twice_files_one_ticket(client, cast):
    send(client, text(cast.client, "new"), text(cast.client, "Web Portal"),
         text(cast.client, "Login fails"), text(cast.client, "Since the update."),
         text(cast.client, "medium"), text(cast.client, "other"))
    file_it = choice(cast.client, "File it")
    send(client, tap(cast.client, file_it))
    send(client, tap(cast.client, file_it))
    ticket = Ticket.objects.get()
    assert last(cast.client).message == f"Already filed as ticket #{ticket.pk}."


def test_staff_cannot_file_by_chat_but_see_status_and_help(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    send(client, text(cast.developer, "new"))
    assert last(cast.developer).message.startswith("Tickets cannot be filed from this account")
    assert not Conversation.objects.exists()
    send(client, text(cast.developer, "status"))
    assert last(cast.developer).message == (
        f"Your open tickets:\n#{ticket.pk} {ticket.title}: In progress")
    send(client, text(cast.developer, "help"))
    told = last(cast.developer)
    assert "STATUS: your open tickets" in told.message and "NEW" not in told.message
    assert told.buttons == []


def test_status_lists_the_clients_open_tickets_and_help_offers_to_file(client, cast, ticket_in):
    send(client, text(cast.client, "STATUS"))
    assert last(cast.client).message == "You have no open tickets. Send NEW to file one."
    opened, _ = ticket_in(TicketStatus.OPENED), ticket_in(TicketStatus.CLOSED)
    ticket_in(TicketStatus.NEW, client=cast.other_client)
    send(client, text(cast.client, "status"))
    assert last(cast.client).message == f"Your open tickets:\n#{opened.pk} {opened.title}: Opened"
    send(client, text(cast.client, "help"))
    assert "NEW: file a ticket" in last(cast.client).message
    assert [title for _, title in last(cast.client).buttons] == ["File a ticket"]
    send(client, tap(cast.client, choice(cast.client, "File a ticket")))
    assert conversation(cast.client).step == Step.PROJECT


def test_with_no_open_ticket_a_message_offers_to_file_one(client, cast):
    send(client, text(cast.client, "The printer is on fire"))
    answer = last(cast.client)
    assert "Send NEW to file a ticket here" in answer.message
    assert [title for _, title in answer.buttons] == ["File a ticket"]
