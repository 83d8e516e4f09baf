"""Resend FAILED and SKIPPED notifications (and with --include-uncertain, UNKNOWN ones): each
resend is a new attempt of the same notification, and nothing Meta reported as arrived is sent
again."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications import channels, services
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import TicketEventType


class Command(BaseCommand):
    help = "Resend notifications that failed or were skipped within the last HOURS."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=float, default=24, metavar="HOURS",
                            help="Only notifications created within this many hours (default 24).")
        parser.add_argument("--event", choices=TicketEventType.values, metavar="EVENT",
                            help="Only this event, e.g. TICKET_CREATED.")
        parser.add_argument("--dry-run", action="store_true",
                            help="List what would be resent, send nothing.")
        parser.add_argument("--error-code", metavar="CODE",
                            help="Only notifications that failed with this Graph error code; "
                                 "named here, even a code no resend can cure is resent.")
        parser.add_argument("--include-uncertain", action="store_true",
                            help="Also resend UNKNOWN notifications, which may have gone out: the "
                                 "person may get the message twice.")

    def handle(self, *args, since: float, event: str | None, dry_run: bool,
               include_uncertain: bool, error_code: str | None, **options) -> None:
        if since <= 0:
            raise CommandError("--since takes a positive number of hours.")
        rows = NotificationLog.objects.filter(
            services.resendable(include_uncertain=include_uncertain),
            created_at__gte=timezone.now() - timedelta(hours=since),
        ).select_related("recipient").order_by("created_at", "id")
        if event:
            rows = rows.filter(event=event)
        if error_code:
            rows = rows.filter(error_code=error_code)
        else:
            # Codes no resend can cure (the person opted out, an experiment, the business's own
            # number...): resending them in bulk would only fail again, or annoy.
            final = rows.filter(error_code__in=channels.final_codes()).count()
            rows = rows.exclude(error_code__in=channels.final_codes())
            if final:
                self.stdout.write(f"Left out {final} notification(s) that failed with a code no "
                                  "resend can cure (" + ", ".join(channels.final_codes())
                                  + "); name one with --error-code to resend it anyway.")
        rows = list(rows)

        for row in rows:
            self.stdout.write(
                f"  #{row.pk} {row.event} ticket #{row.ticket_id} → {row.recipient.username} "
                f"({row.get_channel_display()}, {row.status}): {row.error_message[:80]}"
            )
        if dry_run:
            self.stdout.write(f"Dry run: {len(rows)} notification(s) would be resent.")
            return
        done = services.resend(rows, include_uncertain=include_uncertain,
                               include_final=bool(error_code))
        sent = sum(row.status == NotificationStatus.SENT for row in done)
        self.stdout.write(
            f"Resent {len(done)} notification(s): {sent} sent, {len(done) - sent} not sent "
            "(see Notification logs)."
        )
