"""Automatic retries (what is retried, what never is) and "nobody is told twice"."""
import pytest
from django.db import IntegrityError, transaction

from notifications import delivery
from notifications.clients.base import Failure, SendResult
from notifications.delivery import should_retry
from notifications.models import Channel, NotificationLog, NotificationStatus
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

F = NotificationStatus.FAILED


def failed(**fields) -> SendResult:
    return SendResult(status=F, error_message="x", **fields)


@pytest.mark.parametrize("result, retry", [
    (failed(failure=Failure.NOT_SENT, temporary=True), True),  # refused connection
    (failed(failure=Failure.BAD_ANSWER, http_status=502, temporary=True), True),  # HTML 502
    (failed(failure=Failure.PROVIDER_ERROR, http_status=503, temporary=True), True),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131000", http_status=500, temporary=True), True),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="130429", http_status=429, temporary=True), True),
    (failed(failure=Failure.OUTCOME_UNKNOWN), False),  # timeout: it may have gone out
    (failed(failure=Failure.PROVIDER_ERROR, error_code="190", http_status=401), False),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131030", http_status=400), False),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="131047", http_status=400), False),
    (failed(failure=Failure.PROVIDER_ERROR, error_code="3", http_status=500), False),  # permanent 5xx
    (failed(failure=Failure.PROVIDER_ERROR, error_code="80007", http_status=400, temporary=True), False),
    (failed(failure=Failure.BAD_ANSWER, http_status=200), False),  # 200 without id: may be sent
    (failed(failure=Failure.INTERNAL), False),
    (SendResult(status=NotificationStatus.SENT, message_id="wamid.x"), False),
    (SendResult(status=NotificationStatus.SKIPPED), False),
])
def test_what_is_retried(result, retry):
    assert should_retry(result) is retry


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_refused_connection_is_retried_twice_with_backoff_then_logged(
    cast, ticket_in, sender, notify, sleeps, settings
):
    settings.WHATSAPP_RETRY_BACKOFF = [0.2, 0.6]
    number = cast.client.profile.whatsapp_number
    sender.results[number] = failed(failure=Failure.NOT_SENT, temporary=True)
    rows = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)

    assert len(sender.calls_to(number)) == 3
    assert sleeps == [0.2, 0.6]
    assert [r.status for r in rows] == [F, F, F]
    assert [r.retry_of_id for r in rows] == [None, rows[0].pk, rows[1].pk]
    assert len({r.callback_id for r in rows}) == 3  # each attempt its own callback id


@pytestmark_db
def test_a_retry_that_succeeds_ends_the_chain_sent(cast, ticket_in, sender, notify):
    number = cast.client.profile.whatsapp_number
    sender.results[number] = [
        failed(failure=Failure.PROVIDER_ERROR, error_code="131000", http_status=500, temporary=True),
        SendResult(status=NotificationStatus.SENT, message_id="wamid.SECOND", http_status=200),
    ]
    rows = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert [(r.status, r.error_code) for r in rows] == [(F, "131000"), ("SENT", "")]
    assert rows[1].provider_message_id == "wamid.SECOND" and rows[1].retry_of == rows[0]


@pytestmark_db
@pytest.mark.parametrize("result", [
    failed(failure=Failure.OUTCOME_UNKNOWN),
    failed(failure=Failure.PROVIDER_ERROR, error_code="131030", http_status=400),
])
def test_timeouts_and_permanent_errors_are_never_retried(cast, ticket_in, sender, notify, sleeps, result):
    number = cast.client.profile.whatsapp_number
    sender.results[number] = result
    rows = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert len(sender.calls_to(number)) == 1 and len(rows) == 1 and sleeps == []


@pytestmark_db
def test_no_retry_when_it_would_not_fit_in_the_time_bound(cast, ticket_in, sender, notify, monkeypatch):
    monkeypatch.setattr(delivery, "time_bound", lambda: 0.5)  # less than one more attempt takes
    number = cast.client.profile.whatsapp_number
    sender.results[number] = failed(failure=Failure.NOT_SENT, temporary=True)
    notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert len(sender.calls_to(number)) == 1


@pytestmark_db
def test_running_an_event_twice_tells_nobody_twice(cast, ticket_in, sender, notify):
    ticket = ticket_in(TicketStatus.ASSIGNED)
    first = notify(ticket, E.DEVELOPER_ASSIGNED)
    again = notify(ticket, E.DEVELOPER_ASSIGNED)
    assert len(first) == 2 and again == []
    assert len(sender.calls) == 2


@pytestmark_db
def test_the_database_refuses_a_second_first_attempt(cast, ticket_in, notify):
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationLog.objects.create(
            ticket=ticket, ticket_event=row.ticket_event, event=row.event, recipient=row.recipient,
            channel=Channel.WHATSAPP, to=row.to, message="dup", status=NotificationStatus.SENT)
    # A retry of it is fine: it points at what it repeats.
    NotificationLog.objects.create(
        ticket=ticket, ticket_event=row.ticket_event, event=row.event, recipient=row.recipient,
        channel=Channel.WHATSAPP, to=row.to, message="retry", status=NotificationStatus.SENT,
        retry_of=row)
