"""Send one test message with the configured settings: the setup guide's step 8, without a ticket."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.phone import normalize_whatsapp_number
from notifications.whatsapp.clients import get_whatsapp_client
from notifications.models import NotificationStatus


class Command(BaseCommand):
    help = "Send a WhatsApp test message to NUMBER and print the message id, or the error and what to do."

    def add_arguments(self, parser) -> None:
        parser.add_argument("number", help="Recipient in international form, e.g. +201234567890")

    def handle(self, *args, number: str, **options) -> None:
        try:
            to = normalize_whatsapp_number(number)
        except ValidationError as exc:
            raise CommandError(exc.messages[0])
        if not to:
            raise CommandError("Give the number to send to, e.g. +201234567890.")

        body = (
            "✅ *WhatsApp test message*\n\n"
            f"Sent by the Incident Management System at {timezone.now():%Y-%m-%d %H:%M %Z}.\n"
            "If you can read this, notifications will reach this number.\n\n"
            "_Incident Management System_"
        )
        result = get_whatsapp_client().send_text(to=to, body=body)

        if result.status == NotificationStatus.SENT:
            self.stdout.write(self.style.SUCCESS(f"📱 WhatsApp sent to {to}: {result.message_id}"))
            self.stdout.write("Meta accepted it; check the phone to see it arrive.")
            return
        if result.status == NotificationStatus.SKIPPED:
            raise CommandError(result.error_message)
        code = f" (Graph code {result.error_code}, HTTP {result.http_status})" if result.error_code else ""
        raise CommandError(f"Sending to {to} failed{code}: {result.error_message}")
