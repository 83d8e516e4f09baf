"""Delivery reports are never lost: one whose message id matches no notification yet (Meta sent it
before the send's own answer was recorded) is held, and applied once the id is known."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import HeldStatus, NotificationLog
from notifications.models import NotificationStatus as S
from notifications.tests.test_ledger import ReportingSender
from notifications.tests.test_webhooks import T0, body_of, envelope, post, status
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("report, code, expected, error_code", [
    ("delivered", None, S.SENT, ""),
    ("failed", 131026, S.FAILED, "131026"),
])
def test_an_early_report_by_wamid_alone_is_kept_and_applied(cast, ticket_in, sender, use_sender,
                                                             report, code, expected, error_code):
    use_sender(ReportingSender({cast.client.profile.whatsapp_number: (report, code)},
                               by_wamid_alone=True))
    ticket = ticket_in(TicketStatus.OPENED)  # committed at once: each step sends as it is taken
    row = NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)
    assert (row.status, row.error_code, row.delivery_status) == (expected, error_code, report)
    assert not HeldStatus.objects.exists()


@pytest.mark.django_db
def test_a_report_for_an_unknown_message_waits_then_is_given_up_and_counted(client, staff, cast):
    post(client, body_of(envelope(statuses=[status("wamid.LATER", "read", T0)])))
    [held] = HeldStatus.objects.all()
    assert held.wamid == "wamid.LATER" and held.given_up_at is None
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert "1 delivery report held" in page

    HeldStatus.objects.update(received_at=timezone.now() - timedelta(days=2))
    services.recover()
    held.refresh_from_db()
    assert held.given_up_at is not None
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert "0 delivery reports held" in page and "1 given up in the last 30 days" in page


@pytest.mark.django_db
def test_the_recovery_pass_applies_a_held_report_once_its_message_is_known(client, cast,
                                                                          ticket_in):
    ticket = ticket_in(TicketStatus.OPENED)
    row = NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)
    post(client, body_of(envelope(statuses=[status("wamid.RACE", "failed", T0,
                                                   errors=[{"code": 131026}])])))
    # The send's answer was recorded in the same instant the report was held.
    NotificationLog.objects.filter(pk=row.pk).update(status=S.SENT, provider_message_id="wamid.RACE")
    services.recover()
    row.refresh_from_db()
    assert (row.status, row.error_code, row.delivery_status) == (S.FAILED, "131026", "failed")
    assert not HeldStatus.objects.exists()
