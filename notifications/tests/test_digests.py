"""Storms become one message: past WHATSAPP_DIGEST_AFTER notifications to one person in a minute,
the rest wait and go as one digest; every covered row settles with the digest's send and reports."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, digests, services
from notifications.models import DIGEST, Channel, MessageType, NotificationLog, NotificationStatus
from notifications.sending import SendResult
from notifications.tests.test_webhooks import envelope, post, status
from tickets import services as tickets
from tickets.models import Priority, TicketEventType

pytestmark = pytest.mark.django_db
S = NotificationStatus
CREATED = TicketEventType.TICKET_CREATED


@pytest.fixture
def storm(cast, sender, monkeypatch, settings):
    """`count` tickets filed within the minute, each after-commit send done as a request does;
    returns a function moving the clock and running the timer pass."""
    settings.WHATSAPP_DIGEST_AFTER = 3
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])

    def file(count: int) -> None:
        for n in range(count):
            clock["now"] = start + timedelta(seconds=n)
            ticket = tickets.ticket_create(client=cast.client, title=f"Outage {n}",
                                           description="Down.", project_name="Shop",
                                           priority=Priority.MEDIUM, category="BUG")
            ids = NotificationLog.objects.filter(ticket=ticket).values_list("pk", flat=True)
            list(delivery.deliver(list(ids), sleep=lambda s: None))

    def at(seconds: float):
        clock["now"] = start + timedelta(seconds=seconds)
        return services.tick()

    return file, at


def admin_rows(cast):
    return NotificationLog.objects.filter(recipient=cast.admin, channel=Channel.WHATSAPP,
                                          event=CREATED).order_by("pk")


def test_a_burst_reaches_each_admin_as_three_messages_and_one_digest(cast, storm, sender):
    file, at = storm
    file(10)
    rows = list(admin_rows(cast))
    assert [row.digest_at is not None for row in rows] == [False] * 3 + [True] * 7
    assert all(row.next_attempt_at is None for row in rows[3:])
    number = cast.admin.profile.whatsapp_number
    assert len(sender.calls_to(number)) == 3  # the rest wait
    at(30)
    assert len(sender.calls_to(number)) == 3  # the first waiting one is due at 63 s
    at(64)
    calls = sender.calls_to(number)
    assert len(calls) == 4
    assert calls[-1].body.startswith("📬 *7 ticket updates*")
    assert "Outage 3" in calls[-1].body and "Outage 9" in calls[-1].body
    digest = NotificationLog.objects.get(event=DIGEST, recipient=cast.admin)
    covered = list(admin_rows(cast)[3:])
    assert {row.digest_id for row in covered} == {digest.pk}
    assert {(row.status, row.provider_message_id) for row in covered} == {
        (S.SENT, digest.provider_message_id)}
    at(200)
    assert len(sender.calls_to(number)) == 4  # nothing sent twice


def test_forty_new_tickets_are_a_handful_of_messages_per_admin(cast, storm, sender):
    file, at = storm
    file(40)
    at(65)
    at(130)
    number = cast.admin.profile.whatsapp_number
    assert len(sender.calls_to(number)) <= 5
    assert admin_rows(cast).filter(status=S.SENT).count() == 40


def test_the_digests_delivery_report_settles_every_row_it_covers(cast, storm, client):
    file, at = storm
    file(6)
    at(70)
    digest = NotificationLog.objects.get(event=DIGEST, recipient=cast.admin)
    response = post(client, json.dumps(envelope(statuses=[status(
        digest.provider_message_id, "delivered")])).encode())
    assert response.status_code == 200
    covered = admin_rows(cast).filter(digest=digest)
    assert covered.count() == 3
    assert set(covered.values_list("delivery_status", flat=True)) == {"delivered"}


def test_a_refused_digest_fails_every_row_it_covers_with_the_reason(cast, storm, sender):
    file, at = storm
    file(5)
    sender.results[cast.admin.profile.whatsapp_number] = SendResult(
        status=S.FAILED, error_code="131026", error_message="Message undeliverable.",
        http_status=400)
    at(70)
    covered = admin_rows(cast).filter(digest__isnull=False)
    assert covered.count() == 2
    assert set(covered.values_list("status", "error_code")) == {(S.FAILED, "131026")}


def test_outside_the_window_a_digest_is_the_ticket_digest_template(cast, storm, settings):
    settings.WHATSAPP_MESSAGE_MODE = "template"
    file, at = storm
    file(5)
    at(70)
    digest = NotificationLog.objects.get(event=DIGEST, recipient=cast.admin)
    assert (digest.message_type, digest.template_name) == (MessageType.TEMPLATE, "ticket_digest")
    assert digest.template_params[0] == "2 ticket updates"
    assert "Outage 3" in digest.template_params[1] and "Outage 4" in digest.template_params[1]


def test_one_waiting_row_goes_on_its_own_and_digests_can_be_turned_off(cast, storm, sender,
                                                                      settings):
    file, at = storm
    file(4)
    at(70)
    assert not NotificationLog.objects.filter(event=DIGEST).exists()
    assert admin_rows(cast).filter(status=S.SENT).count() == 4
    settings.WHATSAPP_DIGEST_AFTER = 0
    file(6)
    assert not admin_rows(cast).filter(digest_at__isnull=False, status=S.QUEUED).exists()


def test_a_long_digest_lists_what_fits_and_says_how_many_more():
    lines = [f"#{n} \"Ticket {n}\": Ticket created" for n in range(500)]
    text = digests.text("500 ticket updates", lines, 1024)
    assert len(text) <= 1024 and text.startswith("📬 *500 ticket updates*")
    assert "more" in text and "_Incident Management System_" in text


def test_a_page_is_never_held_for_a_digest(cast, storm, ticket_in):
    file, _ = storm
    file(5)  # the admin's storm: later rows to them wait
    ticket = ticket_in()
    event = ticket.events.get(event=CREATED)
    row = NotificationLog(ticket=ticket, ticket_event=event, recipient=cast.admin,
                          channel=Channel.WHATSAPP, event=TicketEventType.TICKET_PAGED,
                          status=S.QUEUED, next_attempt_at=timezone.now())
    other = NotificationLog(ticket=ticket, ticket_event=event, recipient=cast.admin,
                            channel=Channel.WHATSAPP, event=CREATED, status=S.QUEUED,
                            next_attempt_at=timezone.now())
    digests.mark([row, other], timezone.now())
    assert (row.digest_at, other.digest_at is not None) == (None, True)
