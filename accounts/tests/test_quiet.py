"""Quiet hours: the rule, and setting them on PATCH /api/auth/me/."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.models import UserProfile
from accounts.quiet import quiet_until
from accounts.tests.factories import make_developer

CAIRO = ZoneInfo("Africa/Cairo")


def at(text: str, zone=CAIRO) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize("moment, until", [
    ("2026-12-06 21:59", None),
    ("2026-12-06 22:00", "2026-12-07 07:00"),
    ("2026-12-07 03:00", "2026-12-07 07:00"),
    ("2026-12-07 07:00", None),
    ("2026-12-07 12:00", None),
])
def test_quiet_hours_across_midnight_end_the_next_morning_in_the_persons_zone(moment, until):
    profile = UserProfile(time_zone="Africa/Cairo", quiet_start=time(22), quiet_end=time(7))
    found = quiet_until(profile, at(moment).astimezone(ZoneInfo("UTC")))
    assert found == (at(until) if until else None)


def test_quiet_hours_within_a_day_and_none_set(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    lunch = UserProfile(quiet_start=time(12), quiet_end=time(13))  # the server's zone
    assert quiet_until(lunch, at("2026-12-07 12:30", berlin)) == at("2026-12-07 13:00", berlin)
    assert quiet_until(lunch, at("2026-12-07 13:30", berlin)) is None
    assert quiet_until(UserProfile(), at("2026-12-07 03:00")) is None


@pytest.mark.django_db
def test_me_sets_and_clears_time_zone_and_quiet_hours(api):
    user = make_developer()
    me = api(user)
    body = me.patch("/api/auth/me/", {"time_zone": "Africa/Cairo", "quiet_hours": {
        "start": "22:00", "end": "07:00"}}, format="json").json()
    assert (body["time_zone"], body["quiet_hours"]) == (
        "Africa/Cairo", {"start": "22:00:00", "end": "07:00:00"})
    profile = UserProfile.objects.get(user=user)
    assert (profile.quiet_start, profile.quiet_end) == (time(22), time(7))
    assert me.patch("/api/auth/me/", {"quiet_hours": None}, format="json").json()[
        "quiet_hours"] is None
    assert UserProfile.objects.get(user=user).quiet_start is None


@pytest.mark.django_db
@pytest.mark.parametrize("change, field, words", [
    ({"time_zone": "Cairo"}, "time_zone", "IANA"),
    ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours", "same time"),
    ({"quiet_hours": {"start": "22:00"}}, "quiet_hours", "both ends"),
    ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours", "Time has wrong format"),
])
def test_bad_quiet_hours_are_a_400_naming_the_field(api, change, field, words):
    answer = api(make_developer()).patch("/api/auth/me/", change, format="json")
    assert answer.status_code == 400 and words in str(answer.json()[field])
