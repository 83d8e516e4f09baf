"""The insights page's running counts (notifications.tally): its figures are exactly what the page
computed from every log row before the counts existed, whatever the rows went through, folded or
not, in any time zone."""
import random
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from notifications import insights, tally
from notifications.models import NotificationLog, Tally, TallyChange
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


# What the page computed from the log itself before the counts existed (kept here as the yardstick).
def reference_grouped(now):
    windows = Case(*(When(created_at__gte=now - span, then=Value(index))
                     for index, (_, span) in enumerate(insights.WINDOWS)), output_field=IntegerField())
    return list(
        NotificationLog.objects.filter(created_at__gte=now - insights.WINDOWS[-1][1])
        .annotate(day=TruncDate("created_at"), window=windows)
        .values("day", "window", "channel", "status", "delivery_status")
        .annotate(n=Count("id")).order_by())


def reference_failures(now):
    return [(g["error_code"] or "—", g["count"], g["last_seen"]) for g in
            NotificationLog.objects.filter(status="FAILED", created_at__gte=now - insights.WINDOWS[-1][1])
            .values("error_code").annotate(count=Count("id"), last_seen=Max("created_at"))
            .order_by("-count", "error_code")]


def reference_billable(now, months):
    start = now.date().replace(day=1)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    found = {}
    for row in (NotificationLog.objects.filter(Q(pricing_type="regular") | Q(billable=True),
                                               created_at__gte=since)
                .annotate(month=TruncMonth("created_at")).values("month", "pricing_category")
                .annotate(n=Count("pk"))):
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        key = (month, row["pricing_category"] or "unknown")
        found[key] = found.get(key, 0) + row["n"]
    return found


def assert_same_figures(now):
    def rows(groups):
        return sorted((g["day"], g["window"], g["channel"], g["status"], g["delivery_status"],
                       g["n"]) for g in groups)

    assert rows(insights.grouped(now)) == rows(reference_grouped(now))
    assert [(f.code, f.count, f.last_seen) for f in insights.failures_by_code(now)] == (
        reference_failures(now))
    categories, months = insights.billable_by_month(now, 12)
    assert {(m.month, c): n for m in months for c, n in zip(categories, m.counts) if n} == (
        reference_billable(now, 12))


@pytest.fixture
def rows(cast, ticket_in):
    """Random rows over 400 days, many of them a few seconds either side of a window's start."""
    ticket, now = ticket_in(TicketStatus.NEW), timezone.now()
    rng = random.Random(12)
    moments = [now - timedelta(minutes=rng.randint(0, 400 * 24 * 60)) for _ in range(250)]
    for _, span in insights.WINDOWS:
        moments += [now - span + timedelta(seconds=rng.randint(-900, 900)) for _ in range(20)]
    moments += [now - span for _, span in insights.WINDOWS]  # exactly on a start
    for moment in moments:
        status = rng.choice(("SENT", "FAILED", "SKIPPED", "UNKNOWN", "QUEUED", "SENDING"))
        row = NotificationLog.objects.create(
            ticket=ticket, event="TICKET_CREATED", recipient=cast.admin, to="+201000000001",
            message="m", channel=rng.choice(("WHATSAPP", "EMAIL")), status=status,
            delivery_status=rng.choice(("", "sent", "delivered", "read", "failed")),
            error_code=rng.choice(("131047", "131030", "")) if status == "FAILED" else "",
            pricing_type=rng.choice(("", "regular", "free_customer_service")),
            billable=rng.choice((None, True, False)),
            pricing_category=rng.choice(("", "utility", "marketing")))
        NotificationLog.objects.filter(pk=row.pk).update(created_at=moment)
    return now, rng


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_figures_equal_a_count_of_every_row_in_any_time_zone(rows, settings, zone):
    settings.TIME_ZONE = zone
    now, _ = rows
    assert TallyChange.objects.exists() and not Tally.objects.exists()  # nothing folded yet
    assert_same_figures(now)
    tally.fold()
    assert not TallyChange.objects.exists() and Tally.objects.exists()
    assert_same_figures(now)


def test_figures_follow_every_change_to_the_rows_folded_or_not(rows):
    now, rng = rows
    pks = list(NotificationLog.objects.values_list("pk", flat=True))
    for round_ in range(3):
        for pk in rng.sample(pks, 40):  # resent, settled by a webhook, charged…
            NotificationLog.objects.filter(pk=pk).update(
                status=rng.choice(("SENT", "FAILED", "UNKNOWN")),
                delivery_status=rng.choice(("delivered", "read")),
                error_code=rng.choice(("131047", "131026", "")), billable=True,
                pricing_category=rng.choice(("utility", "authentication")))
        moved = rng.sample(pks, 10)
        NotificationLog.objects.filter(pk__in=moved).update(created_at=now - timedelta(days=2))
        gone = rng.sample(pks, 10)
        NotificationLog.objects.filter(pk__in=gone).delete()
        pks = [pk for pk in pks if pk not in gone]
        # Claims and the like change nothing counted: no change is appended for them.
        before = TallyChange.objects.count()
        NotificationLog.objects.filter(pk__in=pks[:20]).update(attempt_count=3, claim="x")
        assert TallyChange.objects.count() == before
        assert_same_figures(now)
        if round_ != 1:
            tally.fold()
            assert_same_figures(now)


def test_fold_twice_changes_nothing_and_leaves_no_zero_counts(rows):
    now, _ = rows
    folded = tally.fold()
    assert folded > 0 and tally.fold() == 0
    NotificationLog.objects.all().delete()
    tally.fold()
    assert not Tally.objects.exists()  # every count went to zero and was dropped
    assert insights.grouped(now) == [] and insights.failures_by_code(now) == []


def test_the_recovery_pass_folds(rows):
    from notifications import services

    last = TallyChange.objects.latest("pk").pk
    services.recover()  # it also sends the ticket's own notifications: their changes come after
    assert not TallyChange.objects.filter(pk__lte=last).exists() and Tally.objects.exists()


def test_a_bucket_is_the_quarter_hour_a_moment_falls_in():
    moment = timezone.make_aware(datetime(2026, 11, 30, 11, 44, 59, 999999), dt_timezone.utc)
    assert tally.floor(moment) == moment.replace(minute=30, second=0, microsecond=0)
    assert tally.floor(moment.replace(minute=45, second=0, microsecond=0)).minute == 45
    kolkata = moment.astimezone(timezone.get_fixed_timezone(330))  # +05:30
    assert tally.floor(kolkata) == moment.replace(minute=30, second=0, microsecond=0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_folds_and_writers_racing_on_postgres_count_every_row_once(cast, ticket_in):
    from tickets.tests.threads import all_at_once, skip_unless_postgres

    skip_unless_postgres()
    ticket, now = ticket_in(TicketStatus.NEW), timezone.now()

    def work():
        rng = random.Random()
        for _ in range(10):
            row = NotificationLog.objects.create(
                ticket=ticket, event="TICKET_CREATED", recipient=cast.admin, to="+201000000001",
                message="m", status="FAILED", error_code=rng.choice(("131047", "131030")))
            NotificationLog.objects.filter(pk=row.pk).update(status="SENT", delivery_status="read")
            tally.fold()
        return True

    assert all_at_once(10, work) == [True] * 10
    assert_same_figures(now)
    tally.fold()
    assert_same_figures(now)
    sent = [row for row in insights.summary(now) if row.window == "Last 24 hours"
            and row.channel == "WhatsApp"][0]
    assert sent.read == NotificationLog.objects.filter(delivery_status="read").count() == 100


def test_a_flush_that_empties_the_counts_before_the_log_leaves_no_counts_behind(rows, staff):
    """`flush` deletes every table in no set order (row by row on SQLite): the log's delete
    triggers may append -1s after the counts were emptied. post_migrate, which flush sends,
    drops the counts of an empty table; the insights page then has nothing to show, as it should."""
    from django.apps import apps
    from django.db import connection
    from django.db.models.signals import post_migrate

    now, _ = rows
    tally.fold()
    with connection.cursor() as cursor:
        for table in ("notifications_tally", "notifications_tallychange",
                      "notifications_notificationlog"):
            cursor.execute(f"DELETE FROM {table}")
    assert TallyChange.objects.exists()  # the -1s of every row, counted nowhere
    config = apps.get_app_config("notifications")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False,
                      using="default", plan=[], apps=apps)
    assert not TallyChange.objects.exists() and not Tally.objects.exists()
    assert insights.failures_by_code(now) == [] and insights.grouped(now) == []
    assert staff.get("/admin/notifications/notificationinsights/").status_code == 200
