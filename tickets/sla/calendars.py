"""Working time: adding it to a moment, and counting it between two, on a business calendar.

Intervals are local times in the calendar's zone, turned into instants day by day, so a working
day that contains a daylight-saving change is an hour shorter or longer, as it is on the team's
clocks. No calendar (None) is 24/7.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tickets.sla.models import MIDNIGHT, Calendar

# How far ahead a deadline is looked for: a calendar with no working time at all has none.
HORIZON_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar holds too little working time within HORIZON_DAYS for the time asked."""


@dataclass(frozen=True)
class Hours:
    """A calendar's rules, read once: what the arithmetic needs, no database."""

    zone: ZoneInfo
    # Per weekday (0 is Monday): its intervals as local (start, end), sorted and merged.
    week: tuple[tuple[tuple[time, time | None], ...], ...]
    holidays: frozenset[date]

    @classmethod
    def of(cls, calendar: Calendar) -> "Hours":
        week: list[list[tuple[time, time | None]]] = [[] for _ in range(7)]
        for interval in calendar.intervals.all():
            # None: until midnight, the end of the day.
            end = None if interval.end == MIDNIGHT else interval.end
            week[interval.weekday].append((interval.start, end))
        return cls(ZoneInfo(calendar.time_zone), tuple(_merged(day) for day in week),
                   frozenset(calendar.holidays.values_list("day", flat=True)))

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working time as (start, end) instants in UTC, in order."""
        if day in self.holidays:
            return []
        found = []
        for start, end in self.week[day.weekday()]:
            begins = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
            ends = (datetime.combine(day + timedelta(days=1), MIDNIGHT, tzinfo=self.zone)
                    if end is None else datetime.combine(day, end, tzinfo=self.zone))
            ends = ends.astimezone(UTC)
            if ends > begins:  # a stretch swallowed whole by a spring-forward gap is none
                found.append((begins, ends))
        return found

    def _from(self, moment: datetime):
        """The windows from the local day of `moment` on (the day before too: its midnight end
        may lie after `moment` in UTC)."""
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            yield from self.windows(day + timedelta(days=offset))


def add(calendar: Hours | None, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of working time after `start`."""
    if calendar is None:
        return start + timedelta(seconds=seconds)
    left = max(seconds, 0.0)
    for begins, ends in calendar._from(start):
        if ends <= start:
            continue
        begins = max(begins, start)
        room = (ends - begins).total_seconds()
        if left <= room:
            return begins + timedelta(seconds=left)
        left -= room
    raise NoWorkingTime(f"The calendar holds less than {seconds / 3600:.1f} working hours in the "
                        f"{HORIZON_DAYS} days from {start:%Y-%m-%d}: give it working intervals.")


def between(calendar: Hours | None, start: datetime, end: datetime) -> float:
    """Seconds of working time from `start` to `end` (0 when `end` is not after `start`)."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = 0.0
    for begins, ends in calendar._from(start):
        if begins >= end:
            break
        overlap = (min(ends, end) - max(begins, start)).total_seconds()
        total += max(overlap, 0.0)
    return total


def _merged(intervals: list[tuple[time, time | None]]) -> tuple[tuple[time, time | None], ...]:
    """Sorted, overlapping or touching stretches joined into one."""
    merged: list[tuple[time, time | None]] = []
    for start, end in sorted(intervals, key=lambda pair: pair[0]):
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            longer = None if last_end is None or end is None else max(last_end, end)
            merged[-1] = (last_start, longer)
        else:
            merged.append((start, end))
    return tuple(merged)
