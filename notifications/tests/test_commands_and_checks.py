"""`manage.py whatsapp_test` and the WhatsApp settings checks."""
import json

import pytest
import responses
from django.core.management import CommandError, call_command

from notifications.whatsapp.checks import check_whatsapp_settings

URL = "https://graph.facebook.com/v25.0/123456789012345/messages"


@pytest.fixture
def live_settings(settings):
    settings.WHATSAPP_ACCESS_TOKEN = "EAAcommand-test-token"
    return settings


@responses.activate
def test_whatsapp_test_prints_the_message_id(live_settings, capsys):
    responses.post(URL, json={"messages": [{"id": "wamid.TEST123"}]})
    call_command("whatsapp_test", "+20 123 456 7890")
    assert "📱 WhatsApp sent to +201234567890: wamid.TEST123" in capsys.readouterr().out
    assert json.loads(responses.calls[0].request.body)["to"] == "201234567890"


@responses.activate
def test_whatsapp_test_prints_the_error_and_what_to_do(live_settings):
    responses.post(URL, status=400, json={"error": {
        "code": 131030, "message": "(#131030) Recipient phone number not in allowed list"}})
    with pytest.raises(CommandError) as failed:
        call_command("whatsapp_test", "+201234567890")
    assert "Graph code 131030, HTTP 400" in str(failed.value)
    assert "Manage phone number list" in str(failed.value)


def test_whatsapp_test_in_console_mode_says_so(settings, capsys):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    with pytest.raises(CommandError, match="WHATSAPP_ACCESS_TOKEN is not set"):
        call_command("whatsapp_test", "+201234567890")


@pytest.mark.parametrize("number", ["01234567890", ""])
def test_whatsapp_test_refuses_a_bad_number(number):
    with pytest.raises(CommandError, match="201234567890"):
        call_command("whatsapp_test", number)


def ids(settings_obj=None) -> set[str]:
    return {problem.id for problem in check_whatsapp_settings(None)}


def test_check_warns_in_console_mode(settings):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    assert ids() == {"notifications.W001"}


def test_check_is_quiet_when_configured(live_settings):
    assert ids() == set()


@pytest.mark.parametrize(
    "setting, value, problem",
    [
        ("WHATSAPP_PHONE_NUMBER_ID", "+15550100", "notifications.E001"),
        ("WHATSAPP_PHONE_NUMBER_ID", "", "notifications.E001"),
        ("WHATSAPP_API_VERSION", "21.0", "notifications.E002"),
        ("WHATSAPP_API_VERSION", "v21", "notifications.E002"),
        ("WHATSAPP_API_BASE_URL", "graph.facebook.com", "notifications.E003"),
        ("WHATSAPP_TIMEOUT", 0, "notifications.E004"),
    ],
)
def test_check_reports_settings_that_cannot_work(live_settings, setting, value, problem):
    setattr(live_settings, setting, value)
    assert problem in ids()


def test_console_mode_gives_one_warning_even_with_webhooks_off(settings):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    settings.WHATSAPP_APP_SECRET = ""
    assert ids() == {"notifications.W001"}


def test_webhooks_off_while_sending_says_what_sent_means(live_settings):
    live_settings.WHATSAPP_APP_SECRET = ""
    [warning] = [p for p in check_whatsapp_settings(None) if p.id == "notifications.W002"]
    assert "accepted" in warning.msg and "stays SENT" not in warning.msg
