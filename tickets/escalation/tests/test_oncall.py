"""Who is on call: shifts counted in local wall-clock time, overrides winning."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.escalation import oncall
from tickets.escalation.models import Override, Rotation, RotationMember

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def at(text: str, zone=UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_members_take_weekly_shifts_in_order_from_the_first_handoff(rotation, cast):
    assert oncall.on_call(rotation, at("2026-11-30 09:00")).user == cast.developer
    assert oncall.on_call(rotation, at("2026-12-07 08:59")).user == cast.developer
    shift = oncall.on_call(rotation, at("2026-12-07 09:00"))
    assert (shift.user, shift.starts_at, shift.ends_at) == (
        cast.other_developer, at("2026-12-07 09:00"), at("2026-12-14 09:00"))
    assert oncall.on_call(rotation, at("2026-12-14 10:00")).user == cast.developer
    # Before the first hand-off the order runs backwards.
    assert oncall.on_call(rotation, at("2026-11-30 08:00")).user == cast.other_developer


def test_a_daily_handoff_keeps_its_local_hour_across_daylight_saving(cast):
    berlin = ZoneInfo("Europe/Berlin")
    rotation = Rotation.objects.create(name="Berlin", time_zone="Europe/Berlin", shift_hours=24,
                                       starts_on=date(2026, 3, 27), handoff_time=time(9))
    RotationMember.objects.create(rotation=rotation, user=cast.developer, position=0)
    RotationMember.objects.create(rotation=rotation, user=cast.other_developer, position=1)
    # Clocks go forward on Sunday 29 March: Monday's hand-off is still 09:00 in Berlin.
    shift = oncall.on_call(rotation, at("2026-03-30 10:00", berlin))
    assert shift.starts_at == at("2026-03-30 09:00", berlin)
    assert shift.starts_at.astimezone(UTC).hour == 7  # 09:00 CEST, 08:00 before the change
    assert shift.user == cast.other_developer  # 27th dev, 28th other, 29th dev, 30th other
    assert shift.ends_at - shift.starts_at == timedelta(hours=24)


def test_an_override_wins_and_cuts_the_regular_shift_short(rotation, cast):
    Override.objects.create(rotation=rotation, user=cast.admin, starts_at=at("2026-12-02 18:00"),
                            ends_at=at("2026-12-03 08:00"))
    before = oncall.on_call(rotation, at("2026-12-02 12:00"))
    assert (before.user, before.ends_at) == (cast.developer, at("2026-12-02 18:00"))
    covering = oncall.on_call(rotation, at("2026-12-02 23:00"))
    assert (covering.user, covering.override, covering.ends_at) == (
        cast.admin, True, at("2026-12-03 08:00"))
    assert oncall.next_after(rotation, covering).user == cast.developer
    assert oncall.next_after(rotation, before).user == cast.admin


def test_a_rotation_without_members_has_nobody_on_call():
    rotation = Rotation.objects.create(name="Empty", starts_on=date(2026, 1, 1))
    shift = oncall.on_call(rotation, at("2026-12-06 12:00"))
    assert shift.user is None and oncall.next_after(rotation, shift) is None
