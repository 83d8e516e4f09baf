"""The "Notification insights" admin page: figures per window and channel, failures by code, the
per-day chart, in a few queries."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import insights
from notifications.models import NotificationLog
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    now = timezone.now()

    def add(status, *, ago=timedelta(hours=1), channel="WHATSAPP", delivery="", code=""):
        row = NotificationLog.objects.create(
            ticket=ticket, event="TICKET_CREATED", recipient=cast.admin, channel=channel,
            to="+201000000001", message="m", status=status, delivery_status=delivery,
            error_code=code)
        NotificationLog.objects.filter(pk=row.pk).update(created_at=now - ago)

    add("SENT", delivery="read")
    add("SENT", delivery="delivered")
    add("SENT")
    add("SENT", delivery="delivered", ago=timedelta(days=3))
    add("FAILED", code="131030")
    add("FAILED", code="131030", ago=timedelta(days=2))
    add("FAILED", code="")
    add("SKIPPED")
    add("SENT", channel="EMAIL")
    add("SENT", ago=timedelta(days=40))  # outside every window
    return now


def test_summary_per_window_and_channel(log):
    rows = {(r.window, r.channel): r for r in insights.summary(log)}
    day = rows[("Last 24 hours", "WhatsApp")]
    assert (day.sent, day.failed, day.skipped, day.delivered, day.read) == (3, 2, 1, 2, 1)
    assert day.delivery_rate == "67%"
    week = rows[("Last 7 days", "WhatsApp")]
    assert (week.sent, week.failed, week.delivered) == (4, 3, 3)
    assert rows[("Last 30 days", "Email")].sent == 1
    assert rows[("Last 24 hours", "Email")].delivery_rate == "0%"


def test_failures_grouped_by_code_with_what_to_do(log):
    groups = insights.failures_by_code(log)
    assert [(g.code, g.count) for g in groups] == [("131030", 2), ("—", 1)]
    assert "Manage phone number list" in groups[0].explanation
    assert "timeouts" in groups[1].explanation


def test_chart_has_two_bars_a_day_scaled_to_the_busiest(log):
    days = insights.per_day(log)
    assert len(days) == 30 and days[-1].day == log.date()
    assert (days[-1].sent, days[-1].failed) == (4, 2)  # today, both channels
    bars = insights.chart_bars(days, width=300, height=100)
    assert len(bars) == 60
    tallest = max(bars, key=lambda b: b.height)
    assert tallest.height == 100 and tallest.y == 0 and tallest.kind == "sent"
    assert all(b.width == 4.0 for b in bars)  # 40 % of each day's 10 px slot


def test_page_loads_from_the_admin_index_in_a_few_queries(staff, log, django_assert_max_num_queries):
    index = staff.get("/admin/").content.decode()
    assert "Notification insights" in index and "/admin/notifications/notificationinsights/" in index
    with django_assert_max_num_queries(8):
        page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-summary"' in page and "<svg" in page and "<rect" in page
    assert "131030" in page and "67%" in page
    assert "cdn" not in page.lower()


def test_page_is_for_staff_only(client, log):
    response = client.get("/admin/notifications/notificationinsights/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
