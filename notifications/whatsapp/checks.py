"""`manage.py check` says when WhatsApp runs in console mode, and which settings cannot work."""
import json
import re

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from notifications.whatsapp import templates, versions

VERSION_FORM = re.compile(r"^v\d+\.\d+$")


@register("notifications")
def check_whatsapp_settings(app_configs, **kwargs) -> list:
    problems = []
    if not settings.WHATSAPP_ACCESS_TOKEN:
        problems.append(Warning(
            "WhatsApp is not configured: WHATSAPP_ACCESS_TOKEN is empty, so notifications are "
            "printed to the console and logged as SKIPPED (console mode).",
            hint="Set WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID to send for real.",
            id="notifications.W001",
        ))
    else:
        phone_number_id = str(settings.WHATSAPP_PHONE_NUMBER_ID)
        if not phone_number_id.isdigit():
            problems.append(Error(
                f"WHATSAPP_PHONE_NUMBER_ID {phone_number_id!r} is not numeric.",
                hint="Use the Phone Number ID from WhatsApp → API Setup (digits, e.g. "
                "123456789012345), not the phone number itself.",
                id="notifications.E001",
            ))
    if not VERSION_FORM.match(str(settings.WHATSAPP_API_VERSION)):
        problems.append(Error(
            f"WHATSAPP_API_VERSION {settings.WHATSAPP_API_VERSION!r} is not of the form vNN.N.",
            hint=f"For example {versions.DEFAULT}.",
            id="notifications.E002",
        ))
    else:
        heads_up = versions.notice(settings.WHATSAPP_API_VERSION, timezone.localdate())
        if heads_up is not None:
            kind = Error if heads_up.level == "error" else Warning
            problems.append(kind(heads_up.message, id="notifications.W003"
                                 if kind is Warning else "notifications.E008"))
    if not str(settings.WHATSAPP_API_BASE_URL).startswith(("https://", "http://")):
        problems.append(Error(
            f"WHATSAPP_API_BASE_URL {settings.WHATSAPP_API_BASE_URL!r} is not an http(s) URL.",
            hint="Normally https://graph.facebook.com.",
            id="notifications.E003",
        ))
    if settings.WHATSAPP_TIMEOUT <= 0 or settings.WHATSAPP_MAX_WORKERS < 1:
        problems.append(Error(
            "WHATSAPP_TIMEOUT must be above 0 and WHATSAPP_MAX_WORKERS at least 1.",
            id="notifications.E004",
        ))
    problems.extend(_delivery_problems())
    return problems


def _delivery_problems() -> list:
    problems = []
    if settings.WHATSAPP_MESSAGE_MODE not in templates.MODES:
        problems.append(Error(
            f"WHATSAPP_MESSAGE_MODE {settings.WHATSAPP_MESSAGE_MODE!r} is not one of "
            + ", ".join(templates.MODES) + ".",
            id="notifications.E005",
        ))
    try:
        templates.templates()
    except (ValueError, ImproperlyConfigured) as exc:  # JSONDecodeError is a ValueError
        reason = str(exc) if not isinstance(exc, json.JSONDecodeError) else f"not valid JSON ({exc})"
        problems.append(Error(f"WHATSAPP_TEMPLATES cannot be used: {reason}", id="notifications.E006"))
    unknown = {c.strip().lower() for c in settings.NOTIFICATION_CHANNELS} - {"whatsapp", "email", ""}
    if unknown:
        problems.append(Error(
            f"NOTIFICATION_CHANNELS has unknown channels {sorted(unknown)}; use whatsapp and/or email.",
            id="notifications.E007",
        ))
    problems.extend(_scale_out_problems())
    # In console mode nothing is sent, so there is nothing for Meta to report on: one warning
    # (W001) is enough there.
    webhooks_off = not settings.WHATSAPP_APP_SECRET or not settings.WHATSAPP_WEBHOOK_VERIFY_TOKEN
    if settings.WHATSAPP_ACCESS_TOKEN and webhooks_off:
        problems.append(Warning(
            "WhatsApp webhooks are off: WHATSAPP_APP_SECRET or WHATSAPP_WEBHOOK_VERIFY_TOKEN is "
            "empty, so Meta's delivery reports (delivered, read, failed after acceptance) never "
            "reach the log: a SENT row only means Meta accepted the message.",
            hint="Set both, then subscribe /api/notifications/whatsapp/webhook/ to the messages "
            "field in the App Dashboard.",
            id="notifications.W002",
        ))
    return problems


def _scale_out_problems() -> list:
    problems = []
    if settings.NOTIFICATION_DELIVERY not in ("inline", "celery"):
        problems.append(Error(
            f"NOTIFICATION_DELIVERY {settings.NOTIFICATION_DELIVERY!r} is neither inline nor celery.",
            hint="inline (the default) sends from the request; celery hands sends to Celery workers.",
            id="notifications.E009",
        ))
    elif settings.NOTIFICATION_DELIVERY == "celery" and not settings.REDIS_URL:
        problems.append(Warning(
            "NOTIFICATION_DELIVERY is celery but REDIS_URL is empty: each worker paces its own "
            "sends and each process counts failed logins on its own.",
            hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) on every app server and worker.",
            id="notifications.W004",
        ))
    if settings.WHATSAPP_MAX_MESSAGES_PER_SECOND < 1:
        problems.append(Error("WHATSAPP_MAX_MESSAGES_PER_SECOND must be at least 1.",
                              id="notifications.E010"))
    return problems
