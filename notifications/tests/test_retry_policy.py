"""No answer is lost and no door sends blindly: a late answer after the recovery pass gave up is
recorded, a row that keeps running out of time is never FAILED for it, and the admin's resend
keeps the rules of the command and the delivery mode."""
from datetime import timedelta

import pytest

from notifications import delivery, services
from notifications.sending import Failure, SendResult
from notifications.models import NotificationLog
from notifications.models import NotificationStatus as S
from notifications.outcomes import MAX_ATTEMPTS, Next, outcome, record
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def test_an_answer_after_the_recovery_pass_gave_up_is_recorded(cast, ticket_in, sender):
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    [job] = delivery._claim([row.pk])  # a slow sender claimed it
    assert services.recover(lease=timedelta(0)).abandoned == 1  # … and the pass gave up on it
    assert NotificationLog.objects.get(pk=row.pk).status == S.UNKNOWN
    answer = SendResult(status=S.SENT, message_id="wamid.LATE", http_status=200)
    record([outcome(job, answer, Next.DONE)], [])  # then its answer came after all
    row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.may_have_been_sent) == (
        S.SENT, "wamid.LATE", False)
    [attempt] = row.attempts.all()  # the pass's stand-in attempt is replaced, not duplicated
    assert (attempt.number, attempt.status, attempt.provider_message_id) == (1, S.SENT,
                                                                             "wamid.LATE")


def test_a_row_that_keeps_running_out_of_time_is_never_failed_for_it(cast, ticket_in, sender):
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    NotificationLog.objects.filter(pk=row.pk).update(attempt_count=MAX_ATTEMPTS + 2)
    [job] = delivery._claim([row.pk])
    record([outcome(job, delivery._late(started=False), Next.RETRY_LATER, later=0)], [])
    row.refresh_from_db()
    assert row.status == S.QUEUED and row.error_message.startswith(delivery.OUT_OF_TIME)


def refused_for_good(cast, ticket_in, sender, notify, code: str) -> NotificationLog:
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=S.FAILED, http_status=400, error_code=code, failure=Failure.PROVIDER_ERROR,
        error_message=f"Graph said {code}")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    return row


def test_the_admins_resend_leaves_out_codes_no_resend_can_cure(staff, cast, ticket_in, sender,
                                                               notify):
    from notifications.whatsapp.errors import FINAL_CODES

    row = refused_for_good(cast, ticket_in, sender, notify, FINAL_CODES[0])
    calls = len(sender.calls)
    page = staff.post("/admin/notifications/notificationlog/", {
        "action": "resend_selected", "_selected_action": [row.pk]}, follow=True).content.decode()
    assert "no resend can cure" in page and FINAL_CODES[0] in page
    assert len(sender.calls) == calls and NotificationLog.objects.get(pk=row.pk).status == S.FAILED


def test_in_celery_mode_a_resend_goes_to_the_workers(staff, cast, ticket_in, sender, notify,
                                                     settings, monkeypatch):
    row = refused_for_good(cast, ticket_in, sender, notify, "131030")
    told = []
    monkeypatch.setattr(delivery, "tell_workers", told.append)
    settings.NOTIFICATION_DELIVERY = "celery"
    calls = len(sender.calls)
    page = staff.post("/admin/notifications/notificationlog/", {
        "action": "resend_selected", "_selected_action": [row.pk]}, follow=True).content.decode()
    assert told == [[row.pk]] and len(sender.calls) == calls
    assert "1 handed to the workers" in page
    assert NotificationLog.objects.get(pk=row.pk).status == S.QUEUED


def test_answers_of_several_claims_recorded_together_each_settle_their_own_row(
        cast, ticket_in, sender):
    """The drain claims again as answers come, so one batch of answers may span claims."""
    first = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    second = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    [a] = delivery._claim([first.pk])
    [b] = delivery._claim([second.pk])
    assert a.claim != b.claim
    record([outcome(a, SendResult(status=S.SENT, message_id="wamid.A"), Next.DONE),
            outcome(b, SendResult(status=S.SENT, message_id="wamid.B"), Next.DONE)], [])
    assert dict(NotificationLog.objects.values_list("provider_message_id", "status")) == {
        "wamid.A": S.SENT, "wamid.B": S.SENT}
