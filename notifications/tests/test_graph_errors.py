"""Every Graph error a sender of text and template messages meets: one retry class each, advice
for the admin, Meta's details once, and fbtrace_id and error_subcode kept on the attempt."""
import pytest
import responses
from django.core.management import call_command

from notifications import delivery
from notifications.whatsapp import errors as graph_errors
from notifications.sending import Retry
from notifications.models import NotificationLog
from notifications.models import NotificationStatus as S
from notifications.outcomes import Next, decide
from notifications.whatsapp.channel import classify
from notifications.whatsapp.client import WhatsAppClient
from notifications.tests.test_whatsapp_client import URL, graph, graph_error  # noqa: F401
from tickets.models import TicketStatus

# The codes the Cloud API issue lists, and the class each must have.
EXPECTED = {
    Retry.LATER: (1, 2, 4, 80007, 130429, 131016, 131056, 131057, 132069),
    Retry.UNKNOWN: (131000,),
    Retry.NEVER: (0, 3, 10, 33, 100, 190, 200, 250, 299, 368, 130403, 130472, 130497, 131005, 131008, 131009,
                  131021, 131026, 131030, 131031, 131037, 131042, 131045, 131047, 131048, 131049,
                  131050, 131051, 131062, 132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068,
                  133010, 135000),
}


@pytest.fixture
def whatsapp() -> WhatsAppClient:
    return WhatsAppClient(access_token="test-token", phone_number_id="123456789012345")


@pytest.mark.parametrize("code, retry", [(code, retry) for retry, codes in EXPECTED.items()
                                         for code in codes])
def test_every_code_has_one_retry_class_and_advice(code, retry):
    info = graph_errors.lookup(code)
    assert info is not None and info.retry is retry
    assert info.meaning and info.action and info.meaning not in info.action


def test_a_code_not_in_the_table_is_retried_now_only_after_a_5xx():
    assert graph_errors.retry_class(777777, 503) is Retry.NOW
    assert graph_errors.retry_class(777777, 400) is Retry.NEVER


@pytest.mark.parametrize("code, http, next_step", [
    (131016, 503, Next.RETRY_LATER), (1, 500, Next.RETRY_LATER), (2, 503, Next.RETRY_LATER),
    (131050, 400, Next.NEVER), (131042, 400, Next.NEVER), (131000, 500, Next.UNKNOWN),
    (777777, 503, Next.RETRY_NOW), (777777, 504, Next.UNKNOWN), (777777, 502, Next.UNKNOWN),
    (777777, 400, Next.NEVER),
])
def test_graphs_answer_decides_by_its_code(whatsapp, graph, code, http, next_step):  # noqa: F811
    graph.post(URL, **graph_error(code, f"(#{code}) Title", details="d", http=http))
    assert decide(classify(whatsapp.send_text(to="+201234567890", body="x"))) is next_step


def test_the_message_has_metas_details_once_and_never_the_title_twice(whatsapp, graph):  # noqa: F811
    graph.post(URL, **graph_error(131049, "(#131049) This message was not delivered to maintain "
                                  "healthy ecosystem engagement.", details="Per-user limit reached."))
    result = whatsapp.send_text(to="+201234567890", body="x")
    assert result.error_message.count("Per-user limit reached.") == 1
    assert "healthy ecosystem engagement" not in result.error_message.split("(Meta:")[1]
    assert "UTILITY" in result.error_message and "(#131049)" not in result.error_message


def test_fbtrace_id_and_subcode_are_kept_on_the_attempt_and_shown(
        cast, ticket_in, settings, staff, api):
    settings.WHATSAPP_ACCESS_TOKEN = "test-token"
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    with responses.RequestsMock() as mocked:
        mocked.post(URL, **graph_error(190, "Error validating access token", http=401,
                                       error_subcode=463, fbtrace_id="AbCdTrace42"))
        delivery.deliver([row.pk])
    attempt = row.attempts.get()
    assert (attempt.fbtrace_id, attempt.error_subcode, attempt.error_code) == ("AbCdTrace42", "463", "190")
    page = staff.get(f"/admin/notifications/notificationlog/{row.pk}/change/").content.decode()
    assert "AbCdTrace42" in page and "463" in page
    [logged] = api(cast.admin).get("/api/notifications/logs/", {"ticket": row.ticket_id}).json()[
        "results"]
    [listed] = logged["attempts"]
    assert listed["fbtrace_id"] == "AbCdTrace42" and listed["error_subcode"] == "463"


def test_bulk_resend_leaves_out_codes_no_resend_can_cure_unless_named(
        cast, ticket_in, sender, capsys):
    opted_out, expired = (NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
                          for _ in range(2))
    NotificationLog.objects.filter(pk=opted_out.pk).update(status=S.FAILED, error_code="131050")
    NotificationLog.objects.filter(pk=expired.pk).update(status=S.FAILED, error_code="190")
    call_command("resend_failed_notifications", "--dry-run")
    out = capsys.readouterr().out
    assert f"#{expired.pk} " in out and f"#{opted_out.pk} " not in out
    assert "Left out 1 notification(s)" in out and "131050" in out
    call_command("resend_failed_notifications", "--error-code", "131050")
    assert [call.callback_data for call in sender.calls] == [opted_out.callback_id]
