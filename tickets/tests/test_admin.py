"""The ticket admin: list and detail load, history shows, edits go through the service."""
import pytest

from tickets.models import TicketEventType, TicketStatus

pytestmark = pytest.mark.django_db



def test_ticket_list_loads_with_filters(staff, ticket_in):
    ticket_in(TicketStatus.ASSIGNED, title="Visible in admin")
    page = staff.get("/admin/tickets/ticket/?status__exact=ASSIGNED").content.decode()
    assert "Visible in admin" in page
    assert staff.get("/admin/tickets/ticket/?status__exact=NEW").content.decode().count(
        "Visible in admin"
    ) == 0


def test_ticket_change_page_shows_history_and_status_is_read_only(staff, ticket_in):
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    page = staff.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert "History" in page and "Work started" in page
    assert 'name="status"' not in page
    assert 'name="title"' in page


def test_editing_in_the_admin_records_history(staff, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    response = staff.post(
        f"/admin/tickets/ticket/{ticket.pk}/change/",
        {
            "title": "Renamed in admin", "description": ticket.description, "priority": "LOW",
            "category": ticket.category, "project_name": ticket.project_name,
            "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0", "events-MAX_NUM_FORMS": "0",
            "notification_logs-TOTAL_FORMS": "0", "notification_logs-INITIAL_FORMS": "0",
            "notification_logs-MIN_NUM_FORMS": "0", "notification_logs-MAX_NUM_FORMS": "0",
            "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "0",
            "clocks-TOTAL_FORMS": "0", "clocks-INITIAL_FORMS": "0",
            "clocks-MIN_NUM_FORMS": "0", "clocks-MAX_NUM_FORMS": "0",
            "escalations-TOTAL_FORMS": "0", "escalations-INITIAL_FORMS": "0",
            "escalations-MIN_NUM_FORMS": "0", "escalations-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket.refresh_from_db()
    assert ticket.title == "Renamed in admin"
    last = ticket.events.last()
    assert (last.event, last.note) == (TicketEventType.TICKET_UPDATED, "Edited: title, priority")


def test_a_closed_ticket_is_read_only_in_the_admin(staff, ticket_in):
    ticket = ticket_in(TicketStatus.CLOSED)
    page = staff.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert 'name="title"' not in page


def test_the_clients_rating_shows_read_only_and_filters_the_list(staff, cast, ticket_in):
    from tickets import services

    rated = ticket_in(TicketStatus.CLOSED, title="Rated one")
    ticket_in(TicketStatus.CLOSED, title="Unrated one")
    services.ticket_rate(ticket_id=rated.pk, actor=cast.client, score=1, comment="Took a week.")
    page = staff.get(f"/admin/tickets/ticket/{rated.pk}/change/").content.decode()
    assert "😞" in page and "Took a week." in page and 'name="satisfaction"' not in page
    listed = staff.get("/admin/tickets/ticket/?satisfaction__exact=1").content.decode()
    assert "Rated one" in listed and "Unrated one" not in listed


# --- lifecycle actions -------------------------------------------------------------------------------

CHANGELIST = "/admin/tickets/ticket/"


def test_open_action_goes_through_the_service_and_notifies(
    staff, ticket_in, django_capture_on_commit_callbacks
):
    from notifications.models import NotificationLog

    new, closed = ticket_in(TicketStatus.NEW), ticket_in(TicketStatus.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(CHANGELIST, {"action": "open_tickets",
                                           "_selected_action": [new.pk, closed.pk]}, follow=True)
    page = response.content.decode()
    new.refresh_from_db()
    closed.refresh_from_db()
    assert (new.status, closed.status) == (TicketStatus.OPENED, TicketStatus.CLOSED)
    assert f"Open: #{new.pk}." in page
    assert f"Not done, #{closed.pk}: Cannot open a ticket whose status is CLOSED." in page
    assert new.events.last().event == TicketEventType.TICKET_OPENED
    assert NotificationLog.objects.filter(ticket=new, event="TICKET_OPENED").count() == 1


def test_assign_action_asks_for_the_developer_first(staff, cast, ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    form_page = staff.post(CHANGELIST, {"action": "assign_tickets", "_selected_action": [ticket.pk]})
    assert form_page.status_code == 200
    page = form_page.content.decode()
    assert "Assign tickets to a developer" in page and "other_dev" in page and "client" not in page.split("<select")[1].split("</select>")[0]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED  # nothing happens before the form is applied

    staff.post(CHANGELIST, {"action": "assign_tickets", "_selected_action": [ticket.pk],
                            "apply": "Apply", "developer": cast.other_developer.pk})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_developer) == (TicketStatus.ASSIGNED, cast.other_developer)


def test_reject_action_needs_a_reason(staff, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    again = staff.post(CHANGELIST, {"action": "reject_tickets", "_selected_action": [ticket.pk],
                                    "apply": "Apply", "reason": ""})
    assert "This field is required" in again.content.decode()
    staff.post(CHANGELIST, {"action": "reject_tickets", "_selected_action": [ticket.pk],
                            "apply": "Apply", "reason": "Duplicate of #3"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (TicketStatus.REJECTED, "Duplicate of #3")


def test_close_action(staff, ticket_in):
    ticket = ticket_in(TicketStatus.FINISHED)
    staff.post(CHANGELIST, {"action": "close_tickets", "_selected_action": [ticket.pk]})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
