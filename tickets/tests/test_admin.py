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
