"""The insights page's service-level figures: targets met per priority, time to acknowledge and
to resolve (median, p90), pages per week and what they cost."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications import insights
from notifications.models import Channel, NotificationLog
from tickets import services
from tickets.escalation import figures, runs, timers
from tickets.escalation.models import Run
from tickets.models import Priority, TicketEventType, TicketStatus
from tickets.sla.models import Clock

pytestmark = pytest.mark.django_db


def test_percentiles_are_nearest_rank():
    minutes = [timedelta(minutes=n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 30)]
    spread = figures._spread("x", list(reversed(minutes)))
    assert (spread.count, spread.median, spread.p90) == (10, timedelta(minutes=5),
                                                         timedelta(minutes=9))
    assert figures._spread("none", []).median is None


def test_targets_met_and_times_from_real_tickets(cast, ticket_in, policy, travel, staff, settings):
    opened = ticket_in(TicketStatus.OPENED)  # first response met in time
    late = ticket_in(TicketStatus.NEW)
    start = Clock.objects.filter(ticket=late).first().started_at
    travel(start + timedelta(minutes=15))
    timers.tick()  # late's first response breaches: the on-call developer is paged
    travel(start + timedelta(minutes=18))
    runs.acknowledge(ticket_id=late.pk, actor=cast.admin)
    travel(start + timedelta(hours=1))
    for action in ("assign", "start", "finish", "close"):
        services.ticket_transition(ticket_id=opened.pk, actor=cast.admin if action in (
            "assign", "close") else cast.developer, action=action, developer_id=cast.developer.pk,
            resolution="Fixed.")
    now = timezone.now()
    met = {(row.priority, row.metric): (row.met, row.missed, row.share)
           for row in figures.targets_met(since=now - figures.SINCE)}
    assert met == {(Priority.HIGH, "First response"): (1, 1, "50%"),
                   (Priority.HIGH, "Resolution"): (1, 0, "100%")}
    acknowledge, resolve = figures.spreads(since=now - figures.SINCE)
    assert (acknowledge.count, acknowledge.median) == (1, timedelta(minutes=3))
    assert resolve.count == 1 and resolve.median >= timedelta(minutes=59)
    assert Run.objects.get().acknowledged_by == cast.admin

    NotificationLog.objects.filter(event=TicketEventType.TICKET_PAGED,
                                   channel=Channel.WHATSAPP).update(pricing_type="regular")
    settings.WHATSAPP_UTILITY_PRICE = Decimal("0.0080")
    [week] = insights.pages_by_week(now)
    assert (week.pages, week.charged, week.cost) == (1, 1, "0.01")
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-sla-targets"' in page and "50%" in page
    assert 'id="insights-pages"' in page and "Time to acknowledge a page" in page
