"""Working-time arithmetic on business calendars: examples, daylight saving, holidays, and
properties over random calendars, moments and durations."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tickets.sla import calendars
from tickets.sla.calendars import Hours, _merged
from tickets.sla.models import Calendar, Holiday, WorkingInterval

HOUR = 3600.0
NINE_TO_SIX = ((time(9), time(18)),)
WEEKDAYS = (NINE_TO_SIX,) * 5 + ((), ())


def hours(zone: str = "Europe/Berlin", week=WEEKDAYS, holidays=()) -> Hours:
    return Hours(ZoneInfo(zone), tuple(_merged(list(day)) for day in week), frozenset(holidays))


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


def test_friday_evening_plus_one_working_hour_is_monday_morning():
    berlin = hours()
    friday = local("Europe/Berlin", 2026, 12, 4, 17, 30)
    # Half an hour left on Friday, the other half on Monday from 09:00.
    assert calendars.add(berlin, friday, HOUR) == local("Europe/Berlin", 2026, 12, 7, 9, 30)
    assert calendars.between(berlin, friday, local("Europe/Berlin", 2026, 12, 7, 9, 30)) == HOUR


def test_several_intervals_a_day_skip_the_lunch_break():
    split = hours(week=(((time(9), time(13)), (time(14), time(18))),) * 5 + ((), ()))
    start = local("Europe/Berlin", 2026, 12, 7, 12, 30)
    assert calendars.add(split, start, HOUR) == local("Europe/Berlin", 2026, 12, 7, 14, 30)


def test_outside_working_time_the_clock_starts_at_the_next_interval():
    berlin = hours()
    saturday = local("Europe/Berlin", 2026, 12, 5, 23, 0)
    assert calendars.add(berlin, saturday, 0) == local("Europe/Berlin", 2026, 12, 7, 9, 0)
    assert calendars.add(berlin, saturday, 15 * 60) == local("Europe/Berlin", 2026, 12, 7, 9, 15)


def test_holidays_are_skipped():
    berlin = hours(holidays={date(2026, 12, 7)})
    friday = local("Europe/Berlin", 2026, 12, 4, 17, 30)
    assert calendars.add(berlin, friday, HOUR) == local("Europe/Berlin", 2026, 12, 8, 9, 30)


def test_working_hours_follow_the_local_clock_across_daylight_saving():
    berlin = hours()
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    friday = local("Europe/Berlin", 2026, 3, 27, 17, 0)
    due = calendars.add(berlin, friday, 2 * HOUR)
    assert due == local("Europe/Berlin", 2026, 3, 30, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 at UTC+2
    assert friday.astimezone(UTC) == datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # 17:00 at UTC+1


def test_a_round_the_clock_day_with_a_daylight_saving_change_is_an_hour_short_or_long():
    always = hours(week=(((time(0), None),),) * 7)
    spring = (local("Europe/Berlin", 2026, 3, 29), local("Europe/Berlin", 2026, 3, 30))
    autumn = (local("Europe/Berlin", 2026, 10, 25), local("Europe/Berlin", 2026, 10, 26))
    assert calendars.between(always, *spring) == 23 * HOUR
    assert calendars.between(always, *autumn) == 25 * HOUR
    assert calendars.add(always, spring[0], 23 * HOUR) == spring[1]


def test_an_interval_in_the_spring_forward_gap_is_shorter():
    night = hours(zone="America/New_York", week=(((time(1), time(4)),),) * 7)
    # 8 March 2026: 02:00 jumps to 03:00 in New York; 01:00-04:00 holds two hours that night.
    day = local("America/New_York", 2026, 3, 8)
    assert calendars.between(night, day, day + timedelta(days=1)) == 2 * HOUR


def test_no_calendar_is_round_the_clock():
    start = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    assert calendars.add(None, start, HOUR) == start + timedelta(hours=1)
    assert calendars.between(None, start, start + timedelta(hours=5)) == 5 * HOUR


def test_a_calendar_with_no_working_time_has_no_deadline():
    never = hours(week=((),) * 7)
    with pytest.raises(calendars.NoWorkingTime):
        calendars.add(never, datetime(2026, 1, 1, tzinfo=UTC), 60)


@pytest.mark.django_db
def test_a_calendar_is_read_from_its_rows_and_overlapping_intervals_merge():
    calendar = Calendar.objects.create(name="Cairo office", time_zone="Africa/Cairo")
    for start, end in ((time(9), time(13)), (time(12), time(17)), (time(20), time(0))):
        WorkingInterval.objects.create(calendar=calendar, weekday=0, start=start, end=end)
    Holiday.objects.create(calendar=calendar, day=date(2026, 12, 14), name="Closed")
    read = Hours.of(calendar)
    assert read.week[0] == ((time(9), time(17)), (time(20), None))
    assert read.holidays == {date(2026, 12, 14)}
    monday = local("Africa/Cairo", 2026, 12, 7)
    assert calendars.between(read, monday, monday + timedelta(days=1)) == 12 * HOUR


@pytest.mark.django_db
def test_a_bad_zone_or_interval_is_refused_with_what_to_use():
    with pytest.raises(ValidationError, match="IANA"):
        Calendar(name="x", time_zone="Cairo").full_clean()
    calendar = Calendar.objects.create(name="y")
    with pytest.raises(ValidationError, match="after the start"):
        WorkingInterval(calendar=calendar, weekday=1, start=time(18), end=time(9)).full_clean()


# --- Properties ---------------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Africa/Cairo",
                         "Australia/Lord_Howe", "Asia/Kolkata"])
CLOCK = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
DAY = st.lists(st.tuples(CLOCK, CLOCK).map(sorted).filter(lambda pair: pair[0] < pair[1])
               .map(tuple), max_size=3)
WEEK = st.lists(DAY, min_size=7, max_size=7).filter(lambda week: any(week))
# Moments around the daylight-saving changes of 2026 in these zones, and elsewhere.
MOMENT = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                      timezones=st.just(UTC))
SPAN = st.floats(min_value=0, max_value=40 * 24 * HOUR, allow_nan=False)


def calendar_of(zone, week) -> Hours:
    return Hours(ZoneInfo(zone), tuple(_merged(list(day)) for day in week), frozenset())


def reachable(calendar: Hours, start: datetime, seconds: float) -> bool:
    """Whether `seconds` of working time fit well inside the horizon (a calendar of 15 minutes a
    week holds 40 days of it only after centuries: NoWorkingTime, tested above)."""
    weekly = calendars.between(calendar, start, start + timedelta(days=7))
    return weekly * 100 > seconds


# Durations are floats; each result is rounded to the microsecond.
MICRO = timedelta(microseconds=2)


@settings(max_examples=150, deadline=None)
@given(ZONES, WEEK, MOMENT, SPAN)
def test_the_working_time_counted_up_to_a_deadline_is_the_time_added(zone, week, start, seconds):
    calendar = calendar_of(zone, week)
    assume(reachable(calendar, start, seconds))
    due = calendars.add(calendar, start, seconds)
    assert due >= start
    assert calendars.between(calendar, start, due) == pytest.approx(seconds, abs=1e-3)


@settings(max_examples=150, deadline=None)
@given(ZONES, WEEK, MOMENT, SPAN, SPAN)
def test_adding_in_two_steps_is_adding_once_and_more_is_never_earlier(zone, week, start, a, b):
    calendar = calendar_of(zone, week)
    assume(reachable(calendar, start, a + b))
    first = calendars.add(calendar, start, a)
    assert abs(calendars.add(calendar, first, b) - calendars.add(calendar, start, a + b)) <= MICRO
    assert calendars.add(calendar, start, min(a, b)) <= calendars.add(calendar, start, max(a, b))


@settings(max_examples=100, deadline=None)
@given(ZONES, WEEK, MOMENT, MOMENT, MOMENT)
def test_working_time_adds_up_over_consecutive_stretches(zone, week, first, second, third):
    calendar = calendar_of(zone, week)
    a, b, c = sorted((first, second, third))
    assert calendars.between(calendar, a, c) == pytest.approx(
        calendars.between(calendar, a, b) + calendars.between(calendar, b, c), abs=1e-3)


@pytest.mark.django_db
def test_staff_edit_a_calendar_with_its_intervals_and_holidays_in_the_admin(staff):
    calendar = Calendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    WorkingInterval.objects.create(calendar=calendar, weekday=0, start=time(9), end=time(13))
    Holiday.objects.create(calendar=calendar, day=date(2026, 12, 25), name="Christmas")
    page = staff.get(f"/admin/sla/calendar/{calendar.pk}/change/").content.decode()
    assert "Berlin office" in page and "Christmas" in page and 'value="09:00:00"' in page
    assert "Berlin office (Europe/Berlin)" in staff.get("/admin/sla/calendar/").content.decode()
