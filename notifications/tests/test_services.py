"""The notification service with a fake sender: one row per recipient, skips, concurrency, the
time bound, console mode, and "only after commit"."""
import logging
import threading

import pytest

from accounts.tests.factories import make_admin
from notifications import delivery
from notifications.clients.base import SendResult
from notifications.clients.console import ConsoleWhatsAppClient
from notifications.models import Channel, NotificationLog, NotificationStatus
from notifications.tests.fakes import FakeWhatsAppSender
from tickets import services as ticket_services
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def test_one_sent_row_per_recipient_with_number_text_and_wamid(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    rows = notify(ticket, E.DEVELOPER_ASSIGNED)

    assert [(r.recipient, r.status, r.channel) for r in rows] == [
        (cast.developer, NotificationStatus.SENT, Channel.WHATSAPP),
        (cast.client, NotificationStatus.SENT, Channel.WHATSAPP),
    ]
    stored = NotificationLog.objects.get(recipient=cast.client)
    assert stored.to == cast.client.profile.whatsapp_number
    assert stored.provider_message_id.startswith("wamid.fake")
    assert stored.sent_at is not None and stored.http_status == 200
    assert stored.message.startswith("👨‍💻 *A Developer Has Been Assigned*")
    assert {call.to for call in sender.calls} == {
        cast.client.profile.whatsapp_number, cast.developer.profile.whatsapp_number
    }


def test_full_name_falls_back_to_username(cast, ticket_in, notify):
    cast.client.first_name = cast.client.last_name = ""
    cast.client.save()
    ticket = ticket_in(TicketStatus.OPENED)
    notify(ticket, E.TICKET_OPENED)
    assert "Hello client," in NotificationLog.objects.get().message


def test_a_recipient_without_a_number_is_skipped_not_dropped(cast, ticket_in, sender, notify):
    cast.client.profile.whatsapp_number = ""
    cast.client.profile.save()
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    assert row.status == NotificationStatus.SKIPPED
    assert row.error_message.startswith("No WhatsApp number on profile")
    assert row.to == "" and "Your Ticket Has Been Opened" in row.message
    assert sender.calls == []


def test_a_failure_for_one_recipient_does_not_stop_the_others(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    sender.results[cast.developer.profile.whatsapp_number] = SendResult(
        status=NotificationStatus.FAILED, error_code="131030", http_status=400,
        error_message="Recipient phone number not in allowed list. Add the number ...",
    )
    notify(ticket, E.DEVELOPER_ASSIGNED)
    failed = NotificationLog.objects.get(recipient=cast.developer)
    assert (failed.status, failed.error_code, failed.http_status) == ("FAILED", "131030", 400)
    assert failed.sent_at is None
    assert NotificationLog.objects.get(recipient=cast.client).status == NotificationStatus.SENT


def test_sends_of_one_event_overlap_and_rows_are_written_by_the_caller(cast, ticket_in, settings, notify):
    """Twenty sends that can only finish if all twenty are in flight at once."""
    settings.WHATSAPP_MAX_WORKERS = 20
    for n in range(19):
        make_admin(username=f"extra_admin_{n}")
    barrier = threading.Barrier(20)
    sender = FakeWhatsAppSender(gate=barrier)
    ticket = ticket_in(TicketStatus.NEW)

    rows = notify(ticket, E.TICKET_CREATED, whatsapp=sender)

    assert len(rows) == 20 and not barrier.broken
    assert all(r.status == NotificationStatus.SENT for r in rows)
    assert len({call.thread for call in sender.calls}) == 20
    assert threading.current_thread().name not in {call.thread for call in sender.calls}
    assert NotificationLog.objects.count() == 20


def test_the_pool_is_bounded(cast, ticket_in, settings, sender, notify):
    settings.WHATSAPP_MAX_WORKERS = 2
    for n in range(6):
        make_admin(username=f"extra_admin_{n}")
    ticket = ticket_in(TicketStatus.NEW)
    notify(ticket, E.TICKET_CREATED)
    assert len({call.thread for call in sender.calls}) <= 2
    assert NotificationLog.objects.filter(status=NotificationStatus.SENT).count() == 7


def test_sends_past_the_time_bound_are_failed_and_say_so(cast, ticket_in, settings, monkeypatch, notify):
    """The request does not wait past the bound: unfinished sends get honest FAILED rows.

    Deterministic, no clock involved: the bound "runs out" once two sends are inside the sender
    (held there) and two are still queued behind them.
    """
    settings.WHATSAPP_MAX_WORKERS = 2
    for n in range(3):
        make_admin(username=f"extra_admin_{n}")
    entered = threading.Barrier(3)  # the two workers inside a send, and the stand-in for wait()
    held = threading.Event()

    class HeldSender(FakeWhatsAppSender):
        def _answer(self, *args):
            entered.wait(timeout=5)
            held.wait(timeout=5)
            return super()._answer(*args)

    monkeypatch.setattr(delivery, "wait", lambda futures, timeout: entered.wait(timeout=5))
    ticket = ticket_in(TicketStatus.NEW)
    try:
        rows = notify(ticket, E.TICKET_CREATED, whatsapp=HeldSender())
    finally:
        held.set()  # let the held threads finish

    assert len(rows) == 4 and all(r.status == NotificationStatus.FAILED for r in rows)
    in_flight = [r for r in rows if r.error_message == delivery.NO_ANSWER_IN_TIME]
    never_started = [r for r in rows if r.error_message == delivery.OUT_OF_TIME]
    assert len(in_flight) == 2 and len(never_started) == 2
    assert all(r.may_have_been_sent and len(r.callback_id) == 32 for r in in_flight)
    assert not any(r.may_have_been_sent for r in never_started)


def test_a_job_whose_turn_comes_after_the_deadline_is_not_sent(sender):
    job = delivery.Job(Channel.WHATSAPP, "+201234567890", "hello")
    delivery._run_job(job, sender, None, deadline=0.0, sleep=lambda s: None)
    assert job.attempts == [] and sender.calls == []


def test_a_sender_that_raises_still_leaves_a_failed_row(cast, ticket_in, notify):
    class Broken:
        def send_text(self, *, to, body, callback_data=""):
            raise RuntimeError("boom")

    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED, whatsapp=Broken())
    assert row.status == NotificationStatus.FAILED
    assert "Internal error while sending (RuntimeError)" in row.error_message


def test_log_lines_for_success_and_failure(cast, ticket_in, sender, caplog, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    sender.results[cast.developer.profile.whatsapp_number] = SendResult(
        status=NotificationStatus.FAILED, error_code="190", error_message="The access token has expired",
    )
    caplog.set_level(logging.INFO, logger="notifications.services")
    notify(ticket, E.DEVELOPER_ASSIGNED)
    wamid = NotificationLog.objects.get(recipient=cast.client).provider_message_id
    assert f"📱 WhatsApp sent to client: {wamid}" in caplog.messages
    failure = [m for m in caplog.messages if m.startswith("WhatsApp to dev failed")]
    assert "(DEVELOPER_ASSIGNED, ticket #" in failure[0]
    assert failure and "[code 190]" in failure[0] and "access token has expired" in failure[0]


def test_console_mode_prints_the_whole_message_and_skips(cast, ticket_in, capsys, notify):
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED, whatsapp=ConsoleWhatsAppClient())
    out = capsys.readouterr().out
    assert row.message in out and cast.client.profile.whatsapp_number in out
    assert row.status == NotificationStatus.SKIPPED
    assert "Console mode" in row.error_message and "WHATSAPP_ACCESS_TOKEN" in row.error_message


def test_without_a_token_the_default_sender_is_console_mode(cast, ticket_in, settings, capsys, notify):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED, whatsapp=None)
    assert row.status == NotificationStatus.SKIPPED
    assert "WhatsApp (console mode)" in capsys.readouterr().out


def test_notifications_run_only_after_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = ticket_services.ticket_create(
            client=cast.client, title="T", description="D", project_name="P"
        )
    assert NotificationLog.objects.count() == 0  # nothing yet: the transaction is still open
    assert len(callbacks) == 1
    callbacks[0]()
    assert list(NotificationLog.objects.values_list("event", "recipient__username")) == [
        (E.TICKET_CREATED, "admin")
    ]
    assert ticket.pk


def test_a_rolled_back_change_notifies_nobody(cast, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                ticket_services.ticket_create(
                    client=cast.client, title="T", description="D", project_name="P"
                )
                raise RuntimeError("the request failed after the ticket was saved")
    assert callbacks == []
    assert NotificationLog.objects.count() == 0
