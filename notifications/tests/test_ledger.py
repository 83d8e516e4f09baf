"""The ledger under crashes and odd timing: intents survive a process that dies after commit or
mid-send, early and late delivery reports are kept, odd Graph answers never become a 500, and the
recovery pass accounts for everything without telling anyone twice."""
import logging
from datetime import timedelta

import pytest
import responses
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from notifications import delivery, outcomes
from notifications.whatsapp import webhook as webhooks
from notifications.sending import Failure, SendResult
from notifications.models import WAMID_LENGTH, NotificationLog, NotificationStatus
from notifications.tests.fakes import FakeWhatsAppSender
from notifications.tests.test_webhooks import T0, body_of, envelope, post, status
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

S = NotificationStatus
URL = "https://graph.facebook.com/v25.0/123456789012345/messages"


def without_setup_rows(ticket):
    """The set-up's own events were never delivered here (their transactions never commit in
    these tests): drop their rows so only the event under test is pending."""
    NotificationLog.objects.filter(status=S.QUEUED).delete()
    return ticket


def open_without_delivering(api, cast, ticket, django_capture_on_commit_callbacks):
    """The ticket change commits and the process dies before its after-commit step runs."""
    without_setup_rows(ticket)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/")
    assert response.status_code == 200 and len(callbacks) == 1
    return NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)


@pytest.mark.django_db
def test_a_crash_after_commit_leaves_queued_rows_that_the_recovery_pass_sends_once(
        api, cast, ticket_in, sender, capsys, django_capture_on_commit_callbacks):
    row = open_without_delivering(api, cast, ticket_in(TicketStatus.NEW),
                                  django_capture_on_commit_callbacks)
    assert (row.status, row.attempt_count, sender.calls) == (S.QUEUED, 0, [])

    call_command("deliver_pending_notifications")
    assert capsys.readouterr().out.strip() == (
        "0 abandoned send(s) marked UNKNOWN; 1 due notification(s) sent: 1 SENT.")
    row.refresh_from_db()
    assert (row.status, row.attempt_count) == (S.SENT, 1)
    assert [call.callback_data for call in sender.calls] == [row.callback_id]

    call_command("deliver_pending_notifications")
    assert "0 due notification(s) sent: nothing." in capsys.readouterr().out
    assert len(sender.calls) == 1


@pytest.mark.django_db
def test_a_crash_mid_send_becomes_unknown_never_resent_and_a_report_settles_it(
        client, api, cast, ticket_in, sender, capsys, django_capture_on_commit_callbacks):
    row = open_without_delivering(api, cast, ticket_in(TicketStatus.NEW),
                                  django_capture_on_commit_callbacks)
    [job] = delivery._claim([row.pk])  # claimed, request on its way... and the process dies
    NotificationLog.objects.filter(pk=row.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=6))

    call_command("deliver_pending_notifications")
    assert "1 abandoned send(s) marked UNKNOWN" in capsys.readouterr().out
    row.refresh_from_db()
    assert (row.status, row.may_have_been_sent) == (S.UNKNOWN, True)
    assert "stopped before recording an answer" in row.error_message
    assert [(a.number, a.status) for a in row.attempts.all()] == [(1, S.UNKNOWN)]
    call_command("deliver_pending_notifications")
    assert sender.calls == []  # never resent blindly

    # Meta's report of the send that did go out settles it, and stores its wamid.
    report = status("wamid.FROM-REPORT", "delivered", T0, callback=row.callback_id)
    assert post(client, body_of(envelope(statuses=[report]))).status_code == 200
    row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.delivery_status) == (
        S.SENT, "wamid.FROM-REPORT", "delivered")
    assert not row.may_have_been_sent and row.error_message == ""


@pytest.mark.django_db
def test_a_lease_shorter_than_the_send_time_bound_is_refused():
    with pytest.raises(CommandError, match="time bound"):
        call_command("deliver_pending_notifications", "--older-than", "1")


@pytest.mark.django_db
def test_a_send_still_within_its_lease_is_left_alone(api, cast, ticket_in, sender,
                                                     django_capture_on_commit_callbacks):
    row = open_without_delivering(api, cast, ticket_in(TicketStatus.NEW),
                                  django_capture_on_commit_callbacks)
    delivery._claim([row.pk])
    call_command("deliver_pending_notifications")
    row.refresh_from_db()
    assert row.status == S.SENDING and sender.calls == []


@pytest.mark.django_db
def test_a_timed_out_send_later_reported_delivered_is_sent_and_never_resent(
        client, cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=S.FAILED, failure=Failure.OUTCOME_UNKNOWN, error_message="No answer within 10 s")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.status == S.UNKNOWN
    report = status("wamid.LATE", "delivered", T0, callback=row.callback_id)
    post(client, body_of(envelope(statuses=[report])))
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (S.SENT, "wamid.LATE")

    call_command("resend_failed_notifications", "--include-uncertain")
    assert len(sender.calls) == 1


@pytest.mark.django_db
def test_a_queued_retry_reported_delivered_is_not_sent_again(client, cast, ticket_in, sender,
                                                             notify, settings):
    settings.WHATSAPP_RETRY_BACKOFF = []
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=S.FAILED, failure=Failure.BAD_ANSWER, http_status=503, temporary=True,
        error_message="HTML 503")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.status == S.QUEUED
    NotificationLog.objects.filter(status=S.QUEUED).exclude(pk=row.pk).delete()
    post(client, body_of(envelope(statuses=[status("wamid.WENT", "sent", T0, callback=row.callback_id)])))
    NotificationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    call_command("deliver_pending_notifications")
    row.refresh_from_db()
    assert row.status == S.SENT and len(sender.calls) == 1


class ReportingSender(FakeWhatsAppSender):
    """Meta's webhook for a message arrives before the send's own answer does: with the callback
    id, or (`by_wamid_alone`) carrying the wamid only."""

    def __init__(self, reports, *, by_wamid_alone: bool = False):
        super().__init__()
        self.reports, self.by_wamid_alone = reports, by_wamid_alone

    def _answer(self, to, body, template, callback_data, buttons=()):
        result = super()._answer(to, body, template, callback_data, buttons)
        if to not in self.reports:
            return result
        name, code = self.reports[to]
        extra = {"errors": [{"code": code, "title": "Re-engagement message"}]} if code else {}
        webhooks.apply_statuses(webhooks.parse(envelope(statuses=[
            status(result.message_id, name, T0,
                   callback="" if self.by_wamid_alone else callback_data, **extra)]))[0])
        connections.close_all()  # this pool thread outlives the test: leave no session open
        return result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("report, code, status, error_code", [
    ("delivered", None, S.SENT, ""),
    ("failed", 131047, S.FAILED, "131047"),
])
def test_early_delivery_reports_are_kept(cast, ticket_in, sender, use_sender, report, code, status,
                                         error_code):
    use_sender(ReportingSender({cast.client.profile.whatsapp_number: (report, code)}))
    # Committed at once here, so each step's notifications go out as the step is taken: the
    # client's "opened" message meets its report before its own answer.
    ticket = ticket_in(TicketStatus.OPENED)
    row = NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)
    assert (row.status, row.error_code, row.delivery_status) == (status, error_code, report)
    assert row.provider_message_id.startswith("wamid.fake")
    if code:
        assert "24 hours" in row.error_message  # what it means and what to do


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("length", [146, 400])
def test_a_long_message_id_is_stored_never_a_500(api, cast, ticket_in, settings, length):
    settings.WHATSAPP_ACCESS_TOKEN = "EAA-long-id-token"
    wamid = "wamid." + "H" * (length - 6)
    ticket = ticket_in(TicketStatus.NEW)
    with responses.RequestsMock() as graph:
        graph.post(URL, json={"messages": [{"id": wamid}]})
        response = api(cast.admin).post(f"/api/tickets/{ticket.pk}/open/")
    assert response.status_code == 200
    row = NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)
    assert row.status == S.SENT
    if length <= WAMID_LENGTH:
        assert row.provider_message_id == wamid and row.error_message == ""
    else:
        assert row.provider_message_id == wamid[:WAMID_LENGTH]
        assert "stored cut" in row.error_message


@pytest.mark.django_db
def test_an_error_while_recording_is_logged_with_its_traceback_and_left_on_the_row(
        cast, ticket_in, sender, notify, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ValueError("the database said no")

    monkeypatch.setattr(outcomes, "_write", broken)
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.status == S.UNKNOWN and row.may_have_been_sent
    assert "could not be recorded (ValueError)" in row.error_message
    [record] = [r for r in caplog.records if "Could not record the outcome" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info[0] is ValueError


@pytest.mark.django_db
def test_after_recovery_every_row_is_settled_and_nobody_is_told_twice(
        api, cast, ticket_in, sender, django_capture_on_commit_callbacks):
    """kill -9 in the middle of an event: one message went out and was never recorded, one was
    never started. Afterwards each rests in a final state, and only the unsent one is sent."""
    ticket = without_setup_rows(ticket_in(TicketStatus.IN_PROGRESS))
    with django_capture_on_commit_callbacks(execute=False):
        api(cast.developer).post(f"/api/tickets/{ticket.pk}/finish/", {"resolution": "Done"},
                                 format="json")
    rows = list(NotificationLog.objects.filter(ticket=ticket, event=E.WORK_FINISHED).order_by("pk"))
    assert len(rows) == 2 and {r.status for r in rows} == {S.QUEUED}
    went_out, never_started = rows
    delivery._claim([went_out.pk])
    NotificationLog.objects.filter(pk=went_out.pk).update(
        claimed_at=timezone.now() - timedelta(hours=1))

    call_command("deliver_pending_notifications")
    statuses = dict(NotificationLog.objects.filter(pk__in=[r.pk for r in rows])
                    .values_list("pk", "status"))
    assert statuses == {went_out.pk: S.UNKNOWN, never_started.pk: S.SENT}
    assert [c.to for c in sender.calls] == [never_started.to]
    assert set(NotificationLog.objects.values_list("status", flat=True)) <= {
        S.SENT, S.FAILED, S.SKIPPED, S.UNKNOWN, S.QUEUED}
