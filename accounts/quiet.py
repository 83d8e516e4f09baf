"""Quiet hours: when a person's messages wait. Pure: a profile and a moment in, a moment out."""
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings


def quiet_until(profile, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (aware), or None when `now` is not in them.
    22:00–07:00 spans midnight; the times are local to the person's zone, so they move with
    daylight saving as the person's clock does."""
    start, end = profile.quiet_start, profile.quiet_end
    if start is None or end is None:
        return None
    zone = zoneinfo.ZoneInfo(profile.time_zone or settings.TIME_ZONE)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    if start < end:
        quiet, ends_on = start <= at < end, local.date()
    else:  # spans midnight
        quiet = at >= start or at < end
        ends_on = local.date() + timedelta(days=1) if at >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(ends_on, end, tzinfo=zone)
