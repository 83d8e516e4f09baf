"""The email channel, the email fallback, and resending (admin action and command)."""
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from notifications import services
from notifications.clients.base import Failure, SendResult
from notifications.models import Channel, MessageType, NotificationLog, NotificationStatus
from tickets.models import TicketEventType as E
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
F, S, K = NotificationStatus.FAILED, NotificationStatus.SENT, NotificationStatus.SKIPPED


def permanent(code="131030") -> SendResult:
    return SendResult(status=F, error_code=code, http_status=400, error_message="refused",
                      failure=Failure.PROVIDER_ERROR)


# --- email channel ----------------------------------------------------------------------------------


def test_whatsapp_and_email_channels_give_a_row_each(cast, ticket_in, settings, notify):
    settings.NOTIFICATION_CHANNELS = ["whatsapp", "email"]
    cast.developer.email = ""
    cast.developer.save()
    rows = notify(ticket_in(TicketStatus.ASSIGNED), E.DEVELOPER_ASSIGNED)

    by_key = {(r.recipient.username, r.channel): r for r in rows}
    assert set(by_key) == {("dev", "WHATSAPP"), ("dev", "EMAIL"), ("client", "WHATSAPP"), ("client", "EMAIL")}
    assert by_key[("dev", "EMAIL")].status == K
    assert by_key[("dev", "EMAIL")].error_message == services.NO_EMAIL
    email_row = by_key[("client", "EMAIL")]
    assert (email_row.status, email_row.to, email_row.message_type) == (S, "client@example.com", MessageType.EMAIL)
    assert email_row.provider_message_id.startswith("<")  # the Message-ID header

    [message] = mail.outbox
    assert message.to == ["client@example.com"]
    assert message.subject.endswith("A Developer Has Been Assigned") and "[Ticket #" in message.subject
    assert "*" not in message.body and "Hello John Doe," in message.body


def test_email_only_with_the_setting(cast, ticket_in, notify):
    notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert mail.outbox == []
    assert set(NotificationLog.objects.values_list("channel", flat=True)) == {"WHATSAPP"}


@pytest.mark.parametrize("whatsapp_result, falls_back", [
    (permanent(), True),
    (SendResult(status=F, error_code="130429", http_status=429, temporary=True,
                failure=Failure.PROVIDER_ERROR), False),
    (SendResult(status=F, failure=Failure.OUTCOME_UNKNOWN), False),  # it may have arrived
])
def test_fallback_emails_when_whatsapp_fails_for_good(
    cast, ticket_in, settings, sender, notify, whatsapp_result, falls_back
):
    settings.NOTIFICATION_EMAIL_FALLBACK = True
    settings.WHATSAPP_RETRY_BACKOFF = []
    sender.results[cast.client.profile.whatsapp_number] = whatsapp_result
    rows = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    channels = [r.channel for r in rows]
    assert channels == (["WHATSAPP", "EMAIL"] if falls_back else ["WHATSAPP"])
    assert len(mail.outbox) == int(falls_back)


def test_fallback_emails_whoever_has_no_number(cast, ticket_in, settings, notify):
    settings.NOTIFICATION_EMAIL_FALLBACK = True
    cast.client.profile.whatsapp_number = ""
    cast.client.profile.save()
    rows = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert [(r.channel, r.status) for r in rows] == [("WHATSAPP", K), ("EMAIL", S)]
    assert "Your Ticket Has Been Opened" in mail.outbox[0].subject


def test_fallback_is_off_by_default(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = permanent()
    notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert mail.outbox == []


def test_a_mail_server_failure_is_a_failed_row(cast, ticket_in, settings, notify):
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.channel == Channel.EMAIL and row.status == F
    assert "EMAIL_HOST" in row.error_message


# --- resend -----------------------------------------------------------------------------------------


@pytest.fixture
def failed_row(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = permanent()
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    return row


def test_resend_makes_a_new_row_linked_to_the_old_one(failed_row, sender, sleeps):
    [new] = services.resend([failed_row], whatsapp=sender, sleep=sleeps.append)
    assert (new.status, new.retry_of, new.message) == (S, failed_row, failed_row.message)
    assert new.ticket_event == failed_row.ticket_event
    failed_row.refresh_from_db()
    assert failed_row.status == F  # the old attempt stays as it was


def test_a_row_later_sent_is_never_resent(failed_row, sender):
    calls_before = len(sender.calls)
    services.resend([failed_row], whatsapp=sender)
    again = services.resend([failed_row], whatsapp=sender)
    assert again == []
    assert len(sender.calls) == calls_before + 1


def test_sent_rows_are_never_resent(cast, ticket_in, sender, notify):
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert services.resend([row], whatsapp=sender) == []
    assert len(sender.calls) == 1


def test_a_skipped_row_is_resent_to_the_number_added_since(cast, ticket_in, sender, notify):
    cast.client.profile.whatsapp_number = ""
    cast.client.profile.save()
    [skipped] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    cast.client.profile.whatsapp_number = "+201234567890"
    cast.client.profile.save()
    [new] = services.resend([skipped], whatsapp=sender)
    assert (new.status, new.to) == (S, "+201234567890")


def test_a_text_refused_for_the_24_hour_window_is_resent_as_a_template(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = permanent("131047")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    [new] = services.resend([row], whatsapp=sender)
    assert new.message_type == MessageType.TEMPLATE
    assert sender.calls[-1].template.name == "ticket_opened"
    assert sender.calls[-1].template.params == row.template_params


def test_admin_action_resends_the_selected_rows(staff, failed_row, settings):
    settings.WHATSAPP_CLIENT_FACTORY = "notifications.tests.test_email_and_resend.always_sent"
    response = staff.post("/admin/notifications/notificationlog/", {
        "action": "resend_selected", "_selected_action": [failed_row.pk]}, follow=True)
    assert response.status_code == 200
    assert "Resent 1 notification(s): 1 sent" in response.content.decode()
    assert NotificationLog.objects.get(retry_of=failed_row).status == S


def always_sent():
    """A WHATSAPP_CLIENT_FACTORY for the admin test: every send succeeds."""
    from notifications.tests.fakes import FakeWhatsAppSender

    return FakeWhatsAppSender()


def test_command_resends_recent_failures_with_filters(failed_row, cast, ticket_in, notify, sender, settings, capsys):
    settings.WHATSAPP_CLIENT_FACTORY = "notifications.tests.test_email_and_resend.always_sent"
    sender.results[cast.developer.profile.whatsapp_number] = permanent()
    notify(ticket_in(TicketStatus.ASSIGNED), E.DEVELOPER_ASSIGNED)  # another failure, other event
    old = NotificationLog.objects.filter(status=F).exclude(pk=failed_row.pk).get()
    uncertain = NotificationLog.objects.create(
        ticket=failed_row.ticket, event=E.TICKET_OPENED, recipient=cast.admin, to="+201000000001",
        message="m", status=F, may_have_been_sent=True)

    call_command("resend_failed_notifications", "--event", "TICKET_OPENED", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run: 1 notification(s) would be resent." in out
    assert not NotificationLog.objects.filter(retry_of__isnull=False).exists()

    NotificationLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    call_command("resend_failed_notifications", "--since", "24")
    assert "Resent 1 notification(s) in 1 attempt(s): 1 sent" in capsys.readouterr().out
    assert NotificationLog.objects.get(retry_of=failed_row).status == S
    assert not NotificationLog.objects.filter(retry_of__in=[old, uncertain]).exists()

    call_command("resend_failed_notifications", "--include-uncertain", "--since", "48")
    assert NotificationLog.objects.filter(retry_of__in=[old, uncertain]).count() == 2


def test_command_rejects_bad_arguments():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("resend_failed_notifications", "--since", "-1")
    with pytest.raises(CommandError):
        call_command("resend_failed_notifications", "--event", "NOT_AN_EVENT")
