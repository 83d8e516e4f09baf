"""Service-level figures for the insights page: targets met per priority, and how long
acknowledging and resolving take (median and 90th percentile). Each is one query over the clocks
or runs of the period (the clocks settled in it, the runs acknowledged in it)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from tickets.escalation.models import Run, RunState
from tickets.models import PRIORITY_RANK
from tickets.sla.models import Clock, ClockState, Metric

SINCE = timedelta(days=90)  # the period the insights page shows


@dataclass(frozen=True)
class TargetsMet:
    priority: str
    metric: str  # the label: "First response", "Resolution"
    met: int  # reached in time
    missed: int  # breached

    @property
    def share(self) -> str:
        settled = self.met + self.missed
        return f"{100 * self.met / settled:.0f}%" if settled else "—"


@dataclass(frozen=True)
class Spread:
    what: str
    count: int
    median: timedelta | None
    p90: timedelta | None


def targets_met(*, since: datetime) -> list[TargetsMet]:
    """Per priority and metric, the clocks settled since `since`: met in time or breached."""
    rows = (Clock.objects.filter(Q(met_at__gte=since) | Q(breached_at__gte=since))
            .values("ticket__priority", "metric")
            .annotate(met=Count("pk", filter=Q(state=ClockState.MET)),
                      missed=Count("pk", filter=Q(state=ClockState.BREACHED))).order_by())
    labels = dict(Metric.choices)
    found = [TargetsMet(row["ticket__priority"], labels[row["metric"]], row["met"], row["missed"])
             for row in rows]
    return sorted(found, key=lambda r: (-PRIORITY_RANK.get(r.priority, 0), r.metric))


def spreads(*, since: datetime) -> list[Spread]:
    """Time to acknowledge (from a run's start to its acknowledgement) and time to resolve (from
    filing to the resolution target being reached, wall-clock), since `since`."""
    acknowledged = [row[1] - row[0] for row in
                    Run.objects.filter(state=RunState.ACKNOWLEDGED, ended_at__gte=since)
                    .values_list("started_at", "ended_at")]
    resolved = [row[1] - row[0] for row in
                Clock.objects.filter(metric=Metric.RESOLUTION, met_at__gte=since)
                .values_list("started_at", "met_at")]
    return [_spread("Time to acknowledge a page", acknowledged),
            _spread("Time to resolve", resolved)]


def _spread(what: str, durations: list[timedelta]) -> Spread:
    if not durations:
        return Spread(what, 0, None, None)
    ordered = sorted(durations)
    return Spread(what, len(ordered), _percentile(ordered, 50), _percentile(ordered, 90))


def _percentile(ordered: list[timedelta], percent: int) -> timedelta:
    """The nearest-rank percentile: the smallest value with `percent` % of the values at or
    below it."""
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil
    return ordered[rank - 1]

