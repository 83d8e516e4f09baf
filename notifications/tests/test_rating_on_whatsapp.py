"""Rating the fix on WhatsApp: the closing message's faces, and what the client adds after."""
import pytest

from notifications.models import NotificationStatus, Question
from notifications.tests.test_inbound import notified, replies, send, tap, text
from notifications.whatsapp import buttons
from tickets.models import Satisfaction, Source, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db


def survey(ticket, client):
    return notified(ticket, TicketEventType.TICKET_CLOSED, client)


def test_the_clients_closing_message_asks_how_we_did_with_three_signed_faces(cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    row = survey(ticket, cast.client)
    assert "How did we do?" in row.message
    assert [title for _, title in row.buttons] == ["😞", "😐", "😀"]
    assert [buttons.read(payload) for payload, _ in row.buttons] == [
        buttons.Tap(score, ticket.pk, cast.client.pk) for score in Satisfaction]
    # Staff are told it closed; only the client is asked.
    assert notified(ticket, TicketEventType.TICKET_CLOSED, cast.developer).buttons == []


def test_outside_the_window_the_survey_is_the_rating_template(cast, ticket_in, settings):
    settings.WHATSAPP_MESSAGE_MODE = "auto"
    row = survey(ticket_in(TicketStatus.CLOSED), cast.client)
    assert row.template_name == "ticket_closed_rating" and row.message.endswith("[😞] [😐] [😀]")


def test_a_rejected_ticket_asks_for_no_rating(cast, ticket_in):
    ticket = ticket_in(TicketStatus.REJECTED)
    row = notified(ticket, TicketEventType.TICKET_REJECTED, cast.client)
    assert row.buttons == [] and "How did we do" not in row.message


def test_a_face_rates_the_fix_and_the_next_message_is_kept_with_the_rating(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    _, _, happy = survey(ticket, cast.client).buttons
    send(client, tap(cast.client, happy[0], template=True))
    ticket.refresh_from_db()
    assert ticket.satisfaction == Satisfaction.HAPPY
    rated = ticket.events.get(event=TicketEventType.TICKET_RATED)
    assert (rated.actor, rated.source) == (cast.client, Source.WHATSAPP)
    send(client, text(cast.client, "Quick and polite, thanks."))
    ticket.refresh_from_db()
    assert ticket.satisfaction_comment == "Quick and polite, thanks."
    assert not ticket.events.filter(event=TicketEventType.COMMENT_ADDED).exists()
    assert not Question.objects.exists()
    assert replies(cast.client) == [
        f"Thank you: you rated the fix of ticket #{ticket.pk} \"{ticket.title}\" 😀. Reply to "
        "this message within an hour if you want to tell us more; it is kept with your rating.",
        f"Thank you: kept with your rating of ticket #{ticket.pk} \"{ticket.title}\"."]


def test_a_second_face_replaces_the_first(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    unhappy, neutral, _ = survey(ticket, cast.client).buttons
    send(client, tap(cast.client, unhappy[0]))
    send(client, tap(cast.client, neutral[0]))
    ticket.refresh_from_db()
    assert ticket.satisfaction == Satisfaction.NEUTRAL


def test_a_survey_forwarded_to_someone_else_rates_nothing(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    _, _, happy = survey(ticket, cast.client).buttons
    send(client, tap(cast.developer, happy[0]))
    ticket.refresh_from_db()
    assert ticket.satisfaction is None
    assert replies(cast.developer) == [
        "That button was sent to someone else, so it does nothing from this number."]


def test_a_face_on_a_ticket_that_is_not_closed_rates_nothing(client, cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    forged_but_signed = buttons.payload(Satisfaction.HAPPY, ticket.pk, cast.client.pk)
    send(client, tap(cast.client, forged_but_signed))
    ticket.refresh_from_db()
    assert ticket.satisfaction is None
    assert replies(cast.client) == [
        "Not rated: Only a closed ticket's fix can be rated; this one is FINISHED."]


def test_a_client_who_sent_stop_gets_no_survey(client, cast, ticket_in):
    send(client, text(cast.client, "STOP"))
    row = survey(ticket_in(TicketStatus.CLOSED), cast.client)
    assert row.status == NotificationStatus.SKIPPED and "sent STOP" in row.error_message
