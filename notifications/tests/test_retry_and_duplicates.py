"""Retries, decided in one place (outcomes.decide), and "nobody is told twice"."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import delivery
from notifications.sending import Failure, SendResult
from notifications.outcomes import MAX_ATTEMPTS, Next, decide
from notifications.whatsapp.channel import classify
from notifications.models import Channel, NotificationLog, NotificationStatus
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

F = NotificationStatus.FAILED


def failed(**fields) -> SendResult:
    return SendResult(status=F, error_message="x", **fields)


@pytest.mark.parametrize("result, next_step", [
    (failed(failure=Failure.NOT_SENT, temporary=True), Next.RETRY_NOW),  # refused connection
    (failed(failure=Failure.BAD_ANSWER, http_status=503, temporary=True), Next.RETRY_NOW),  # HTML 503
    # A gateway's 504 (or 502) may have passed the message on before giving up waiting.
    (failed(failure=Failure.BAD_ANSWER, http_status=504, temporary=True), Next.UNKNOWN),
    (failed(failure=Failure.BAD_ANSWER, http_status=502, temporary=True), Next.UNKNOWN),
    (failed(failure=Failure.PROVIDER_ERROR, http_status=504, temporary=True), Next.UNKNOWN),
    (failed(failure=Failure.PROVIDER_ERROR, http_status=503, temporary=True), Next.RETRY_NOW),
    # Meta's rate limits: the number's throughput, one recipient's pace. Waiting clears them.
    (failed(failure=Failure.PROVIDER_ERROR, error_code="130429", http_status=429, temporary=True),
     Next.RETRY_LATER),
    # Meta: "something went wrong"; our own advice says it may have gone out.
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131000", http_status=500, temporary=True),
     Next.UNKNOWN),
    (failed(failure=Failure.OUTCOME_UNKNOWN), Next.UNKNOWN),  # timeout: it may have gone out
    (failed(failure=Failure.BAD_ANSWER, http_status=200), Next.UNKNOWN),  # 200 without an id
    (failed(failure=Failure.INTERNAL), Next.UNKNOWN),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="80007", http_status=400, temporary=True),
     Next.RETRY_LATER),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131056", http_status=400, temporary=True),
     Next.RETRY_LATER),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="190", http_status=401), Next.NEVER),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131030", http_status=400), Next.NEVER),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131047", http_status=400), Next.NEVER),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="3", http_status=500), Next.NEVER),
    (SendResult(status=NotificationStatus.SENT, message_id="wamid.x"), Next.DONE),
    (SendResult(status=NotificationStatus.SKIPPED), Next.DONE),
])
def test_what_happens_after_each_answer(result, next_step):
    # As the WhatsApp channel reads each answer (its class), then the one policy decides.
    assert decide(classify(result)) is next_step


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_refused_connection_is_retried_twice_with_backoff_then_queued_for_later(
    cast, ticket_in, sender, notify, sleeps, settings
):
    settings.WHATSAPP_RETRY_BACKOFF = [0.2, 0.6]
    number = cast.client.profile.whatsapp_number
    sender.results[number] = failed(failure=Failure.NOT_SENT, temporary=True)
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)

    assert len(sender.calls_to(number)) == 3
    assert sleeps == [0.2, 0.6]
    # One notification with three attempts; nothing went out, so it waits for a later try.
    assert row.status == NotificationStatus.QUEUED and row.attempt_count == 3
    assert row.next_attempt_at > timezone.now() and "Next try after" in row.error_message
    assert [a.status for a in row.attempts.all()] == [F, F, F]
    # Every attempt carries the notification's one callback id.
    assert {call.callback_data for call in sender.calls} == {row.callback_id}


@pytestmark_db
def test_a_retry_that_succeeds_ends_sent(cast, ticket_in, sender, notify):
    number = cast.client.profile.whatsapp_number
    sender.results[number] = [
        failed(failure=Failure.PROVIDER_ERROR, http_status=503, temporary=True),
        SendResult(status=NotificationStatus.SENT, message_id="wamid.SECOND", http_status=200),
    ]
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert (row.status, row.provider_message_id, row.error_code) == ("SENT", "wamid.SECOND", "")
    assert [(a.number, a.status, a.http_status) for a in row.attempts.all()] == [
        (1, F, 503), (2, "SENT", 200)]


@pytestmark_db
@pytest.mark.parametrize("result, status", [
    (failed(failure=Failure.OUTCOME_UNKNOWN), NotificationStatus.UNKNOWN),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131000", http_status=500, temporary=True),
     NotificationStatus.UNKNOWN),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131030", http_status=400), F),
])
def test_timeouts_131000_and_permanent_errors_are_never_retried(
        cast, ticket_in, sender, notify, sleeps, result, status):
    number = cast.client.profile.whatsapp_number
    sender.results[number] = result
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert len(sender.calls_to(number)) == 1 and sleeps == []
    assert row.status == status and row.next_attempt_at is None
    assert row.may_have_been_sent is (status == NotificationStatus.UNKNOWN)


@pytestmark_db
def test_no_immediate_retry_when_it_would_not_fit_in_the_time_bound(
        cast, ticket_in, sender, notify, monkeypatch):
    monkeypatch.setattr(delivery, "time_bound", lambda: 0.5)  # less than one more attempt takes
    number = cast.client.profile.whatsapp_number
    sender.results[number] = failed(failure=Failure.NOT_SENT, temporary=True)
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert len(sender.calls_to(number)) == 1
    assert row.status == NotificationStatus.QUEUED  # tried again later, by the recovery pass


@pytest.fixture
def refused_for_now(cast, ticket_in, sender, notify, settings):
    """The client's "opened" message refused for a passing reason (`code`), no immediate retry."""

    def run(code: str):
        settings.WHATSAPP_RETRY_BACKOFF = []
        number = cast.client.profile.whatsapp_number
        sender.results[number] = failed(failure=Failure.PROVIDER_ERROR, error_code=code,
                                        http_status=400, temporary=True)
        ticket = ticket_in(TicketStatus.OPENED)
        [row] = notify(ticket, E.TICKET_OPENED)
        return ticket, row, number

    return run


@pytestmark_db
def test_after_the_last_automatic_try_it_is_failed(refused_for_now, sender, notify):
    ticket, row, number = refused_for_now("80007")
    for _ in range(MAX_ATTEMPTS - 1):
        assert row.status == NotificationStatus.QUEUED
        NotificationLog.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        [row] = notify(ticket, E.TICKET_OPENED)
    assert (row.status, row.attempt_count) == (F, MAX_ATTEMPTS)
    assert len(sender.calls_to(number)) == MAX_ATTEMPTS


@pytestmark_db
def test_a_queued_retry_is_not_sent_before_it_is_due(refused_for_now, sender, notify):
    ticket, row, number = refused_for_now("131056")
    assert row.next_attempt_at - timezone.now() > timedelta(seconds=20)
    notify(ticket, E.TICKET_OPENED)
    assert len(sender.calls_to(number)) == 1


@pytestmark_db
def test_running_an_event_twice_tells_nobody_twice(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    first = notify(ticket, E.DEVELOPER_ASSIGNED)
    again = notify(ticket, E.DEVELOPER_ASSIGNED)
    assert len(first) == 2 and [r.attempt_count for r in again] == [1, 1]
    assert len(sender.calls) == 2


@pytestmark_db
def test_the_database_refuses_a_second_notification_for_the_same_event_recipient_channel(
        cast, ticket_in, notify):
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationLog.objects.create(
            ticket=ticket, ticket_event=row.ticket_event, event=row.event, recipient=row.recipient,
            channel=Channel.WHATSAPP, to=row.to, message="dup", status=NotificationStatus.QUEUED)
    # Another channel for the same person is another notification.
    NotificationLog.objects.create(
        ticket=ticket, ticket_event=row.ticket_event, event=row.event, recipient=row.recipient,
        channel=Channel.EMAIL, to="client@example.com", message="email")
