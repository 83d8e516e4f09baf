"""Templates managed from the product: `manage.py whatsapp_templates` against Graph's template
endpoints (mocked), the template webhooks, and a template that is not approved at send time."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import responses
from django.core.management import CommandError, call_command

from notifications import delivery
from notifications.whatsapp import template_state, templates
from notifications.models import MessageType, NotificationLog, WhatsAppTemplate
from notifications.models import NotificationStatus as S
from notifications.tests.test_webhooks import body_of, post
from tickets.models import TicketStatus

ACCOUNT = "102290129340398"
LIST = f"https://graph.facebook.com/v25.0/{ACCOUNT}/message_templates"


@pytest.fixture
def account(settings):
    settings.WHATSAPP_ACCESS_TOKEN = "test-token"
    settings.WHATSAPP_BUSINESS_ACCOUNT_ID = ACCOUNT
    with responses.RequestsMock() as graph:
        yield graph


def listed(*items: dict, next_page: str = "") -> dict:
    page = {"data": list(items)}
    if next_page:
        page["paging"] = {"next": next_page, "cursors": {"after": "x"}}
    return {"json": page}


def template(name: str, status: str = "APPROVED", **extra) -> dict:
    return {"id": f"id-{name}", "name": name, "language": "en_US", "status": status,
            "category": "UTILITY", **extra}


def run(*args) -> None:
    call_command("whatsapp_templates", *args)  # prints to stdout, read with capsys


def test_without_token_or_account_it_says_what_to_set(settings):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    with pytest.raises(CommandError, match="WHATSAPP_ACCESS_TOKEN"):
        run()
    settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_BUSINESS_ACCOUNT_ID = "t", ""
    with pytest.raises(CommandError, match="WHATSAPP_BUSINESS_ACCOUNT_ID"):
        run()


@pytest.mark.django_db
def test_lists_each_events_template_with_its_state_over_pages_and_fails_until_all_are_approved(
        account, capsys):
    account.get(LIST, **listed(template("ticket_created"), template(
        "ticket_opened", "REJECTED", rejected_reason="INVALID_FORMAT"),
        next_page=LIST + "?after=x"))
    account.get(LIST + "?after=x", **listed(template("work_started", "PAUSED"),
                                            template("someone_elses")))
    with pytest.raises(CommandError, match="14 of 15 templates the product needs are not approved"):
        run()
    out = capsys.readouterr().out
    assert "TICKET_CREATED" in out and "ticket_created (en_US): APPROVED" in out
    assert "ticket_opened (en_US): REJECTED (INVALID_FORMAT)" in out
    assert "work_started (en_US): PAUSED" in out and "low quality" in out
    assert "ticket_closed (en_US): MISSING" in out and "--create" in out
    assert WhatsAppTemplate.objects.count() == 4  # what the account has, others' included
    assert account.calls[0].request.headers["Authorization"] == "Bearer test-token"


@pytest.mark.django_db
def test_create_submits_every_missing_template_as_utility_with_an_example(account, capsys):
    have = [template(spec.name) for spec in templates.DEFAULT_TEMPLATES.values()][:5]
    account.get(LIST, **listed(*have))
    created = account.post(LIST, json={"id": "new", "status": "PENDING", "category": "UTILITY"})
    with pytest.raises(CommandError, match="10 of 15"):
        run("--create")
    bodies = [json.loads(call.request.body) for call in account.calls if call.request.method == "POST"]
    assert created.call_count == 10 and {b["name"] for b in bodies} == {
        "work_finished", "ticket_closed_rating", "ticket_closed", "ticket_rejected",
        "ticket_reopened", "comment_added", "internal_note", "ticket_page", "page_acknowledged",
        "ticket_digest"}
    for sent in bodies:
        spec = next(s for s in templates.DEFAULT_TEMPLATES.values() if s.name == sent["name"])
        body, *rest = sent["components"]
        assert sent["category"] == "UTILITY" and sent["language"] == "en_US"
        assert body["text"] == spec.body and len(body["example"]["body_text"][0]) == len(spec.params)
        # Quick-reply buttons where the reader can act next: the client's finished work, and the
        # faces that rate the fix once it is closed.
        # and a page's answers.
        offered = {"work_finished": ["Close", "Not fixed"], "ticket_closed_rating": ["😞", "😐", "😀"],
                   "ticket_page": ["Acknowledge", "Snooze 30 min", "Escalate now"]}
        expected = [{"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": title}
                                                    for title in offered.get(sent["name"], ())]}]
        assert rest == (expected if sent["name"] in offered else [])
    assert "created ticket_closed (en_US): PENDING" in capsys.readouterr().out
    assert WhatsAppTemplate.objects.get(name="ticket_closed").status == "PENDING"


@pytest.mark.django_db
def test_all_approved_exits_cleanly(account, capsys):
    account.get(LIST, **listed(*[template(s.name) for s in templates.DEFAULT_TEMPLATES.values()]))
    run()
    assert "All 15 templates are approved." in capsys.readouterr().out


@pytest.mark.django_db
def test_graph_refusing_the_listing_is_a_clear_error_without_the_token(account):
    account.get(LIST, status=403, json={"error": {"message": "(#200) Permissions error", "code": 200,
                                                  "fbtrace_id": "T"}})
    with pytest.raises(CommandError) as refused:
        run()
    assert "code 200" in str(refused.value) and "whatsapp_business_management" in str(refused.value)
    assert "test-token" not in str(refused.value)


def change(field: str, value: dict) -> dict:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": ACCOUNT, "time": 1790000000, "changes": [{"field": field, "value": value}]}]}


@pytest.mark.django_db
def test_template_webhooks_are_recorded_and_shown_in_the_admin(client, staff):
    post(client, body_of(change("message_template_status_update", {
        "event": "REJECTED", "message_template_id": 1234, "message_template_name": "ticket_opened",
        "message_template_language": "en_US", "reason": "INCORRECT_CATEGORY"})))
    post(client, body_of(change("template_category_update", {
        "message_template_id": 99, "message_template_name": "ticket_created",
        "message_template_language": "en_US", "previous_category": "UTILITY",
        "new_category": "MARKETING"})))
    rejected = WhatsAppTemplate.objects.get(name="ticket_opened")
    moved = WhatsAppTemplate.objects.get(name="ticket_created")
    assert (rejected.status, rejected.reason, rejected.template_id) == ("REJECTED", "INCORRECT_CATEGORY", "1234")
    assert moved.category == "MARKETING" and "UTILITY → MARKETING" in moved.reason
    post(client, body_of(change("message_template_status_update", {
        "event": "APPROVED", "message_template_name": "ticket_opened",
        "message_template_language": "en_US", "reason": "NONE"})))
    rejected.refresh_from_db()
    assert (rejected.status, rejected.reason) == ("APPROVED", "")
    page = staff.get("/admin/notifications/whatsapptemplate/").content.decode()
    assert "ticket_opened" in page and "MARKETING" in page


@pytest.mark.django_db
def test_a_template_known_not_approved_is_not_sent_and_the_row_says_which_and_what_to_do(
        cast, ticket_in, sender, settings):
    settings.WHATSAPP_MESSAGE_MODE = "template"
    WhatsAppTemplate.objects.create(name="ticket_created", language="en_US", status="PAUSED",
                                    reason="Low quality")
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    assert row.message_type == MessageType.TEMPLATE
    [row] = delivery.deliver([row.pk])
    assert sender.calls == [] and row.status == S.FAILED
    assert "ticket_created (en_US) is PAUSED" in row.error_message
    assert "Low quality" in row.error_message and "WHATSAPP_TEMPLATES" in row.error_message


def test_a_new_installation_defaults_to_auto_so_people_who_never_wrote_are_reached(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}
    env.update(DJANGO_SETTINGS_MODULE="Incident.settings", DEBUG="True")
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.WHATSAPP_MESSAGE_MODE)"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "auto"


def test_every_parameter_a_template_may_name_has_a_sample_for_metas_review():
    from notifications.messages import TicketFacts

    every = [*TicketFacts.__dataclass_fields__, *templates.EXTRA_FIELDS]
    spec = templates.TemplateSpec("all", "en_US", tuple(every), "")
    assert "example" not in template_state.example(spec)
