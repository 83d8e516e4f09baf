"""Each door does only its own work: the webhook answers Meta before any message it caused goes
to Graph, and an admin bulk action commits every ticket, then sends all their notifications
together in one call (one time bound), not one per ticket. Real commits: these run on-commit hooks
as production does."""
import json
import threading

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import make_admin

from Incident import deferred
from notifications import delivery
from notifications.models import NotificationLog, NotificationStatus
from notifications.tests.fakes import FakeWhatsAppSender
from notifications.tests.test_inbound import notified, tap
from notifications.tests.test_webhooks import envelope, post
from notifications.whatsapp.views import ThenSend
from tickets.models import TicketEventType, TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deliveries(monkeypatch) -> list[list[int]]:
    """The ids each inline delivery was given, in order."""
    calls: list[list[int]] = []
    real = delivery.deliver

    def spy(ids, **kwargs):
        calls.append(sorted(ids))
        return real(ids, **kwargs)

    monkeypatch.setattr(delivery, "deliver", spy)
    return calls


def test_the_webhook_answers_before_any_graph_call(client, cast, ticket_in, sender, monkeypatch):
    ticket = ticket_in(TicketStatus.FINISHED)  # its notifications went out as each change committed
    close, seen_at_close, before = ThenSend.close, [], len(sender.calls)

    def closing(response):  # what Graph had been asked when the server closed the response
        seen_at_close.append(len(sender.calls))
        close(response)

    monkeypatch.setattr(ThenSend, "close", closing)
    close_button, _ = notified(ticket, TicketEventType.WORK_FINISHED, cast.client).buttons
    response = post(client, json.dumps(envelope(messages=[tap(cast.client, close_button[0])]))
                    .encode())
    assert response.status_code == 200
    response.sent.result(timeout=30)  # the held-back sends, on a thread of their own
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED  # acted on in the webhook's own transaction
    assert seen_at_close == [before]  # nothing had gone to Graph when Meta got its answer
    # Then the answer and the developer's "ticket closed" went out, after the response.
    sent_to = {call.to for call in sender.calls[before:]}
    assert {cast.client.profile.whatsapp_number, cast.developer.profile.whatsapp_number} <= sent_to


def test_an_admin_bulk_action_sends_every_tickets_rows_in_one_call(
        client, cast, ticket_in, sender, deliveries):
    tickets = [ticket_in(TicketStatus.NEW) for _ in range(3)]
    deliveries.clear()  # the tickets' creation
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.set_password("pw")
    cast.admin.save()
    client.login(username="admin", password="pw")
    client.post("/admin/tickets/ticket/", {"action": "open_tickets",
                                           "_selected_action": [t.pk for t in tickets]})
    opened = sorted(NotificationLog.objects.filter(event=TicketEventType.TICKET_OPENED)
                    .values_list("pk", flat=True))
    assert len(opened) == 3 and deliveries == [opened]
    assert {row.status for row in NotificationLog.objects.filter(pk__in=opened)} == {
        NotificationStatus.SENT}


def test_outside_a_deferring_scope_work_runs_at_once_and_nested_scopes_gather_in_the_outer():
    ran = []
    assert deferred.defer(ran.extend, [1]) is False and ran == []
    with deferred.deferring() as outer:
        assert deferred.defer(ran.extend, [1])
        with deferred.deferring() as inner:
            assert deferred.defer(ran.extend, [2])
        inner.run()
        assert ran == []
    outer.run()
    assert ran == [1, 2]


class SlowFor(FakeWhatsAppSender):
    """One number's phone never answers (until the test ends); every other answers at once."""

    def __init__(self, number: str):
        super().__init__()
        self.number, self.release = number, threading.Event()

    def _answer(self, to, body, template, callback_data, buttons=()):
        if to == self.number:
            self.release.wait(timeout=30)
        return super()._answer(to, body, template, callback_data, buttons)


@pytest.mark.postgres
def test_concurrent_creates_with_a_slow_number_each_send_their_own_rows_only(
        cast, sender, use_sender, settings):
    skip_unless_postgres()
    settings.WHATSAPP_TIMEOUT = 0.2  # the bound: 0.2 + 0.2 + 1 s
    for n in range(3):
        make_admin(username=f"admin{n}")
    slow = use_sender(SlowFor(cast.admin.profile.whatsapp_number))
    titles = iter(range(8))

    def create() -> int:
        client = APIClient()
        client.force_authenticate(cast.client)
        return client.post("/api/tickets/", {"title": f"Down {next(titles)}", "description": "d",
                                             "project_name": "p"}, format="json").status_code

    try:
        assert all_at_once(8, create) == [201] * 8
    finally:
        slow.release.set()
    rows = list(NotificationLog.objects.all())
    assert len(rows) == 8 * 4
    # One claim per request, and each claim holds one ticket's rows: nobody sent another's.
    tickets_per_claim = {}
    for row in rows:
        tickets_per_claim.setdefault(row.claim or f"settled-{row.pk}", set()).add(row.ticket_id)
    assert all(len(tickets) == 1 for tickets in tickets_per_claim.values())
    slow_rows = [row for row in rows if row.to == cast.admin.profile.whatsapp_number]
    assert {row.status for row in slow_rows} == {NotificationStatus.UNKNOWN}
    assert {row.status for row in rows if row not in slow_rows} == {NotificationStatus.SENT}


@pytest.mark.django_db
def test_a_task_that_comes_while_this_process_drains_makes_that_drain_go_once_more(monkeypatch):
    """One drain per worker process: a second task returns at once, and the running drain goes
    again before it stops, so the rows that task was about are claimed all the same."""
    running, release, runs = threading.Event(), threading.Event(), []

    def drain(**kwargs):
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            running.set()
            assert release.wait(timeout=30)
        return []

    monkeypatch.setattr(delivery, "drain", drain)
    first = threading.Thread(target=delivery.drain_once_here, name="first")
    first.start()
    assert running.wait(timeout=30)
    delivery.drain_once_here()  # another task, on another thread of the same worker
    assert runs == ["first"]  # it did not start a drain of its own
    release.set()
    first.join(timeout=30)
    assert runs == ["first", "first"]  # the running drain went once more
    delivery.drain_once_here()  # nothing running: a task drains itself
    assert runs == ["first", "first", "MainThread"]
