"""Pages that do not get through: a WhatsApp page with no `delivered` report within
PAGE_EMAIL_AFTER seconds is emailed too (the person's next channel), and a step whose pages reach
nobody (every one refused or skipped, on every channel) moves its chain on at once.

Run by the timer pass (notifications.services.tick); both steps are safe to run twice: the
database refuses a second email of the same page, and moving a run on is a conditional update.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from notifications import delivery, intents
from notifications.models import Channel, DeliveryStatus, NotificationLog, NotificationStatus
from tickets.escalation import runs
from tickets.escalation.models import Page, RunState
from tickets.models import TicketEventType

PASS = 500
# Pages older than this are past emailing: the pass reads only the day's page rows (an index
# holds only page rows), however long the log grows.
RECENT = timedelta(days=1)
REACHED = (DeliveryStatus.DELIVERED, DeliveryStatus.READ)
NOBODY = (NotificationStatus.FAILED, NotificationStatus.SKIPPED)


def to_email(now: datetime) -> int:
    """Email each open page its WhatsApp copy has not been reported delivered for; returns how
    many emails were written."""
    emailed = NotificationLog.objects.filter(ticket_event=OuterRef("ticket_event"),
                                             recipient=OuterRef("recipient"), channel=Channel.EMAIL)
    unanswered = Page.objects.filter(ticket_event=OuterRef("ticket_event"),
                                     user=OuterRef("recipient"), answer="",
                                     run__state=RunState.ACTIVE)
    stale = (NotificationLog.objects
             .filter(event=TicketEventType.TICKET_PAGED, channel=Channel.WHATSAPP,
                     created_at__lte=now - timedelta(seconds=settings.PAGE_EMAIL_AFTER),
                     created_at__gte=now - RECENT,
                     recipient__email__gt="")
             .exclude(delivery_status__in=REACHED).exclude(held_until__gt=now)
             .filter(Exists(unanswered)).exclude(Exists(emailed))
             .select_related("recipient__profile", "ticket", "ticket_event").order_by("pk")[:PASS])
    written = [row for row in (intents.email_intent(page) for page in stale) if row is not None]
    delivery.dispatch([row.pk for row in written], known=written)
    return len(written)


def move_on_unreached(now: datetime) -> int:
    """Take the next step at once for each active run whose last step reached nobody."""
    latest: dict[int, int] = {}
    for run_id, event_id in (Page.objects.filter(run__state=RunState.ACTIVE, run__due_at__gt=now)
                             .order_by("run_id", "-ticket_event_id")
                             .values_list("run_id", "ticket_event_id")[:PASS]):
        latest.setdefault(run_id, event_id)
    moved = 0
    for run_id, event_id in latest.items():
        statuses = set(NotificationLog.objects.filter(ticket_event_id=event_id)
                       .values_list("status", flat=True))
        if statuses and statuses <= set(NOBODY):
            moved += runs.hurry(run_id=run_id, now=now,
                                why="nobody paged could be reached (every message refused or "
                                "skipped)")
    return moved
