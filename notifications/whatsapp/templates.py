"""Approved templates for business-initiated WhatsApp messages, and when to use them.

Free text reaches a person only inside the 24-hour window that opens when they write to the
business number; outside it Meta refuses text (131047) and only templates get through. Each event
maps to a template (name, language) and the ticket fields that fill its {{1}}..{{n}}, in order.
The defaults are the table's (notifications.messages.NOTICES), the templates docs/templates.md tells you to
register; WHATSAPP_TEMPLATES overrides them.
"""
import dataclasses
import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.messages import NOTICES, TemplateSpec, TicketFacts
from notifications.models import DIGEST
from notifications.whatsapp import buttons
from notifications.whatsapp.types import TemplateMessage
from tickets.transitions import Party

WINDOW = timedelta(hours=24)
MODES = ("text", "template", "auto")
# Meta is reported to refuse parameters with newlines, tabs or runs of more than four spaces.
_UNSAFE_WHITESPACE = re.compile(r"[\n\r\t]+| {5,}")
PARAM_MAX_LENGTH = 1000


# Fields a template parameter may name: TicketFacts' fields, plus these two.
EXTRA_FIELDS = ("ticket_id", "recipient_name")

# "title" is "N ticket updates", "comment" one line per update (notifications.digests).
DIGEST_TEMPLATE = TemplateSpec(
    "ticket_digest", "en_US", ("title", "comment"),
    "📬 {{1}}: {{2}}. Open each ticket in the app or the API for its details.")


def _defaults() -> dict[str, TemplateSpec]:
    """The table's templates (notifications.messages.NOTICES) by their WHATSAPP_TEMPLATES key:
    "EVENT", or "EVENT:PARTY" for a party's own (the developer's assignment carries a Start work
    button that the client's must not), with their buttons' titles."""
    found: dict[str, TemplateSpec] = {}
    for event, notices in NOTICES.items():
        for notice in notices:
            key = f"{event}:{notice.party.value}" if notice.own_template else event
            titles = tuple(buttons.TITLES[action] for action in notice.buttons)
            found.setdefault(key, dataclasses.replace(notice.template, buttons=titles))
    found[DIGEST] = DIGEST_TEMPLATE  # a storm's waiting messages in one (notifications.digests)
    return found


DEFAULT_TEMPLATES = _defaults()


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
                 spec: TemplateSpec | None = None, payloads: list[str] = ()) -> TemplateMessage:
    """The template message for `event`, its parameters filled from the ticket (`spec`: the
    event's entry of templates(), when the caller already has it); `payloads`: what its buttons
    send back, when it has any."""
    spec = spec or templates()[event]
    values = {**facts.__dict__, "ticket_id": str(ticket_id), "recipient_name": recipient_name}
    return TemplateMessage(spec.name, spec.language,
                           [clean_param(str(values[p])) for p in spec.params],
                           list(payloads)[:len(spec.buttons)])


def stored(row) -> TemplateMessage:
    """The template message a NotificationLog row keeps for itself (every WhatsApp row does, so a
    resend can switch to it), with its buttons' payloads."""
    return TemplateMessage(row.template_name, row.template_language, list(row.template_params),
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


def preview(template: TemplateMessage) -> str:
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
