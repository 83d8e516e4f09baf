"""Figures for the "Notification insights" admin page: a few aggregate queries, whatever the size
of the log, and a sent-against-failed chart drawn as SVG on the server (no chart library)."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Min, Q, Subquery, Value, When
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from notifications import channels, tally
from tickets.selectors import SatisfactionRow, satisfaction_by
from tickets.models import TicketEventType
from notifications.models import (Channel, DeliveryStatus, HeldStatus, NotificationLog,
                                  NotificationStatus)

WINDOWS = (("Last 24 hours", timedelta(hours=24)), ("Last 7 days", timedelta(days=7)),
           ("Last 30 days", timedelta(days=30)))
METRICS = ("sent", "failed", "skipped", "unknown", "delivered", "read")


@dataclass(frozen=True)
class Row:
    window: str
    channel: str
    sent: int
    failed: int
    skipped: int
    unknown: int
    delivered: int
    read: int
    reported: bool = True  # whether anything reports delivery on this channel

    @property
    def delivery_rate(self) -> str:
        """Delivered (or read) out of sent, as Meta's webhooks reported it; "—" where nothing
        reports deliveries (email, or WhatsApp with webhooks off), not a misleading 0 %."""
        return f"{100 * self.delivered / self.sent:.0f}%" if self.sent and self.reported else "—"


@dataclass(frozen=True)
class Queue:
    """What waits to be sent: the figure to watch when workers or the recovery pass fall behind."""

    queued: int  # QUEUED rows, due or waiting out a retry delay
    due: int  # of those, the ones that could go now
    oldest_due_seconds: float  # how long the oldest due row has waited (0 when none)
    sending: int

    def as_dict(self) -> dict:
        return {"queued": self.queued, "due": self.due,
                "oldest_due_seconds": round(self.oldest_due_seconds, 1), "sending": self.sending}


def queue(now: datetime) -> Queue:
    """One query over the few unsettled rows (the status index), whatever the size of the log."""
    queued, due = Q(status=NotificationStatus.QUEUED), Q(status=NotificationStatus.QUEUED,
                                                          next_attempt_at__lte=now)
    figures = NotificationLog.objects.filter(
        status__in=(NotificationStatus.QUEUED, NotificationStatus.SENDING)).aggregate(
        queued=Count("pk", filter=queued), due=Count("pk", filter=due),
        oldest=Min("next_attempt_at", filter=due),
        sending=Count("pk", filter=Q(status=NotificationStatus.SENDING)))
    oldest = figures["oldest"]
    return Queue(queued=figures["queued"], due=figures["due"], sending=figures["sending"],
                 oldest_due_seconds=(now - oldest).total_seconds() if oldest else 0.0)


@dataclass(frozen=True)
class Held:
    waiting: int  # delivery reports waiting for their message's send to record its id
    given_up: int  # of the last 30 days: reports no send ever claimed (dropped after a day)


def held_reports(now: datetime) -> Held:
    figures = HeldStatus.objects.aggregate(
        waiting=Count("pk", filter=Q(given_up_at__isnull=True)),
        given_up=Count("pk", filter=Q(given_up_at__gte=now - timedelta(days=30))))
    return Held(figures["waiting"], figures["given_up"])


def delivery_reports_on() -> bool:
    """Meta reports deliveries only to a webhook this service can verify."""
    return bool(settings.WHATSAPP_APP_SECRET and settings.WHATSAPP_WEBHOOK_VERIFY_TOKEN)


def grouped(now: datetime) -> list[dict]:
    """The last 30 days' rows counted once, by local day, by the shortest window each falls in,
    and by channel, status and delivery status: the summary and the per-day chart both add these
    up. From the running counts (notifications.tally), with the few quarter hours that straddle
    a window's start counted row by row, so the figures are exactly a count of the rows."""
    edges = [tally.floor(now - span) for _, span in WINDOWS]
    fields = ("day", "window", "channel", "status", "delivery_status")

    def windows(moment: str) -> Case:
        return Case(*(When(**{f"{moment}__gte": now - span}, then=Value(index))
                      for index, (_, span) in enumerate(WINDOWS)), output_field=IntegerField())

    straddling = Q()
    for edge in edges:
        straddling |= Q(created_at__gte=edge, created_at__lt=edge + tally.BUCKET)
    rows = (NotificationLog.objects.filter(straddling, created_at__gte=now - WINDOWS[-1][1])
            .annotate(day=TruncDate("created_at"), window=windows("created_at"))
            .values(*fields).annotate(total=Count("pk")).order_by())
    return tally.counted(Q(bucket__gt=edges[-1]) & ~Q(bucket__in=edges), fields, also=rows,
                         day=TruncDate("bucket"), window=windows("bucket"))


def _metrics(group: dict) -> set[str]:
    found = {group["status"].lower()} & {"sent", "failed", "skipped", "unknown"}
    if group["delivery_status"] in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
        found.add("delivered")
    if group["delivery_status"] == DeliveryStatus.READ:
        found.add("read")
    return found


def summary(now: datetime, *, delivery_reports: bool = True,
            groups: list[dict] | None = None) -> list[Row]:
    """Per window and channel. `delivery_reports`: whether WhatsApp status webhooks are on (email
    never reports deliveries). `groups`: grouped(now), when the caller has it already."""
    groups = grouped(now) if groups is None else groups
    totals: dict[tuple[int, str, str], int] = {}
    for group in groups:
        for index in range(group["window"], len(WINDOWS)):  # in its window and every longer one
            for metric in _metrics(group):
                key = (index, group["channel"], metric)
                totals[key] = totals.get(key, 0) + group["n"]
    rows = []
    for index, (label, _) in enumerate(WINDOWS):
        for channel, channel_label in Channel.choices:
            reported = delivery_reports and channel == Channel.WHATSAPP
            rows.append(Row(label, channel_label,
                            **{m: totals.get((index, channel, m), 0) for m in METRICS},
                            reported=reported))
    return rows


@dataclass(frozen=True)
class FailureGroup:
    code: str
    count: int
    last_seen: datetime
    explanation: str


def failures_by_code(now: datetime) -> list[FailureGroup]:
    """The last 30 days' failures grouped by Graph error code, commonest first."""
    since = now - WINDOWS[-1][1]
    edge = tally.floor(since)
    failed = Q(status=NotificationStatus.FAILED)
    rows = (NotificationLog.objects.filter(failed, created_at__gte=since,
                                           created_at__lt=edge + tally.BUCKET)
            .values("error_code").annotate(total=Count("pk")).order_by())
    counts = tally.counted(failed & Q(bucket__gt=edge), ("error_code",), also=rows)
    counts.sort(key=lambda group: (-group["n"], group["error_code"]))
    result = []
    for group, seen in zip(counts, _last_seen([g["error_code"] for g in counts], since)):
        code = group["error_code"]
        known = channels.explain(code) if code else None
        if known is not None:
            explanation = known
        elif code:
            explanation = "Not a code this system knows; see the rows' own messages."
        else:
            explanation = ("No Graph code: timeouts, refused connections, unreadable answers, or "
                           "the mail server. See the rows' messages.")
        result.append(FailureGroup(code or "—", group["n"], seen, explanation))
    return result


def _last_seen(codes: list[str], since: datetime) -> list[datetime]:
    """The newest failure of each code, in one query: a probe of the (status, code, created_at)
    index per code, asked on one of the failed rows (there is one, or no code to ask about)."""
    if not codes:
        return []
    failed = NotificationLog.objects.filter(status=NotificationStatus.FAILED, created_at__gte=since)
    newest = {f"c{n}": Subquery(failed.filter(error_code=code).order_by("-created_at")
                                .values("created_at")[:1]) for n, code in enumerate(codes)}
    found = failed.order_by().annotate(**newest).values(*newest)[0]
    return [found[name] for name in newest]


@dataclass(frozen=True)
class Day:
    day: date
    sent: int
    failed: int


# How many months of charges the page may show (the admin picks one).
PRICING_MONTHS = (1, 3, 6, 12)


@dataclass(frozen=True)
class Billable:
    month: date
    counts: list[int]  # charged messages per category, in the order of the categories returned

    @property
    def total(self) -> int:
        return sum(self.counts)


def billable_by_month(now: datetime, months: int = 3) -> tuple[list[str], list[Billable]]:
    """Messages Meta reported as charged (pricing type `regular`, or `billable` in older
    payloads), per calendar month and category, this month and the `months - 1` before it."""
    start = now.date().replace(day=1)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    # Local midnight falls on a quarter hour, so each bucket lies in one month.
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    table: dict[date, dict[str, int]] = {}
    for row in tally.counted(Q(charged=True, bucket__gte=since), ("month", "category"),
                             month=TruncMonth("bucket")):
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        category = row["category"] or "unknown"
        table.setdefault(month, {})[category] = table.get(month, {}).get(category, 0) + row["n"]
    categories = sorted({c for by_category in table.values() for c in by_category})
    return categories, [Billable(m, [table[m].get(c, 0) for c in categories])
                        for m in sorted(table, reverse=True)]


def per_day(now: datetime, days: int = 30, groups: list[dict] | None = None) -> list[Day]:
    """Sent and failed per day for the last `days` days (empty days included); `groups`:
    grouped(now), when the caller has it already."""
    groups = grouped(now) if groups is None else groups
    first = timezone.localdate(now) - timedelta(days=days - 1)
    counted: dict[date, dict[str, int]] = {}
    for group in groups:
        if group["status"] in (NotificationStatus.SENT, NotificationStatus.FAILED):
            day = counted.setdefault(group["day"], {"SENT": 0, "FAILED": 0})
            day[group["status"]] += group["n"]
    return [Day(first + timedelta(days=n), *(counted.get(first + timedelta(days=n), {}).get(s, 0)
                                             for s in ("SENT", "FAILED")))
            for n in range(days)]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "sent" or "failed"
    title: str


def chart_bars(days: list[Day], *, width: int = 720, height: int = 180) -> list[Bar]:
    """Two bars a day, scaled to the busiest day: pure geometry for the SVG in the template."""
    peak = max((max(d.sent, d.failed) for d in days), default=0) or 1
    slot = width / max(len(days), 1)
    bar = slot * 0.4
    bars = []
    for n, d in enumerate(days):
        for offset, kind, value in ((0.1, "sent", d.sent), (0.5, "failed", d.failed)):
            h = height * value / peak
            bars.append(Bar(round(n * slot + offset * slot, 1), round(height - h, 1), round(bar, 1),
                            round(h, 1), kind, f"{d.day:%b %d}: {value} {kind}"))
    return bars


@dataclass(frozen=True)
class PagesWeek:
    week: date  # its Monday
    pages: int  # pages that went out on WhatsApp (sent or tried; not the skipped)
    charged: int  # of those, the ones Meta reported as charged
    cost: str  # charged × WHATSAPP_UTILITY_PRICE, "—" when no price is set


def pages_by_week(now: datetime, weeks: int = 8) -> list[PagesWeek]:
    """Pages sent per week, newest first, and what they cost (Meta charges a delivered utility
    template; a page inside the 24-hour window is free)."""
    since = timezone.make_aware(datetime.combine(
        timezone.localdate(now) - timedelta(days=7 * (weeks - 1) + timezone.localdate(now).weekday()),
        datetime.min.time()))
    rows = (NotificationLog.objects
            .filter(event=TicketEventType.TICKET_PAGED, channel=Channel.WHATSAPP,
                    created_at__gte=since).exclude(status=NotificationStatus.SKIPPED)
            .annotate(week=TruncWeek("created_at")).values("week")
            .annotate(pages=Count("pk"),
                      charged=Count("pk", filter=Q(pricing_type="regular") | Q(billable=True)))
            .order_by("-week"))
    price = settings.WHATSAPP_UTILITY_PRICE

    def cost(charged: int) -> str:
        return f"{charged * price:.2f}" if price else "—"

    return [PagesWeek(_day(row["week"]), row["pages"], row["charged"], cost(row["charged"]))
            for row in rows]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


SATISFACTION_SPAN = timedelta(days=365)


def satisfaction(now: datetime) -> list[tuple[str, str, list[SatisfactionRow]]]:
    """The clients' ratings of the last 12 months per developer, project and month."""
    found = satisfaction_by(since=now - SATISFACTION_SPAN)
    return [(group, label, found[group]) for group, label in (
        ("developer", "Developer"), ("project", "Project"), ("month", "Month"))]
