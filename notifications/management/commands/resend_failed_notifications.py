"""Resend FAILED and SKIPPED notifications: each resend is a new log row linked to the one it
repeats, and nothing that was later sent is sent again."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications import services
from notifications.models import NotificationLog, NotificationStatus
from tickets.models import TicketEventType


class Command(BaseCommand):
    help = "Resend notifications that failed or were skipped within the last HOURS."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=float, default=24, metavar="HOURS",
                            help="Only rows created within this many hours (default 24).")
        parser.add_argument("--event", choices=TicketEventType.values, metavar="EVENT",
                            help="Only this event, e.g. TICKET_CREATED.")
        parser.add_argument("--dry-run", action="store_true",
                            help="List what would be resent, send nothing.")
        parser.add_argument("--include-uncertain", action="store_true",
                            help="Also resend rows whose first send may have gone out "
                                 "(timeouts): the person may get the message twice.")

    def handle(self, *args, since: float, event: str | None, dry_run: bool,
               include_uncertain: bool, **options) -> None:
        if since <= 0:
            raise CommandError("--since takes a positive number of hours.")
        rows = NotificationLog.objects.filter(
            status__in=(NotificationStatus.FAILED, NotificationStatus.SKIPPED),
            created_at__gte=timezone.now() - timedelta(hours=since),
            retries__isnull=True,
        ).select_related("recipient", "ticket").order_by("created_at", "id")
        if event:
            rows = rows.filter(event=event)
        if not include_uncertain:
            rows = rows.filter(may_have_been_sent=False)
        candidates = services.resendable(rows)

        for row in candidates:
            self.stdout.write(
                f"  #{row.pk} {row.event} ticket #{row.ticket_id} → {row.recipient.username} "
                f"({row.get_channel_display()}, {row.status}): {row.error_message[:80]}"
            )
        if dry_run:
            self.stdout.write(f"Dry run: {len(candidates)} notification(s) would be resent.")
            return
        new_rows = services.resend(candidates)
        sent = sum(row.status == NotificationStatus.SENT for row in new_rows)
        self.stdout.write(
            f"Resent {len(candidates)} notification(s) in {len(new_rows)} attempt(s): {sent} sent, "
            f"{len(new_rows) - sent} failed or skipped again (see Notification logs)."
        )
