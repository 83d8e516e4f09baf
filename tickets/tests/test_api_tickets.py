"""Creating, reading and editing tickets through the API, and every error a caller can meet."""
import pytest

from accounts.tests.factories import make_developer
from tickets.models import Ticket, TicketEvent, TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db

NEW_TICKET = {
    "title": "Test WhatsApp",
    "description": "Testing WhatsApp Cloud API",
    "priority": "HIGH",
    "category": "BUG",
    "project_name": "Test Project",
}


# --- create -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "admin"])
def test_client_or_admin_creates_a_new_ticket_with_its_first_event(api, cast, who):
    user = getattr(cast, who)
    response = api(user).post("/api/tickets/", NEW_TICKET, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "NEW" and body["status_display"] == "New"
    assert body["client"]["id"] == user.pk
    assert body["assigned_developer"] is None
    assert [e["event"] for e in body["events"]] == ["TICKET_CREATED"]
    assert body["events"][0]["from_status"] == "" and body["events"][0]["to_status"] == "NEW"
    ticket = Ticket.objects.get(pk=body["id"])
    assert (ticket.title, ticket.priority, ticket.client) == ("Test WhatsApp", "HIGH", user)


def test_allowed_actions_follow_the_caller(api, cast):
    created = api(cast.client).post("/api/tickets/", NEW_TICKET, format="json").json()
    assert created["allowed_actions"] == []
    as_admin = api(cast.admin).get(f"/api/tickets/{created['id']}/").json()
    assert as_admin["allowed_actions"] == ["open", "reject"]


def test_a_developer_cannot_create_tickets(api, cast):
    response = api(cast.developer).post("/api/tickets/", NEW_TICKET, format="json")
    assert response.status_code == 403
    assert "clients and admins" in response.json()["detail"]
    assert Ticket.objects.count() == 0


def test_missing_fields_are_each_named(api, cast):
    response = api(cast.client).post("/api/tickets/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"title", "description", "project_name"}


def test_priority_and_category_default_when_left_out(api, cast):
    body = {k: v for k, v in NEW_TICKET.items() if k not in ("priority", "category")}
    response = api(cast.client).post("/api/tickets/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["priority"], response.json()["category"]) == ("MEDIUM", "OTHER")


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("priority", "URGENT", "LOW, MEDIUM, HIGH, CRITICAL"),
        ("category", "QUESTION", "BUG, FEATURE, SUPPORT, OTHER"),
    ],
)
def test_a_bad_choice_lists_the_allowed_values(api, cast, field, value, allowed):
    response = api(cast.client).post("/api/tickets/", {**NEW_TICKET, field: value}, format="json")
    assert response.status_code == 400
    assert allowed in response.json()[field][0]
    assert value in response.json()[field][0]


def test_over_long_title_is_refused(api, cast):
    response = api(cast.client).post("/api/tickets/", {**NEW_TICKET, "title": "x" * 201}, format="json")
    assert response.status_code == 400
    assert "200" in response.json()["title"][0]


def test_status_in_the_body_names_the_action_endpoints(api, cast):
    response = api(cast.client).post(
        "/api/tickets/", {**NEW_TICKET, "status": "CLOSED"}, format="json"
    )
    assert response.status_code == 400
    assert "POST /api/tickets/{id}/open/" in response.json()["status"][0]
    assert Ticket.objects.count() == 0


def test_an_unknown_field_is_refused_not_ignored(api, cast):
    response = api(cast.client).post("/api/tickets/", {**NEW_TICKET, "severity": 3}, format="json")
    assert response.status_code == 400
    assert "Unknown field" in response.json()["severity"][0]


def test_malformed_json_is_a_400(api, cast):
    response = api(cast.client).post(
        "/api/tickets/", '{"title": "oops",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_json_list_body_is_a_400(api, cast):
    response = api(cast.client).post("/api/tickets/", [NEW_TICKET], format="json")
    assert response.status_code == 400


def test_no_token_is_a_401(api):
    response = api().get("/api/tickets/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_bad_token_is_a_401(client, db):
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- action bodies ------------------------------------------------------------------------------------


def test_reject_needs_a_reason(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_reject_records_the_reason(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/reject/", {"reason": "Duplicate of #12"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["rejection_reason"] == "Duplicate of #12"
    assert response.json()["events"][-1]["note"] == "Duplicate of #12"


def test_finish_records_the_resolution_and_it_is_optional(api, cast, ticket_in):
    with_text = ticket_in(TicketStatus.IN_PROGRESS)
    response = api(cast.developer).post(
        f"/api/tickets/{with_text.pk}/finish/", {"resolution": "Cleared the cache."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["resolution"] == "Cleared the cache."

    without = ticket_in(TicketStatus.IN_PROGRESS)
    response = api(cast.developer).post(f"/api/tickets/{without.pk}/finish/", format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "FINISHED"


def test_assign_sets_the_developer_and_notes_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/assign/", {"developer": cast.developer.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["assigned_developer"]["id"] == cast.developer.pk
    assert response.json()["events"][-1]["note"] == "Assigned to dev"


def test_reassigning_an_in_progress_ticket_sends_it_back_to_assigned(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/assign/", {"developer": cast.other_developer.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ASSIGNED"
    assert response.json()["assigned_developer"]["username"] == "other_dev"
    # The developer taken off the ticket no longer sees it.
    assert api(cast.developer).get(f"/api/tickets/{ticket.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["client", "admin", "inactive_developer", "nobody"])
def test_assigning_anyone_but_an_active_developer_is_a_400(api, cast, ticket_in, who):
    ticket = ticket_in(TicketStatus.OPENED)
    user_id = {
        "client": cast.client.pk,
        "admin": cast.admin.pk,
        "inactive_developer": make_developer(username="gone", is_active=False).pk,
        "nobody": 987654,
    }[who]
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/assign/", {"developer": user_id}, format="json"
    )
    assert response.status_code == 400
    assert "active user with the DEVELOPER role" in response.json()["developer"][0]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED and ticket.assigned_developer is None


def test_assigning_the_same_developer_again_is_a_400(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/assign/", {"developer": cast.developer.pk}, format="json"
    )
    assert response.status_code == 400
    assert "already assigned" in response.json()["developer"][0]


def test_assign_without_a_developer_is_a_400(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/assign/", {}, format="json")
    assert response.status_code == 400
    assert "developer" in response.json()


def test_an_action_that_takes_no_body_refuses_stray_fields(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.admin).post(
        f"/api/tickets/{ticket.pk}/open/", {"status": "OPENED"}, format="json"
    )
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_refusal_comes_before_body_validation(api, cast, ticket_in):
    """A client trying to reject gets 403, not a complaint about the missing reason."""
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.client).post(f"/api/tickets/{ticket.pk}/reject/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an admin can reject this ticket."


def test_wrong_status_answers_409_with_what_is_possible_now(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/", format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot open a ticket whose status is FINISHED.",
        "code": "transition_not_allowed",
        "status": "FINISHED",
        "allowed_actions": ["close", "reopen"],
    }


# --- detail, delete, unknown URLs ---------------------------------------------------------------------


def test_detail_shows_the_history_in_order(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    body = api(cast.client).get(f"/api/tickets/{ticket.pk}/").json()
    assert [e["event"] for e in body["events"]] == [
        "TICKET_CREATED", "TICKET_OPENED", "DEVELOPER_ASSIGNED", "WORK_STARTED", "WORK_FINISHED",
        "TICKET_CLOSED",
    ]
    assert body["events"][1]["actor"]["username"] == "admin"
    assert body["allowed_actions"] == []


def test_delete_and_put_are_not_offered(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    assert api(cast.admin).delete(f"/api/tickets/{ticket.pk}/").status_code == 405
    assert api(cast.admin).put(f"/api/tickets/{ticket.pk}/", NEW_TICKET, format="json").status_code == 405
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_a_ticket_that_is_not_there_or_not_visible_is_a_404_with_its_code(api, cast, ticket_in):
    hidden = ticket_in(TicketStatus.NEW)
    for path in ("/api/tickets/987654/", f"/api/tickets/{hidden.pk}/"):
        response = api(cast.developer).get(path)  # the developer may not see a NEW ticket
        assert response.status_code == 404
        assert response.json() == {"detail": "No ticket with this id is visible to you.",
                                   "code": "not_found"}


@pytest.mark.parametrize("path", ["/api/tickets/abc/", "/api/nothing-here/", "/api/tickets/1/fly/"])
def test_unknown_api_urls_answer_json_404(api, cast, path):
    response = api(cast.admin).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


# --- edit (PATCH) -------------------------------------------------------------------------------------


def test_the_client_edits_a_new_ticket_and_history_records_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.client).patch(
        f"/api/tickets/{ticket.pk}/", {"title": "Login broken on Safari", "priority": "CRITICAL"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Login broken on Safari"
    last = TicketEvent.objects.filter(ticket=ticket).last()
    assert last.event == TicketEventType.TICKET_UPDATED
    assert last.note == "Edited: title, priority"


def test_an_edit_that_changes_nothing_leaves_no_history(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.client).patch(
        f"/api/tickets/{ticket.pk}/", {"title": ticket.title}, format="json"
    )
    assert response.status_code == 200
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_the_client_cannot_edit_once_opened(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = api(cast.client).patch(f"/api/tickets/{ticket.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["status"] == "OPENED"
    assert "allowed_actions" in response.json()


@pytest.mark.parametrize("status", [TicketStatus.OPENED, TicketStatus.IN_PROGRESS, TicketStatus.FINISHED])
def test_an_admin_edits_until_closed_or_rejected(api, cast, ticket_in, status):
    ticket = ticket_in(status)
    response = api(cast.admin).patch(f"/api/tickets/{ticket.pk}/", {"category": "SUPPORT"}, format="json")
    assert response.status_code == 200
    assert response.json()["category"] == "SUPPORT"


@pytest.mark.parametrize("status", [TicketStatus.CLOSED, TicketStatus.REJECTED])
def test_nobody_edits_a_closed_or_rejected_ticket(api, cast, ticket_in, status):
    ticket = ticket_in(status)
    response = api(cast.admin).patch(f"/api/tickets/{ticket.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 409


def test_the_assigned_developer_cannot_edit(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    response = api(cast.developer).patch(f"/api/tickets/{ticket.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 403


def test_another_client_cannot_even_see_it(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.other_client).patch(f"/api/tickets/{ticket.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "field, value",
    [("status", "CLOSED"), ("assigned_developer", 1), ("resolution", "done"), ("client", 1)],
)
def test_lifecycle_fields_cannot_be_patched(api, cast, ticket_in, field, value):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.admin).patch(f"/api/tickets/{ticket.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and ticket.resolution == ""


def test_patching_status_names_the_action_endpoints(api, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    response = api(cast.client).patch(f"/api/tickets/{ticket.pk}/", {"status": "OPENED"}, format="json")
    message = response.json()["status"][0]
    for action in ("open", "assign", "start", "finish", "close", "reject"):
        assert f"/api/tickets/{{id}}/{action}/" in message
