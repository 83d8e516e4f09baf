"""The recovery pass: send QUEUED notifications that are due, and turn sends abandoned by a dead
process (SENDING past the lease) into UNKNOWN. Run it every minute from cron or a systemd timer;
several hosts may run it at once."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from notifications import delivery, services
from notifications.models import NotificationStatus


class Command(BaseCommand):
    help = ("Send due QUEUED notifications; mark SENDING ones whose sender went silent longer than "
            "--older-than seconds as UNKNOWN (never resent blindly).")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", type=float, default=services.LEASE.total_seconds(), metavar="SECONDS",
            help=f"The lease: a SENDING notification this old is taken as abandoned (default "
                 f"{services.LEASE.total_seconds():g}; at least the send time bound).")
        parser.add_argument("--batch", type=int, default=500, metavar="N",
                            help="At most this many notifications of each kind per pass (default 500).")

    def handle(self, *args, older_than: float, batch: int, **options) -> None:
        if older_than < delivery.time_bound():
            raise CommandError(
                f"--older-than must be at least the send time bound ({delivery.time_bound():g} s): "
                "a shorter lease would give up on sends that are still waiting for Graph.")
        if batch < 1:
            raise CommandError("--batch takes a positive number.")
        done = services.recover(lease=timedelta(seconds=older_than), batch=batch)
        counts = {status: 0 for status in NotificationStatus.values}
        for row in done.delivered:
            counts[row.status] += 1
        outcome = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "nothing"
        sent = f"{len(done.delivered)} due notification(s) sent: {outcome}"
        if done.handed_over:
            sent = f"{done.handed_over} due notification(s) handed to the Celery workers"
        self.stdout.write(f"{done.abandoned} abandoned send(s) marked UNKNOWN; {sent}.")
