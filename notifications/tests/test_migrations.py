"""0004_ledger carries the old log (one row per attempt, chained by retry_of) over to the ledger
(one row per notification, with its attempts)."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("notifications", "0003_notificationinsights"), ("tickets", "0002_idempotency_key"),
          ("accounts", "0003_userprofile_whatsapp_last_inbound_at")]
AFTER = [("notifications", "0004_ledger")]


@pytest.mark.django_db(transaction=True)
def test_retry_chains_become_one_notification_with_its_attempts():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("auth", "User")
    Ticket = old.get_model("tickets", "Ticket")
    TicketEvent = old.get_model("tickets", "TicketEvent")
    Log = old.get_model("notifications", "NotificationLog")
    client = User.objects.create(username="c")
    ticket = Ticket.objects.create(client=client, title="T", description="D", project_name="P")
    event = TicketEvent.objects.create(ticket=ticket, event="TICKET_OPENED", to_status="OPENED",
                                       actor=client)

    def row(**fields):
        fields = {"channel": "WHATSAPP", "to": "+201000000003", **fields}
        return Log.objects.create(ticket=ticket, ticket_event=event, event="TICKET_OPENED",
                                  recipient=client, message="hello", **fields)

    first = row(status="FAILED", error_code="130429", http_status=429, error_message="rate")
    second = row(status="FAILED", retry_of=first, error_message="timeout", may_have_been_sent=True)
    third = row(status="SENT", retry_of=second, provider_message_id="wamid.THIRD",
                sent_at=timezone.now(), delivery_status="delivered")
    email = row(status="SKIPPED", channel="EMAIL", to="", error_message="no address")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Log = new.get_model("notifications", "NotificationLog")
    Attempt = new.get_model("notifications", "DeliveryAttempt")

    assert set(Log.objects.values_list("pk", flat=True)) == {first.pk, email.pk}
    kept = Log.objects.get(pk=first.pk)
    assert (kept.status, kept.provider_message_id, kept.attempt_count, kept.delivery_status) == (
        "SENT", "wamid.THIRD", 3, "delivered")
    assert list(Attempt.objects.filter(notification_id=first.pk).order_by("number").values_list(
        "number", "status", "error_code", "may_have_gone_out")) == [
        (1, "FAILED", "130429", False), (2, "FAILED", "", True), (3, "SENT", "", False)]
    assert Attempt.objects.get(notification_id=email.pk).status == "SKIPPED"
    assert third.pk not in set(Log.objects.values_list("pk", flat=True))
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the database as the suite expects
