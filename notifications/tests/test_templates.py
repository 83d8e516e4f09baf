"""Template messages: the request body, the parameters, the configuration, and text, template and
auto modes either side of the 24-hour window."""
import json
from datetime import timedelta

import pytest
import responses
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from notifications.whatsapp import templates
from notifications.whatsapp.types import TemplateMessage
from notifications.whatsapp.client import WhatsAppClient
from notifications.models import MessageType, NotificationLog
from notifications.tests.test_messages import FACTS
from tickets.models import TicketEventType as E
from tickets.transitions import Party
from tickets.models import TicketStatus

URL = "https://graph.facebook.com/v25.0/123456789012345/messages"


@responses.activate
def test_template_request_body():
    responses.post(URL, json={"messages": [{"id": "wamid.T"}]})
    client = WhatsAppClient(access_token="EAAx", phone_number_id="123456789012345")
    result = client.send_template(
        to="+201234567890", template=TemplateMessage("ticket_opened", "en_US", ["John Doe", "12", "Login"]),
        callback_data="cb-1",
    )
    assert result.message_id == "wamid.T"
    assert json.loads(responses.calls[0].request.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "201234567890",
        "type": "template",
        "template": {
            "name": "ticket_opened",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "John Doe"},
                {"type": "text", "text": "12"},
                {"type": "text", "text": "Login"},
            ]}],
        },
        "biz_opaque_callback_data": "cb-1",
    }


@pytest.mark.parametrize("code, words", [
    (132000, "as many fields as the template"),
    (132001, "template name and language code"),
    (132001, "whatsapp_templates"),  # the command that lists and creates the missing ones
    (132012, "placeholder type"),
    (132015, "paused"),
])
@responses.activate
def test_template_errors_say_what_to_fix(code, words):
    responses.post(URL, status=400, json={"error": {"code": code, "message": f"(#{code}) x"}})
    result = WhatsAppClient(access_token="EAAx", phone_number_id="123456789012345").send_template(
        to="+201234567890", template=TemplateMessage("t", "en_US", []))
    assert result.error_code == str(code)
    assert words in result.error_message
    assert "WHATSAPP_TEMPLATES" in result.error_message or code == 132015


def test_parameters_come_from_the_ticket_in_order():
    template = templates.template_for(E.TICKET_REJECTED, FACTS, ticket_id=42, recipient_name="John Doe")
    assert template == TemplateMessage("ticket_rejected", "en_US",
                                ["John Doe", "42", "Login page not working", "Duplicate of #12."])


@pytest.mark.parametrize("raw, clean", [
    ("line one\nline two", "line one line two"),
    ("tab\there", "tab here"),
    ("too      many spaces", "too many spaces"),
    ("", "-"),
    ("x" * 1500, "x" * 999 + "…"),
])
def test_parameter_values_are_made_acceptable(raw, clean):
    assert templates.clean_param(raw) == clean


def test_every_default_template_fills_each_placeholder_once():
    for event, spec in templates.DEFAULT_TEMPLATES.items():
        for n in range(1, len(spec.params) + 1):
            assert spec.body.count(f"{{{{{n}}}}}") == 1, (event, n)
        assert f"{{{{{len(spec.params) + 1}}}}}" not in spec.body


def test_settings_override_a_template(settings):
    settings.WHATSAPP_TEMPLATES = json.dumps(
        {"TICKET_OPENED": {"name": "ticket_opened_ar", "language": "ar", "params": ["ticket_id"]}})
    template = templates.template_for(E.TICKET_OPENED, FACTS, ticket_id=7, recipient_name="x")
    assert template == TemplateMessage("ticket_opened_ar", "ar", ["7"])
    assert templates.templates()[E.TICKET_CREATED].name == "ticket_created"  # others unchanged


def test_a_partys_own_template_is_overridden_by_its_own_key(settings):
    settings.WHATSAPP_TEMPLATES = json.dumps({
        "DEVELOPER_ASSIGNED:ASSIGNED_DEVELOPER": {"name": "yours_now"},
        "DEVELOPER_ASSIGNED": {"name": "assigned_ar", "language": "ar"}})
    specs = templates.templates()
    developer = templates.spec_for(specs, E.DEVELOPER_ASSIGNED, Party.ASSIGNED_DEVELOPER)
    client = templates.spec_for(specs, E.DEVELOPER_ASSIGNED, Party.OWNER)
    assert (developer.name, developer.language, developer.buttons) == ("yours_now", "en_US",
                                                                       ("Start work",))
    assert (client.name, client.language, client.buttons) == ("assigned_ar", "ar", ())


@pytest.mark.parametrize("value, message", [
    ('{"NOPE": {}}', "not a notified event"),
    ('{"TICKET_OPENED": {"params": ["password"]}}', "unknown params"),
    ('["x"]', "JSON object"),
])
def test_bad_template_settings_are_refused(settings, value, message):
    settings.WHATSAPP_TEMPLATES = value
    with pytest.raises(ImproperlyConfigured, match=message):
        templates.templates()


@pytest.mark.parametrize("mode, wrote_hours_ago, expected", [
    ("text", None, False),
    ("text", 48, False),
    ("template", 1, True),
    ("auto", None, True),
    ("auto", 23.9, False),
    ("auto", 24.1, True),
])
def test_mode_choice_either_side_of_24_hours(mode, wrote_hours_ago, expected):
    now = timezone.now()
    last = None if wrote_hours_ago is None else now - timedelta(hours=wrote_hours_ago)
    assert templates.use_template(mode=mode, last_inbound_at=last, now=now) is expected


@pytest.mark.django_db
@pytest.mark.parametrize("wrote_hours_ago, expect_template", [(2, False), (30, True), (None, True)])
def test_auto_mode_sends_text_inside_the_window_and_a_template_outside(
    cast, ticket_in, settings, sender, notify, wrote_hours_ago, expect_template
):
    settings.WHATSAPP_MESSAGE_MODE = "auto"
    if wrote_hours_ago is not None:
        cast.client.profile.whatsapp_last_inbound_at = timezone.now() - timedelta(hours=wrote_hours_ago)
        cast.client.profile.save()
    ticket = ticket_in(TicketStatus.OPENED)
    [row] = notify(ticket, E.TICKET_OPENED)

    [call] = sender.calls
    assert (call.template is not None) is expect_template
    assert row.message_type == (MessageType.TEMPLATE if expect_template else MessageType.TEXT)
    if expect_template:
        assert call.template.name == "ticket_opened"
        assert call.template.params == ["John Doe", str(ticket.pk), "Login page not working"]
        assert row.message.startswith("[template ticket_opened (en_US)] ✅ Hello John Doe, your ticket")
    else:
        assert call.body.startswith("✅ *Your Ticket Has Been Opened*")
    assert row.template_params == ["John Doe", str(ticket.pk), "Login page not working"]
    assert call.callback_data == row.callback_id and len(row.callback_id) == 32


@pytest.mark.django_db
def test_template_mode_always_sends_templates(cast, ticket_in, settings, sender, notify):
    settings.WHATSAPP_MESSAGE_MODE = "template"
    cast.client.profile.whatsapp_last_inbound_at = timezone.now()
    cast.client.profile.save()
    notify(ticket_in(TicketStatus.OPENED), E.TICKET_OPENED)
    assert sender.calls[0].template is not None
    assert NotificationLog.objects.get(event=E.TICKET_OPENED).message_type == MessageType.TEMPLATE


def test_the_manual_shows_each_template_exactly_as_the_code_fills_it():
    """docs/templates.md is where users copy template bodies from; it must not drift from the code."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text()
    for key, spec in templates.DEFAULT_TEMPLATES.items():
        event = key.replace(":ASSIGNED_DEVELOPER", " (to the developer)").replace(":OWNER", " (to the client)")
        row = next(line for line in readme.splitlines() if line.startswith(f"| {event} | `"))
        assert row.startswith(f"| {event} | `{spec.name}` | {spec.body} |"), event
        assert row.endswith(f"| {', '.join(spec.buttons) or '—'} |"), event


def test_the_readme_lists_every_template_whatsapp_templates_creates():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [spec.name for spec in templates.DEFAULT_TEMPLATES.values()
               if f"`{spec.name}`" not in readme]
    assert missing == []
