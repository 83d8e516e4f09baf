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
    # Nothing reports email deliveries: no rate rather than a misleading 0 %.
    assert rows[("Last 24 hours", "Email")].delivery_rate == "—"


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
    # The figures, the chart, the failures, the queue (one query), the clients' ratings (one
    # query), the service levels (targets met, times to acknowledge and to resolve, pages per
    # week: one query each), the admin's session and user.
    with django_assert_max_num_queries(14):
        page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-summary"' in page and "<svg" in page and "<rect" in page
    assert "131030" in page and "67%" in page
    assert "cdn" not in page.lower()


def test_page_is_for_staff_only(client, log):
    response = client.get("/admin/notifications/notificationinsights/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_with_webhooks_off_there_is_no_delivery_rate_and_the_page_says_how_to_turn_them_on(
        staff, log, settings):
    settings.WHATSAPP_APP_SECRET = ""
    rows = {(r.window, r.channel): r for r in insights.summary(log, delivery_reports=False)}
    assert rows[("Last 24 hours", "WhatsApp")].delivery_rate == "—"
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-no-delivery-reports"' in page
    assert "WHATSAPP_APP_SECRET" in page and "/api/notifications/whatsapp/webhook/" in page
    assert "<td>67%</td>" not in page


def test_with_webhooks_on_the_page_has_no_such_note(staff, log):
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-no-delivery-reports"' not in page and "<td>67%</td>" in page


def test_with_no_data_the_chart_says_what_is_missing(staff, settings):
    settings.WHATSAPP_ACCESS_TOKEN = ""
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-chart-empty"' in page and 'id="insights-chart"' not in page
    assert "console mode" in page and "WHATSAPP_ACCESS_TOKEN" in page
    assert "No failures in the last 30 days." in page


def test_each_error_code_links_to_exactly_its_rows(staff, log):
    import re
    from html import unescape

    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    links = dict((unescape(code), unescape(href)) for href, code in
                 re.findall(r'<td><a href="([^"]+)">([^<]+)</a></td>', page))
    assert set(links) == {"131030", "—"}
    for code, expected in (("131030", 2), ("—", 1)):
        listing = staff.get(links[code])
        assert listing.status_code == 200
        assert listing.context["cl"].result_count == expected, code
        assert all(row.status == "FAILED" for row in listing.context["cl"].result_list)


def test_a_staff_user_without_the_log_permission_gets_no_figures(client, log, cast):
    cast.client.is_staff = True
    cast.client.set_password("pw")
    cast.client.save()
    client.login(username=cast.client.username, password="pw")
    assert client.get("/admin/notifications/notificationinsights/").status_code == 403
    assert "Notification insights" not in client.get("/admin/").content.decode()


def test_a_staff_user_with_the_log_view_permission_sees_the_page(client, log, cast):
    from django.contrib.auth.models import Permission

    cast.client.is_staff = True
    cast.client.set_password("pw")
    cast.client.save()
    cast.client.user_permissions.add(Permission.objects.get(codename="view_notificationlog"))
    client.login(username=cast.client.username, password="pw")
    assert client.get("/admin/notifications/notificationinsights/").status_code == 200


def test_charged_messages_per_month_and_category_for_the_chosen_months(staff, cast, ticket_in):
    ticket = ticket_in(TicketStatus.NEW)
    now = timezone.now()

    def charged(category: str, days_ago: int, **pricing) -> None:
        NotificationLog.objects.create(
            ticket=ticket, event="TICKET_OPENED", recipient=cast.client, to="+201000000003",
            message="m", status="SENT", pricing_category=category,
            **(pricing or {"pricing_type": "regular", "pricing_model": "PMP"}))
        NotificationLog.objects.filter(pk=NotificationLog.objects.latest("pk").pk).update(
            created_at=now - timedelta(days=days_ago))

    charged("utility", 0)
    charged("utility", 0)
    charged("marketing", 0)
    charged("utility", 0, pricing_type="free_customer_service")  # free: not counted
    charged("authentication", 0, billable=True)  # older payloads: only `billable`
    charged("utility", 200)  # outside 3 months, inside 12
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    table = page.split('id="insights-billable"')[1].split("</table>")[0]
    assert "<th>authentication</th><th>marketing</th><th>utility</th><th>Total</th>" in table
    assert "<td>1</td><td>1</td><td>2</td><td>4</td>" in table and table.count("<tr>") == 2
    year = staff.get("/admin/notifications/notificationinsights/?months=12").content.decode()
    assert year.split('id="insights-billable"')[1].split("</table>")[0].count("<tr>") == 3
    bogus = staff.get("/admin/notifications/notificationinsights/?months=7").content.decode()
    assert "Charged messages (last 3 months)" in bogus  # not a choice: the default


def test_no_charged_messages_says_so(staff):
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-billable-empty"' in page


def test_figures_and_chart_match_a_count_of_every_row_by_hand(cast, ticket_in):
    """Random rows over 40 days: each window's figures and each day's bars are what counting the
    rows one by one gives."""
    import random

    random.seed(5)
    ticket, now = ticket_in(TicketStatus.NEW), timezone.now()
    statuses = ("SENT", "FAILED", "SKIPPED", "UNKNOWN", "QUEUED")
    for _ in range(300):
        row = NotificationLog.objects.create(
            ticket=ticket, event="TICKET_CREATED", recipient=cast.admin, to="+201000000001",
            message="m", channel=random.choice(("WHATSAPP", "EMAIL")),
            status=random.choice(statuses), delivery_status=random.choice(("", "delivered", "read", "failed")))
        NotificationLog.objects.filter(pk=row.pk).update(
            created_at=now - timedelta(minutes=random.randint(0, 40 * 24 * 60)))
    rows = list(NotificationLog.objects.all())

    def by_hand(since, channel, metric) -> int:
        picked = [r for r in rows if r.created_at >= since and r.channel == channel]
        if metric == "delivered":
            return sum(r.delivery_status in ("delivered", "read") for r in picked)
        if metric == "read":
            return sum(r.delivery_status == "read" for r in picked)
        return sum(r.status == metric.upper() for r in picked)

    labels = dict(insights.Channel.choices)
    for row in insights.summary(now):
        span = dict(insights.WINDOWS)[row.window]
        channel = next(c for c, label in labels.items() if label == row.channel)
        for metric in insights.METRICS:
            assert getattr(row, metric) == by_hand(now - span, channel, metric), (row, metric)
    for day in insights.per_day(now):
        mine = [r for r in rows if timezone.localdate(r.created_at) == day.day
                and r.created_at >= now - insights.WINDOWS[-1][1]]
        assert (day.sent, day.failed) == (sum(r.status == "SENT" for r in mine),
                                          sum(r.status == "FAILED" for r in mine))


def test_client_satisfaction_per_developer_project_and_month(staff, cast, ticket_in):
    from tickets import services
    from tickets.models import Ticket

    def rated(score, *, project="Web Portal", ago=timedelta(0)):
        ticket = ticket_in(TicketStatus.CLOSED, project_name=project)
        services.ticket_rate(ticket_id=ticket.pk, actor=cast.client, score=score)
        Ticket.objects.filter(pk=ticket.pk).update(rated_at=timezone.now() - ago)

    rated(3), rated(3), rated(1, project="Mobile App"), rated(2, ago=timedelta(days=40))
    rated(1, ago=timedelta(days=400))  # older than a year: not counted
    ticket_in(TicketStatus.CLOSED)  # closed, never rated
    tables = {group: rows for group, _, rows in insights.satisfaction(timezone.now())}
    [developer] = tables["developer"]
    assert (developer.key, developer.unhappy, developer.neutral, developer.happy) == (
        "dev", 1, 1, 2)
    assert developer.rated == 4 and developer.csat == "50%"
    assert [(row.key, row.rated, row.csat) for row in tables["project"]] == [
        ("Web Portal", 3, "67%"), ("Mobile App", 1, "0%")]
    months = tables["month"]
    assert [row.rated for row in months] == [3, 1] and months[0].key > months[1].key
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-csat-developer"' in page and 'id="insights-csat-month"' in page
    assert "<td>Mobile App</td><td>1</td>" in page and "67%" in page


def test_no_ratings_says_so(staff):
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-csat-empty"' in page and 'id="insights-csat-developer"' not in page
