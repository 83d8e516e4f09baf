"""Claims, resends and recovery passes racing each other on PostgreSQL: every notification goes
out exactly once, whoever wins."""
import pytest

from accounts.tests.factories import make_admin
from notifications import delivery, outcomes, services
from notifications.sending import Failure, SendResult
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20
S = NotificationStatus


@pytest.fixture(autouse=True)
def _postgres_only():
    skip_unless_postgres()


@pytest.fixture
def queued(cast, sender, monkeypatch):
    """A new ticket's notifications to six admins, committed but not yet sent: the process died
    before its after-commit step."""
    from tickets.services import ticket_create

    for n in range(5):
        make_admin(username=f"extra_admin_{n}")
    monkeypatch.setattr(services, "_after_commit", lambda rows: lambda: None)
    ticket = ticket_create(client=cast.client, title="T", description="D", project_name="P")
    monkeypatch.undo()
    rows = list(NotificationLog.objects.filter(ticket=ticket, event=E.TICKET_CREATED))
    assert len(rows) == 6 and {r.status for r in rows} == {S.QUEUED}
    return rows


def test_twenty_deliverers_of_the_same_rows_send_each_once(queued, sender):
    ids = [row.pk for row in queued]
    assert len(all_at_once(THREADS, lambda: list(delivery.deliver(ids)))) == THREADS  # none raised
    assert sorted(call.to for call in sender.calls) == sorted(row.to for row in queued)
    for row in NotificationLog.objects.filter(pk__in=ids):
        assert (row.status, row.attempt_count, row.attempts.count()) == (S.SENT, 1, 1)


def test_twenty_recovery_passes_at_once_send_each_once(queued, sender):
    assert len(all_at_once(THREADS, lambda: services.recover())) == THREADS  # none raised
    assert sorted(call.to for call in sender.calls) == sorted(row.to for row in queued)
    assert set(NotificationLog.objects.values_list("status", flat=True)) == {S.SENT}


def test_twenty_resends_of_one_failed_row_send_once(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=S.FAILED, error_code="131030", http_status=400, error_message="not allowed",
        failure=Failure.PROVIDER_ERROR)
    ticket = ticket_in(TicketStatus.OPENED)  # committed at once: its notifications go out
    row = NotificationLog.objects.get(ticket=ticket, event=E.TICKET_OPENED)
    assert row.status == S.FAILED
    sender.results.clear()
    calls_before = len(sender.calls)

    def resend():
        # Each admin acts on the row as their own page showed it.
        return services.resend([NotificationLog.objects.get(pk=row.pk)])

    assert len(all_at_once(THREADS, resend)) == THREADS  # none raised
    assert len(sender.calls) - calls_before == 1
    row.refresh_from_db()
    assert (row.status, row.attempt_count) == (S.SENT, 2)


def test_a_failed_answer_write_on_postgresql_leaves_the_row_unknown_and_the_connection_usable(
        queued, sender, monkeypatch):
    """Outside any caller's transaction (as after a real commit), a failed write of the answers
    is rolled back, said on the rows, and leaves the connection working."""
    settle = outcomes._settle

    def broken(outcomes, now):
        sql, values = settle(outcomes, now)
        return sql.replace("claim = v.claim,", "claim = v.claim, no_such_column = 1,"), values

    monkeypatch.setattr(outcomes, "_settle", broken)
    ids = [row.pk for row in queued]
    delivery.deliver(ids)
    rows = NotificationLog.objects.filter(pk__in=ids)
    assert {row.status for row in rows} == {S.UNKNOWN}
    assert all("could not be recorded (ProgrammingError)" in row.error_message for row in rows)
