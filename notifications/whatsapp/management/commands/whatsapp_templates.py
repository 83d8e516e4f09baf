"""The product's templates beside their state in the WhatsApp Business Account; --create submits
the missing ones. Exits non-zero while one the product needs is not approved, so it can gate a
deployment."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifications.whatsapp import template_state
from notifications.whatsapp.clients import default_client
from notifications.whatsapp.client import GraphCallFailed, WhatsAppClient


class Command(BaseCommand):
    help = ("List each event's WhatsApp template and its state in the WhatsApp Business Account "
            "(WHATSAPP_BUSINESS_ACCOUNT_ID); --create submits the missing ones for review.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--create", action="store_true",
                            help="Submit every missing template the product defines (category "
                                 "UTILITY), then list again.")

    def handle(self, *args, create: bool, **options) -> None:
        account = str(settings.WHATSAPP_BUSINESS_ACCOUNT_ID).strip()
        client = default_client()
        if not isinstance(client, WhatsAppClient):
            raise CommandError("WHATSAPP_ACCESS_TOKEN is not set (console mode): there is no "
                               "account to ask. Set the token first (docs/whatsapp.md, \"Setting it up\").")
        if not account.isdigit():
            raise CommandError(
                "Set WHATSAPP_BUSINESS_ACCOUNT_ID to your WhatsApp Business Account ID (digits): "
                "Meta Developer Console → WhatsApp → API Setup, under the phone number; or "
                "WhatsApp Manager → Account tools.")
        try:
            template_state.store(client.list_templates(account))
            if create:
                self._create_missing(client, account)
        except GraphCallFailed as exc:
            raise CommandError(f"Graph refused: {exc}")

        rows = template_state.needed()
        for row in rows:
            reason = f" ({row.reason})" if row.reason else ""
            self.stdout.write(f"  {row.event:<20} {row.spec.name} ({row.spec.language}): "
                              f"{row.status}{reason}")
            if row.advice:
                self.stdout.write(f"  {'':<20} → {row.advice}")
        waiting = [row for row in rows if row.status != template_state.APPROVED]
        if waiting:
            raise CommandError(f"{len(waiting)} of {len(rows)} templates the product needs are not "
                               "approved: messages to people outside the 24-hour window fail "
                               "until they are.")
        self.stdout.write(self.style.SUCCESS(f"All {len(rows)} templates are approved."))

    def _create_missing(self, client: WhatsAppClient, account: str) -> None:
        for row in template_state.needed():
            if row.status != template_state.MISSING:
                continue
            if not row.spec.body:
                self.stdout.write(f"  {row.spec.name} ({row.spec.language}) comes from "
                                  "WHATSAPP_TEMPLATES, which has no body for it: create it in "
                                  "WhatsApp Manager.")
                continue
            answer = client.create_template(
                account, name=row.spec.name, language=row.spec.language, category="UTILITY",
                body=row.spec.body, example=template_state.example(row.spec),
                buttons=row.spec.buttons)
            template_state.store([{"id": answer.get("id"), "name": row.spec.name,
                                   "language": row.spec.language,
                                   "status": answer.get("status") or "PENDING",
                                   "category": answer.get("category") or "UTILITY"}])
            self.stdout.write(f"  created {row.spec.name} ({row.spec.language}): "
                              f"{answer.get('status') or 'PENDING'}")
