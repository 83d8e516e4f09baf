"""Delivering an event's notifications with a fake sender: one row per recipient, skips,
concurrency, the time bound, console mode, and "written in the transaction, sent after commit"."""
import logging
import threading

import pytest

from accounts.tests.factories import make_admin
from notifications import delivery
from notifications.sending import SendResult
from notifications.whatsapp.console import ConsoleWhatsAppClient
from notifications.models import Channel, NotificationLog, NotificationStatus
from notifications.tests.fakes import FakeWhatsAppSender
from tickets import services as ticket_services
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_one_sent_row_per_recipient_with_number_text_and_wamid(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    rows = notify(ticket, E.DEVELOPER_ASSIGNED)

    assert [(r.recipient, r.status, r.channel) for r in rows] == [
        (cast.developer, NotificationStatus.SENT, Channel.WHATSAPP),
        (cast.client, NotificationStatus.SENT, Channel.WHATSAPP),
    ]
    stored = NotificationLog.objects.get(recipient=cast.client, event=E.DEVELOPER_ASSIGNED)
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
    assert "Hello client," in NotificationLog.objects.get(event=E.TICKET_OPENED).message


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
    rows = notify(ticket, E.DEVELOPER_ASSIGNED)
    failed, sent = rows
    assert failed.recipient == cast.developer and sent.recipient == cast.client
    assert (failed.status, failed.error_code, failed.http_status) == ("FAILED", "131030", 400)
    assert failed.sent_at is None
    assert sent.status == NotificationStatus.SENT


def test_sends_of_one_event_overlap_and_rows_are_written_by_the_caller(
        cast, ticket_in, settings, notify, use_sender):
    """Twenty sends that can only finish if all twenty are in flight at once."""
    settings.WHATSAPP_MAX_WORKERS = 20
    for n in range(19):
        make_admin(username=f"extra_admin_{n}")
    barrier = threading.Barrier(20)
    sender = use_sender(FakeWhatsAppSender(gate=barrier))
    ticket = ticket_in(TicketStatus.NEW)

    rows = notify(ticket, E.TICKET_CREATED)

    assert len(rows) == 20 and not barrier.broken
    assert all(r.status == NotificationStatus.SENT for r in rows)
    assert len({call.thread for call in sender.calls}) == 20
    assert threading.current_thread().name not in {call.thread for call in sender.calls}
    assert NotificationLog.objects.filter(event=E.TICKET_CREATED).count() == 20


def test_an_event_sends_at_most_max_workers_at_once(cast, ticket_in, settings, notify, use_sender):
    settings.WHATSAPP_MAX_WORKERS = 2
    for n in range(6):
        make_admin(username=f"extra_admin_{n}")

    class Counting(FakeWhatsAppSender):
        in_flight = most = 0

        def _answer(self, *args):
            with self._lock:
                Counting.in_flight += 1
                Counting.most = max(Counting.most, Counting.in_flight)
            try:
                return super()._answer(*args)
            finally:
                with self._lock:
                    Counting.in_flight -= 1

    sender = use_sender(Counting())
    ticket = ticket_in(TicketStatus.NEW)
    notify(ticket, E.TICKET_CREATED)
    assert len(sender.calls) == 7 and Counting.most <= 2
    assert NotificationLog.objects.filter(status=NotificationStatus.SENT,
                                          event=E.TICKET_CREATED).count() == 7


def test_sends_past_the_time_bound_are_cut_off_and_say_so(
        cast, ticket_in, settings, monkeypatch, notify, use_sender):
    """The caller does not wait past the bound. A send in flight then is UNKNOWN (it may have gone
    out); one that never started is QUEUED again, due at once.

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

    def time_runs_out(futures, timeout, return_when):
        entered.wait(timeout=5)
        return set(), set(futures)

    monkeypatch.setattr(delivery, "wait", time_runs_out)
    use_sender(HeldSender())
    ticket = ticket_in(TicketStatus.NEW)
    try:
        rows = notify(ticket, E.TICKET_CREATED)
    finally:
        held.set()  # let the held threads finish

    in_flight = [r for r in rows if r.status == NotificationStatus.UNKNOWN]
    never_started = [r for r in rows if r.status == NotificationStatus.QUEUED]
    assert len(in_flight) == 2 and len(never_started) == 2
    assert all(r.error_message == delivery.NO_ANSWER_IN_TIME for r in in_flight)
    assert all(r.may_have_been_sent and len(r.callback_id) == 32 for r in in_flight)
    assert all(r.error_message.startswith(delivery.OUT_OF_TIME) for r in never_started)
    assert all(not r.may_have_been_sent and r.next_attempt_at <= timezone.now()
               for r in never_started)
    # Each has its attempt on record, with what happened to it.
    assert sorted(a.status for r in rows for a in r.attempts.all()) == [
        "FAILED", "FAILED", "UNKNOWN", "UNKNOWN"]


def test_a_send_whose_turn_comes_after_the_deadline_is_not_made(sender, cast, ticket_in):
    row = NotificationLog.objects.filter(event=E.TICKET_CREATED).first() or \
        NotificationLog(to="+201234567890", channel=Channel.WHATSAPP, message="hello")
    result = delivery._send(row, (sender, None, {}), deadline=0.0, backoff=0.0, sleep=lambda s: None)
    assert result.error_message == delivery.OUT_OF_TIME and sender.calls == []


def test_a_sender_that_raises_leaves_an_unknown_row_saying_so(cast, ticket_in, notify, use_sender):
    class Broken:
        def send_text(self, *, to, body, callback_data=""):
            raise RuntimeError("boom")

    use_sender(Broken())
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    # It may have raised after the request left: never called sent, never resent blindly.
    assert row.status == NotificationStatus.UNKNOWN
    assert "Internal error while sending (RuntimeError)" in row.error_message


def test_log_lines_for_success_and_failure(cast, ticket_in, sender, caplog, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    sender.results[cast.developer.profile.whatsapp_number] = SendResult(
        status=NotificationStatus.FAILED, error_code="190", error_message="The access token has expired",
    )
    caplog.set_level(logging.INFO, logger="notifications.outcomes")
    notify(ticket, E.DEVELOPER_ASSIGNED)
    wamid = NotificationLog.objects.get(recipient=cast.client,
                                        event=E.DEVELOPER_ASSIGNED).provider_message_id
    assert f"📱 WhatsApp sent to client: {wamid}" in caplog.messages
    failure = [m for m in caplog.messages if m.startswith("WhatsApp to dev failed")]
    assert "(DEVELOPER_ASSIGNED, ticket #" in failure[0]
    assert failure and "[code 190]" in failure[0] and "access token has expired" in failure[0]


def test_console_mode_prints_the_whole_message_and_skips(cast, ticket_in, capsys, notify, use_sender):
    use_sender(ConsoleWhatsAppClient())
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    out = capsys.readouterr().out
    assert row.message in out and cast.client.profile.whatsapp_number in out
    assert row.status == NotificationStatus.SKIPPED
    assert "Console mode" in row.error_message and "WHATSAPP_ACCESS_TOKEN" in row.error_message
    # A wamid of its own, printed, so a reply or a status can point to it.
    assert row.provider_message_id.startswith("wamid.CONSOLE") and row.provider_message_id in out


def test_in_console_mode_a_reply_quoting_a_message_and_a_tap_on_its_button_act_on_the_ticket(
        cast, ticket_in, capsys, client, notify, use_sender):
    from notifications.tests.test_inbound import send, tap, text

    use_sender(ConsoleWhatsAppClient())
    ticket = ticket_in(TicketStatus.NEW)
    [row] = notify(ticket, E.TICKET_CREATED)
    out = capsys.readouterr().out
    assert row.provider_message_id.startswith("wamid.CONSOLE") and row.provider_message_id in out
    open_payload = row.buttons[0][0]
    assert f"sends back: {open_payload}" in out
    send(client, text(cast.admin, "Looking at it", quoting=row.provider_message_id))
    assert ticket.events.filter(event=E.COMMENT_ADDED, note="Looking at it").exists()
    send(client, tap(cast.admin, open_payload))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPENED


def test_without_a_token_the_default_sender_is_console_mode(cast, ticket_in, settings, capsys, notify):
    settings.WHATSAPP_CLIENT_FACTORY = "notifications.whatsapp.clients.default_client"
    settings.WHATSAPP_ACCESS_TOKEN = ""
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    assert row.status == NotificationStatus.SKIPPED
    assert "WhatsApp (console mode)" in capsys.readouterr().out


def test_notifications_are_written_in_the_transaction_and_sent_after_commit(
        cast, sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = ticket_services.ticket_create(
            client=cast.client, title="T", description="D", project_name="P"
        )
        # Inside the ticket's transaction: the intent is there, nothing is sent.
        [row] = NotificationLog.objects.filter(ticket=ticket)
        assert (row.event, row.recipient, row.status) == (E.TICKET_CREATED, cast.admin, "QUEUED")
        assert row.to == cast.admin.profile.whatsapp_number and len(row.callback_id) == 32
        assert row.message.startswith("🎫 *New Ticket Created*") and row.attempt_count == 0
        assert sender.calls == []
    assert len(callbacks) == 1
    # The hook is a named function: Django's robust on_commit logs failures by its name.
    assert callbacks[0].__qualname__.endswith("deliver_ticket_notifications")
    callbacks[0]()
    row.refresh_from_db()
    assert (row.status, row.attempt_count) == (NotificationStatus.SENT, 1)
    assert [call.callback_data for call in sender.calls] == [row.callback_id]


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


def test_telling_more_admins_runs_no_more_queries(cast):
    """Writing an event's notifications reads every recipient in one query, whatever it needs of
    them (a field left out of RECIPIENT_FIELDS costs a query per person)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.tests.factories import make_admin
    from tickets import services as ticket_services

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            ticket_services.ticket_create(client=cast.client, title="t", description="d",
                                          project_name="p")
        return len(captured)

    few = queries()
    for n in range(8):
        make_admin(username=f"more{n}")
    assert queries() == few
