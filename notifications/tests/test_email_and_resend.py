"""The email channel, the email fallback, and resending (admin action and command)."""
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from notifications import services
from notifications.email.channel import NO_EMAIL
from notifications.sending import Failure, SendResult
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
    assert by_key[("dev", "EMAIL")].error_message == NO_EMAIL
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


def test_a_mail_server_failure_is_queued_for_a_later_try_saying_why(cast, ticket_in, settings, notify):
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert row.channel == Channel.EMAIL and row.status == NotificationStatus.QUEUED
    assert "EMAIL_HOST" in row.error_message and row.next_attempt_at is not None
    assert row.attempts.get().status == F


# --- resend -----------------------------------------------------------------------------------------


@pytest.fixture
def failed_row(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = permanent()
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    return row


def test_resend_is_a_new_attempt_of_the_same_notification(failed_row, sender, sleeps):
    [again] = services.resend([failed_row], sleep=sleeps.append)
    assert again.pk == failed_row.pk
    assert (again.status, again.message, again.attempt_count) == (S, failed_row.message, 2)
    assert [(a.number, a.status) for a in again.attempts.all()] == [(1, F), (2, S)]
    assert NotificationLog.objects.filter(ticket_event=failed_row.ticket_event).count() == 1


def test_a_row_resent_and_sent_is_never_resent(failed_row, sender):
    calls_before = len(sender.calls)
    services.resend([failed_row])
    assert services.resend([failed_row]) == []
    assert len(sender.calls) == calls_before + 1


def test_a_resend_of_a_stale_copy_sends_nothing(failed_row, sender):
    """Two people looking at the same FAILED row: the second acts on what they saw, which has
    changed since (the first resend made an attempt that failed again)."""
    sender.results[failed_row.to] = permanent()
    stale_copy = NotificationLog.objects.get(pk=failed_row.pk)
    services.resend([failed_row])
    calls = len(sender.calls)
    assert services.resend([stale_copy]) == []
    assert len(sender.calls) == calls


def test_sent_rows_are_never_resent(cast, ticket_in, sender, notify):
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert services.resend([row]) == []
    assert len(sender.calls) == 1


def test_unknown_rows_are_resent_only_when_asked(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=F, failure=Failure.OUTCOME_UNKNOWN, error_message="timeout")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    assert row.status == NotificationStatus.UNKNOWN
    assert services.resend([row]) == []
    [again] = services.resend([row], include_uncertain=True)
    assert again.status == S and len(sender.calls) == 2


def test_a_row_meta_reported_delivered_is_never_resent(failed_row, sender):
    NotificationLog.objects.filter(pk=failed_row.pk).update(delivery_status="delivered")
    assert services.resend([failed_row], include_uncertain=True) == []
    assert len(sender.calls) == 1


def test_a_skipped_row_is_resent_to_the_number_added_since(cast, ticket_in, sender, notify):
    cast.client.profile.whatsapp_number = ""
    cast.client.profile.save()
    [skipped] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    cast.client.profile.whatsapp_number = "+201234567890"
    cast.client.profile.save()
    [again] = services.resend([skipped])
    assert (again.status, again.to) == (S, "+201234567890")


def test_a_text_refused_for_the_24_hour_window_is_resent_as_a_template(cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = permanent("131047")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    [again] = services.resend([row])
    assert again.message_type == MessageType.TEMPLATE
    assert again.message.startswith("[template ticket_opened (en_US)]")
    assert sender.calls[-1].template.name == "ticket_opened"
    assert sender.calls[-1].template.params == row.template_params


def test_admin_action_resends_the_selected_rows(staff, failed_row):
    response = staff.post("/admin/notifications/notificationlog/", {
        "action": "resend_selected", "_selected_action": [failed_row.pk]}, follow=True)
    assert response.status_code == 200
    assert "Resent 1 notification(s): 1 sent" in response.content.decode()
    failed_row.refresh_from_db()
    assert (failed_row.status, failed_row.attempt_count) == (S, 2)


def test_admin_asks_before_resending_an_unknown_row(staff, cast, ticket_in, sender, notify):
    sender.results[cast.client.profile.whatsapp_number] = SendResult(
        status=F, failure=Failure.OUTCOME_UNKNOWN, error_message="No answer within 10 s")
    [row] = notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    sender.results.clear()
    url = "/admin/notifications/notificationlog/"
    plain = staff.post(url, {"action": "resend_selected", "_selected_action": [row.pk]}, follow=True)
    assert "1 passed over" in plain.content.decode()
    asked = staff.post(url, {"action": "resend_including_unknown", "_selected_action": [row.pk]})
    page = asked.content.decode()
    assert asked.status_code == 200 and "may give the person the same message twice" in page
    assert 'name="confirm" value="yes"' in page and len(sender.calls) == 1
    staff.post(url, {"action": "resend_including_unknown", "_selected_action": [row.pk],
                     "confirm": "yes"}, follow=True)
    row.refresh_from_db()
    assert row.status == S and len(sender.calls) == 2


def test_the_notification_page_lists_its_attempts(staff, failed_row):
    services.resend([failed_row])
    page = staff.get(f"/admin/notifications/notificationlog/{failed_row.pk}/change/").content.decode()
    assert "Attempts" in page and "refused" in page and "wamid.fake" in page


def test_command_resends_recent_failures_with_filters(failed_row, cast, ticket_in, notify, sender, capsys):
    sender.results[cast.developer.profile.whatsapp_number] = permanent()
    notify(ticket_in(TicketStatus.ASSIGNED), E.DEVELOPER_ASSIGNED)  # another failure, other event
    sender.results.clear()
    old = NotificationLog.objects.filter(status=F).exclude(pk=failed_row.pk).get()
    uncertain = NotificationLog.objects.create(
        ticket=failed_row.ticket, event=E.TICKET_OPENED, recipient=cast.admin, to="+201000000001",
        message="m", status=NotificationStatus.UNKNOWN, may_have_been_sent=True, attempt_count=1)

    call_command("resend_failed_notifications", "--event", "TICKET_OPENED", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run: 1 notification(s) would be resent." in out
    assert len(sender.calls) == 3  # the set-up's: the dry run sent nothing

    NotificationLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    call_command("resend_failed_notifications", "--since", "24")
    assert "Resent 1 notification(s): 1 sent" in capsys.readouterr().out
    failed_row.refresh_from_db()
    assert failed_row.status == S
    assert NotificationLog.objects.get(pk=old.pk).status == F
    assert NotificationLog.objects.get(pk=uncertain.pk).status == NotificationStatus.UNKNOWN

    call_command("resend_failed_notifications", "--include-uncertain", "--since", "48")
    assert "Resent 2 notification(s): 2 sent" in capsys.readouterr().out
    assert set(NotificationLog.objects.filter(pk__in=[old.pk, uncertain.pk])
               .values_list("status", flat=True)) == {S}


def test_command_rejects_bad_arguments():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("resend_failed_notifications", "--since", "-1")
    with pytest.raises(CommandError):
        call_command("resend_failed_notifications", "--event", "NOT_AN_EVENT")
