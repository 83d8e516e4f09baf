"""Where the product's templates stand in the WhatsApp Business Account: read from Graph by
`manage.py whatsapp_templates`, kept current by the template webhooks, and consulted before a
template message goes out (one that is known and not approved is not sent)."""
from dataclasses import dataclass

from django.utils import timezone

from notifications.whatsapp import templates
from notifications.models import WhatsAppTemplate

APPROVED = WhatsAppTemplate.APPROVED
MISSING = "MISSING"
# What a person does about each state of a template the product needs.
ADVICE = {
    MISSING: "Create it: manage.py whatsapp_templates --create (or in WhatsApp Manager).",
    "PENDING": "Wait for Meta's review (usually minutes, at most a day or two).",
    "IN_APPEAL": "Wait for the appeal's outcome.",
    "REJECTED": "Read the reason, edit it in WhatsApp Manager and submit it again.",
    "PAUSED": "Meta paused it for low quality: edit it in WhatsApp Manager, or map the event to "
              "another approved template in WHATSAPP_TEMPLATES.",
    "DISABLED": "Create a new template and map the event to it in WHATSAPP_TEMPLATES.",
}


@dataclass(frozen=True)
class Needed:
    event: str
    spec: templates.TemplateSpec
    status: str  # APPROVED, another of Meta's states, or MISSING
    reason: str = ""

    @property
    def advice(self) -> str:
        return "" if self.status == APPROVED else advice(self.status)


def advice(status: str) -> str:
    return ADVICE.get(status, "Check it in WhatsApp Manager.")


def needed() -> list[Needed]:
    """Each event's template beside what the account has of it (as last read)."""
    known = {(t.name, t.language): t for t in WhatsAppTemplate.objects.all()}
    result = []
    for event, spec in templates.templates().items():
        row = known.get((spec.name, spec.language))
        result.append(Needed(event, spec, row.status if row else MISSING, row.reason if row else ""))
    return result


def store(listed: list[dict]) -> int:
    """Record what Graph listed; returns how many templates it had."""
    for item in listed:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if name and language:
            reason = str(item.get("rejected_reason") or "")
            WhatsAppTemplate.objects.update_or_create(name=name, language=language, defaults={
                "status": str(item.get("status") or "").upper(),
                "category": str(item.get("category") or "").upper(),
                "reason": "" if reason == "NONE" else reason,
                "template_id": str(item.get("id") or ""),
            })
    return len(listed)


def example(spec: templates.TemplateSpec) -> list[str]:
    """A sample value per placeholder, which Meta's review asks for."""
    samples = {"ticket_id": "42", "recipient_name": "Amal", "client_name": "Amal Hassan",
               "developer_name": "Omar", "title": "Login page not working", "project": "Web Portal",
               "priority": "HIGH", "category": "BUG", "status": "Opened",
               "description": "Users cannot log in.", "resolution": "Fixed the session cookie.",
               "rejection_reason": "Duplicate of ticket 41", "author_name": "Amal Hassan",
               "comment": "It also happens on the mobile site."}
    return [samples.get(param, "example") for param in spec.params]


def apply_webhook(field: str, value: dict) -> bool:
    """A message_template_status_update or template_category_update change; returns whether a
    template row changed."""
    name = str(value.get("message_template_name") or "")
    language = str(value.get("message_template_language") or "")
    if not name or not language:
        return False
    row, _ = WhatsAppTemplate.objects.get_or_create(name=name, language=language,
                                                    defaults={"status": "PENDING"})
    if value.get("message_template_id"):
        row.template_id = str(value["message_template_id"])[:64]
    if field == "message_template_status_update" and value.get("event"):
        row.status = str(value["event"]).upper()[:32]
        reason = str(value.get("reason") or "")
        row.reason = "" if reason.upper() == "NONE" else reason
    elif field == "template_category_update" and value.get("new_category"):
        moved = f"{value.get('previous_category') or '?'} → {value['new_category']}"
        row.category = str(value["new_category"]).upper()[:32]
        row.reason = f"Category changed by Meta ({moved}, {timezone.now():%Y-%m-%d})."
    else:
        return False
    row.save()
    return True


def blocked() -> dict[tuple[str, str], str]:
    """Templates known and not approved: (name, language) → what a notification row says."""
    return {
        (t.name, t.language): (
            f"Not sent: the template {t.name} ({t.language}) is {t.status} in the WhatsApp "
            f"Business Account{': ' + t.reason if t.reason else ''}. "
            + advice(t.status) + " Then resend.")
        for t in WhatsAppTemplate.objects.exclude(status=APPROVED)
    }
