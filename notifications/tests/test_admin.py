"""Django admin "Notification logs": list, filters, search, read-only detail; logs on the ticket."""
import pytest

from notifications.sending import SendResult
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_with_logs(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED, description="A very particular description")
    sender.results[cast.developer.profile.whatsapp_number] = SendResult(
        status=NotificationStatus.FAILED, error_code="131030", http_status=400,
        error_message="Recipient phone number not in allowed list. Add the number in the console.")
    notify(ticket, "DEVELOPER_ASSIGNED")
    return ticket


def test_log_list_shows_columns_and_filters(staff, ticket_with_logs):
    page = staff.get("/admin/notifications/notificationlog/").content.decode()
    assert "Developer assigned" in page and "[131030] Recipient phone number not in allowed list" in page
    failed = staff.get(
        "/admin/notifications/notificationlog/?channel__exact=WHATSAPP&status__exact=FAILED"
    ).content.decode()
    assert "131030" in failed and "wamid.fake" not in failed


def test_log_search_by_recipient_number_title_and_wamid(staff, ticket_with_logs, cast):
    sent = NotificationLog.objects.get(status="SENT", recipient=cast.client)
    for term in ("client", cast.client.profile.whatsapp_number, "Login page", sent.provider_message_id):
        page = staff.get("/admin/notifications/notificationlog/", {"q": term})
        assert sent in page.context["cl"].result_list, term
        assert f"/admin/notifications/notificationlog/{sent.pk}/change/" in page.content.decode()


def test_log_detail_is_read_only_and_shows_the_whole_message(staff, ticket_with_logs):
    row = NotificationLog.objects.get(status="FAILED")
    page = staff.get(f"/admin/notifications/notificationlog/{row.pk}/change/").content.decode()
    assert "A very particular description" in page
    assert "Add the number in the console." in page
    for editable in ('name="message"', 'name="status"', 'name="error_message"', 'name="_save"'):
        assert editable not in page
    assert staff.post(f"/admin/notifications/notificationlog/{row.pk}/change/", {}).status_code == 403
    assert staff.get("/admin/notifications/notificationlog/add/").status_code == 403


def test_ticket_page_shows_its_notification_logs(staff, ticket_with_logs):
    page = staff.get(f"/admin/tickets/ticket/{ticket_with_logs.pk}/change/").content.decode()
    assert "Notification logs" in page and "Recipient phone number not in allowed list" in page


def test_log_list_cuts_long_errors_keeping_them_whole_in_the_tooltip_and_on_the_row(
        staff, ticket_with_logs):
    failed = NotificationLog.objects.get(status="FAILED")
    failed.error_message = "Recipient phone number not in allowed list. " + "More detail. " * 20
    failed.save()
    page = staff.get("/admin/notifications/notificationlog/").content.decode()
    assert 'title="[131030] Recipient phone number not in allowed list.' in page
    assert failed.error_message not in page.replace('title="[131030] ' + failed.error_message, "")
    row_page = staff.get(f"/admin/notifications/notificationlog/{failed.pk}/change/").content.decode()
    assert failed.error_message.strip() in row_page
    assert "notifications/admin.css" in page


def test_log_search_finds_an_error_code(staff, ticket_with_logs):
    page = staff.get("/admin/notifications/notificationlog/", {"q": "131030"})
    assert page.context["cl"].result_count == 1


def test_a_notifications_page_names_its_recipient_not_their_id(staff, ticket_with_logs, cast):
    row = NotificationLog.objects.get(status="FAILED")  # the developer's
    assert cast.developer.get_username() in str(row) and f"→ {cast.developer.pk}:" not in str(row)
    page = staff.get(f"/admin/notifications/notificationlog/{row.pk}/change/").content.decode()
    assert f"→ {cast.developer.get_username()}:" in page  # the page's title and breadcrumb
