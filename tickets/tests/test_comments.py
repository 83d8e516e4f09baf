"""Comments on tickets: the API, internal notes, the history, who is told, the admin, and reopen."""
import pytest

from notifications.models import Channel, NotificationLog
from tickets import services
from tickets.models import Source, TicketEvent, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db


def told(event: TicketEvent) -> dict[str, str]:
    """Who the event's WhatsApp notifications go to, with the text each reads."""
    return {row.recipient.username: row.message for row in NotificationLog.objects.filter(
        ticket_event=event, channel=Channel.WHATSAPP).select_related("recipient")}


def test_a_comment_is_added_to_the_history_and_listed(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = api(cast.client).post(f"/api/tickets/{ticket.pk}/comments/",
                                     {"body": "Still broken on Firefox."}, format="json")
    assert response.status_code == 201, response.content
    comment = response.json()
    assert comment["body"] == "Still broken on Firefox." and comment["internal"] is False
    assert comment["source"] == "API" and comment["author"]["username"] == "client"
    event = TicketEvent.objects.get(pk=comment["id"])
    assert (event.event, event.from_status, event.to_status) == (
        TicketEventType.COMMENT_ADDED, TicketStatus.ASSIGNED, TicketStatus.ASSIGNED)
    listed = api(cast.developer).get(f"/api/tickets/{ticket.pk}/comments/").json()
    assert [c["id"] for c in listed] == [comment["id"]]
    history = api(cast.admin).get(f"/api/tickets/{ticket.pk}/").json()["events"]
    assert history[-1]["event"] == "COMMENT_ADDED" and history[-1]["note"] == comment["body"]
    assert history[-1]["source"] == "API" and history[-1]["internal"] is False


def test_a_comment_tells_the_other_parties_and_never_its_author(cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    comment = services.comment_add(ticket_id=ticket.pk, author=cast.client, body="Any news?")
    messages = told(comment)
    assert set(messages) == {"dev", "admin"}
    assert "Any news?" in messages["dev"] and "John Doe" in messages["dev"]
    assert "💬 *New Comment*" in messages["admin"]


def test_an_internal_note_is_for_staff_only(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/comments/",
                                    {"body": "Client is on the old plan.", "internal": True},
                                    format="json")
    assert response.status_code == 201 and response.json()["internal"] is True
    note = TicketEvent.objects.get(pk=response.json()["id"])
    assert set(told(note)) == {"dev"}  # the client is never told
    assert api(cast.client).get(f"/api/tickets/{ticket.pk}/comments/").json() == []
    client_view = api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()
    assert "Client is on the old plan." not in str(client_view)
    staff_view = api(cast.developer).get(f"/api/tickets/{ticket.pk}/comments/").json()
    assert [c["body"] for c in staff_view] == ["Client is on the old plan."]


def test_can_comment_says_whether_the_caller_may_comment_now(api, cast, ticket_in):
    open_ticket, closed = ticket_in(TicketStatus.IN_PROGRESS), ticket_in(TicketStatus.CLOSED)
    assert api(cast.client).get(f"/api/tickets/{open_ticket.pk}/").json()["can_comment"] is True
    assert api(cast.client).get(f"/api/tickets/{closed.pk}/").json()["can_comment"] is False
    listed = api(cast.admin).get("/api/tickets/").json()["results"]
    assert {t["id"]: t["can_comment"] for t in listed} == {open_ticket.pk: True, closed.pk: False}
    # allowed_actions stays the lifecycle's
    assert "comment" not in api(cast.client).get(f"/api/tickets/{open_ticket.pk}/").json()[
        "allowed_actions"]


@pytest.mark.parametrize("body, field", [
    ({}, "body"), ({"body": ""}, "body"), ({"body": "x" * 10_001}, "body"),
    ({"body": "ok", "internal": "perhaps"}, "internal"), ({"body": "ok", "author": 1}, "author"),
])
def test_a_bad_comment_is_a_400_naming_the_field(api, cast, ticket_in, body, field):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/comments/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not TicketEvent.objects.filter(ticket=ticket, event=TicketEventType.COMMENT_ADDED).exists()


def test_a_closed_ticket_takes_no_comment_and_says_why(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    response = api(cast.client).post(f"/api/tickets/{ticket.pk}/comments/", {"body": "Hi"},
                                     format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "comment_not_allowed" and "CLOSED" in response.json()["detail"]


def test_the_admin_comments_through_the_same_service(staff, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = staff.post("/admin/tickets/ticket/", {
        "action": "comment_on_tickets", "_selected_action": [ticket.pk], "apply": "1",
        "body": "Called the client.", "internal": "on"})
    assert response.status_code == 302
    note = TicketEvent.objects.get(ticket=ticket, event=TicketEventType.COMMENT_ADDED)
    assert (note.note, note.internal, note.source, note.actor) == (
        "Called the client.", True, Source.ADMIN, cast.admin)
    page = staff.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "Called the client." in page and "Django admin" in page


def test_reopen_sends_a_finished_ticket_back_to_its_developer_with_the_reason(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    response = api(cast.client).post(f"/api/tickets/{ticket.pk}/reopen/",
                                      {"reason": "The export still times out."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == TicketStatus.IN_PROGRESS
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.event, event.note) == (TicketEventType.TICKET_REOPENED, "The export still times out.")
    messages = told(event)
    assert set(messages) == {"dev", "admin"}
    assert "The export still times out." in messages["dev"] and "John Doe" in messages["dev"]
    # Then the developer finishes again, as before.
    assert api(cast.developer).post(f"/api/tickets/{ticket.pk}/finish/", {"resolution": "Really"},
                                    format="json").status_code == 200
