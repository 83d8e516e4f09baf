"""Numbers no active user has: what they write is not read, but they are told once a day how to
be registered, so that a client writing from a new phone is not met with silence."""
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import services
from notifications.whatsapp.models import UnknownNumber
from notifications.whatsapp.webhook import InboundMessage

AGAIN_AFTER = timedelta(days=1)
TOLD = ("Hello! This is the support line's WhatsApp number, and your number is not registered "
        "with us, so what you send here is not read. If you are a client or a member of staff, "
        "ask your administrator to add this number to your account (or add it yourself with "
        "PATCH /api/auth/me/ and send the VERIFY code it gives you); then write again.")


def tell(messages: list[InboundMessage]) -> int:
    """Answer the senders of these messages, each at most once a day; returns how many were told.
    Counting and the once-a-day check are conditional updates: two webhooks at once tell once."""
    told = 0
    for number in dict.fromkeys(m.wa_id for m in messages if m.wa_id.isdigit()):
        now = timezone.now()
        with transaction.atomic():
            seen, _ = UnknownNumber.objects.get_or_create(number=number)
            UnknownNumber.objects.filter(pk=seen.pk).update(
                messages=F("messages") + sum(m.wa_id == number for m in messages),
                last_seen_at=now)
            due = Q(told_at__isnull=True) | Q(told_at__lte=now - AGAIN_AFTER)
            if UnknownNumber.objects.filter(due, pk=seen.pk).update(told_at=now):
                services.schedule_reply(user=None, to=f"+{number}", text=TOLD)
                told += 1
    return told
