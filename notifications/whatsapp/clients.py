"""The seam between the notification service and whatever sends WhatsApp messages.

`get_whatsapp_client()` calls the factory named by settings.WHATSAPP_CLIENT_FACTORY, so tests,
console mode and benchmarks swap the sender through settings instead of patching code.
"""
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from notifications.sending import SendResult
from notifications.whatsapp.types import WhatsAppSender
from notifications.whatsapp.console import ConsoleWhatsAppClient
from notifications.whatsapp.client import WhatsAppClient

__all__ = ["SendResult", "WhatsAppSender", "get_whatsapp_client", "default_client"]


def default_client() -> WhatsAppSender:
    """The Cloud API client when an access token is configured, console mode otherwise."""
    if not settings.WHATSAPP_ACCESS_TOKEN:
        return ConsoleWhatsAppClient()
    return WhatsAppClient(
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        phone_number_id=settings.WHATSAPP_PHONE_NUMBER_ID,
        api_version=settings.WHATSAPP_API_VERSION,
        base_url=settings.WHATSAPP_API_BASE_URL,
        timeout=settings.WHATSAPP_TIMEOUT,
        pool_size=settings.WHATSAPP_MAX_WORKERS,
    )


@lru_cache(maxsize=1)
def get_whatsapp_client() -> WhatsAppSender:
    # Cached: one client means one pooled session whose connections every request reuses.
    return import_string(settings.WHATSAPP_CLIENT_FACTORY)()


def _forget_client(*, setting: str, **kwargs) -> None:
    if setting.startswith("WHATSAPP_"):
        get_whatsapp_client.cache_clear()


setting_changed.connect(_forget_client, dispatch_uid="notifications.forget_client")
