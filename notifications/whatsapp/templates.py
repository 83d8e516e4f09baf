"""Approved templates for business-initiated WhatsApp messages, and when to use them.

Free text reaches a person only inside the 24-hour window that opens when they write to the
business number; outside it Meta refuses text (131047) and only templates get through. Each event
maps to a template (name, language) and the ticket fields that fill its {{1}}..{{n}}, in order.
The defaults below are the templates README tells you to register; WHATSAPP_TEMPLATES overrides them.
"""
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.whatsapp import buttons
from notifications.whatsapp.types import Template
from notifications.messages import INTERNAL_NOTE, TicketFacts
from tickets.models import TicketEventType as E
from tickets.transitions import Party

WINDOW = timedelta(hours=24)
MODES = ("text", "template", "auto")
# Meta is reported to refuse parameters with newlines, tabs or runs of more than four spaces.
_UNSAFE_WHITESPACE = re.compile(r"[\n\r\t]+| {5,}")
PARAM_MAX_LENGTH = 1000


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    params: tuple[str, ...]
    body: str  # the text to register in WhatsApp Manager (README); not sent
    buttons: tuple[str, ...] = ()  # quick-reply button titles, in order (notifications.whatsapp.buttons)


def _titles(event: str, party: Party) -> tuple[str, ...]:
    return tuple(buttons.TITLES[action] for action in buttons.OFFERED[event, party])


# Fields a template parameter may name: TicketFacts' fields, plus these two.
EXTRA_FIELDS = ("ticket_id", "recipient_name")

# Keyed by event; "EVENT:PARTY" where one party reads a template of its own (the developer's
# assignment carries a Start work button that the client's must not).
DEFAULT_TEMPLATES: dict[str, TemplateSpec] = {
    E.TICKET_CREATED: TemplateSpec(
        "ticket_created", "en_US", ("ticket_id", "client_name", "title", "project", "priority"),
        "🎫 New ticket #{{1}} from {{2}}: {{3}} (project {{4}}, priority {{5}}). "
        "Please review and assign it.", _titles(E.TICKET_CREATED, Party.ADMIN),
    ),
    E.TICKET_OPENED: TemplateSpec(
        "ticket_opened", "en_US", ("recipient_name", "ticket_id", "title"),
        "✅ Hello {{1}}, your ticket #{{2}} \"{{3}}\" has been opened. "
        "We will assign a developer shortly.",
    ),
    E.DEVELOPER_ASSIGNED: TemplateSpec(
        "developer_assigned", "en_US", ("recipient_name", "developer_name", "ticket_id", "title"),
        "👨‍💻 Hello {{1}}, {{2}} has been assigned to ticket #{{3}} \"{{4}}\".",
    ),
    f"{E.DEVELOPER_ASSIGNED}:{Party.ASSIGNED_DEVELOPER.value}": TemplateSpec(
        "ticket_assigned_to_you", "en_US", ("recipient_name", "ticket_id", "title", "priority"),
        "👨‍💻 Hello {{1}}, ticket #{{2}} \"{{3}}\" (priority {{4}}) has been assigned to you.",
        _titles(E.DEVELOPER_ASSIGNED, Party.ASSIGNED_DEVELOPER),
    ),
    E.WORK_STARTED: TemplateSpec(
        "work_started", "en_US", ("recipient_name", "ticket_id", "title", "developer_name"),
        "🛠️ Hello {{1}}, work has started on your ticket #{{2}} \"{{3}}\" ({{4}}).",
    ),
    E.WORK_FINISHED: TemplateSpec(
        "work_finished", "en_US", ("recipient_name", "ticket_id", "title", "resolution"),
        "🎉 Hello {{1}}, work on ticket #{{2}} \"{{3}}\" is finished. Resolution: {{4}}",
        _titles(E.WORK_FINISHED, Party.OWNER),
    ),
    E.TICKET_CLOSED: TemplateSpec(
        "ticket_closed", "en_US", ("recipient_name", "ticket_id", "title"),
        "🔒 Hello {{1}}, ticket #{{2}} \"{{3}}\" is now closed. Thank you.",
    ),
    E.TICKET_REJECTED: TemplateSpec(
        "ticket_rejected", "en_US", ("recipient_name", "ticket_id", "title", "rejection_reason"),
        "❌ Hello {{1}}, your ticket #{{2}} \"{{3}}\" was rejected. Reason: {{4}}",
    ),
    E.TICKET_REOPENED: TemplateSpec(
        "ticket_reopened", "en_US", ("recipient_name", "ticket_id", "title", "author_name"),
        "🔁 Hello {{1}}, ticket #{{2}} \"{{3}}\" was reopened by {{4}}: it is back in progress.",
    ),
    E.COMMENT_ADDED: TemplateSpec(
        "comment_added", "en_US", ("recipient_name", "ticket_id", "title", "author_name", "comment"),
        "💬 Hello {{1}}, new comment on ticket #{{2}} \"{{3}}\" from {{4}}: {{5}}",
    ),
    INTERNAL_NOTE: TemplateSpec(
        "internal_note", "en_US", ("ticket_id", "title", "author_name", "comment"),
        "🔐 Internal note, staff only: ticket #{{1}} \"{{2}}\", from {{3}}: {{4}}",
    ),
}


def templates() -> dict[str, TemplateSpec]:
    """The defaults with WHATSAPP_TEMPLATES applied; raises ImproperlyConfigured when it is wrong."""
    result = dict(DEFAULT_TEMPLATES)
    raw = settings.WHATSAPP_TEMPLATES
    if not raw:
        return result
    overrides = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(overrides, dict):
        raise ImproperlyConfigured("WHATSAPP_TEMPLATES must be a JSON object keyed by event.")
    allowed = set(TicketFacts.__dataclass_fields__) | set(EXTRA_FIELDS)
    for event, spec in overrides.items():
        if event not in DEFAULT_TEMPLATES or not isinstance(spec, dict):
            raise ImproperlyConfigured(
                f"WHATSAPP_TEMPLATES: {event!r} is not a notified event; use one of "
                + ", ".join(DEFAULT_TEMPLATES) + "."
            )
        base = result[event]
        params = tuple(spec.get("params", base.params))
        unknown = [p for p in params if p not in allowed]
        if unknown:
            raise ImproperlyConfigured(
                f"WHATSAPP_TEMPLATES[{event}]: unknown params {unknown}; allowed: "
                + ", ".join(sorted(allowed)) + "."
            )
        # A template of your own keeps the buttons unless "buttons": false says it has none.
        result[event] = TemplateSpec(
            str(spec.get("name", base.name)), str(spec.get("language", base.language)), params, "",
            base.buttons if spec.get("buttons", True) else (),
        )
    return result


def spec_for(specs: dict[str, TemplateSpec], event: str, party: Party) -> TemplateSpec:
    return specs.get(f"{event}:{party.value}") or specs[event]


def template_for(event: str, facts: TicketFacts, *, ticket_id: int, recipient_name: str,
                 spec: TemplateSpec | None = None, payloads: list[str] = ()) -> Template:
    """The template message for `event`, its parameters filled from the ticket (`spec`: the
    event's entry of templates(), when the caller already has it); `payloads`: what its buttons
    send back, when it has any."""
    spec = spec or templates()[event]
    values = {**facts.__dict__, "ticket_id": str(ticket_id), "recipient_name": recipient_name}
    return Template(spec.name, spec.language, [clean_param(str(values[p])) for p in spec.params],
                    list(payloads)[:len(spec.buttons)])


def stored(row) -> Template:
    """The template message a NotificationLog row keeps for itself (every WhatsApp row does, so a
    resend can switch to it), with its buttons' payloads."""
    return Template(row.template_name, row.template_language, list(row.template_params),
                    [payload for payload, _ in row.buttons])


def clean_param(value: str) -> str:
    value = _UNSAFE_WHITESPACE.sub(" ", value).strip()
    if len(value) > PARAM_MAX_LENGTH:
        value = value[: PARAM_MAX_LENGTH - 1] + "…"
    return value or "-"  # an empty parameter is refused


def use_template(*, mode: str, last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a WhatsApp message to this person goes as a template rather than free text."""
    if mode == "template":
        return True
    if mode == "auto":
        return last_inbound_at is None or now - last_inbound_at >= WINDOW
    return False


def preview(template: Template) -> str:
    """How a template row reads in the log: the registered body with its values filled in (and
    its buttons)."""
    spec = next((s for s in DEFAULT_TEMPLATES.values() if s.name == template.name and s.body), None)
    if spec is None or len(spec.params) != len(template.params):
        values = " | ".join(template.params)
        return f"[template {template.name} ({template.language})] {values}"
    text = spec.body
    for number, value in enumerate(template.params, 1):
        text = text.replace(f"{{{{{number}}}}}", value)
    titles = "".join(f" [{title}]" for title in spec.buttons[:len(template.buttons)])
    return f"[template {template.name} ({template.language})] {text}{titles}"
