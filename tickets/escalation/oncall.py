"""Who is on call in a rotation at a moment, and who is next.

Shifts are counted in the rotation's local wall-clock time from its first hand-off, so a weekly
09:00 hand-off stays at 09:00 local across daylight saving. An override covering the moment wins
(the latest added, where two overlap).
"""
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser

from tickets.escalation.models import Override, Rotation


@dataclass(frozen=True)
class Shift:
    user: AbstractBaseUser | None  # nobody: a rotation without members
    starts_at: datetime | None
    ends_at: datetime | None
    override: bool = False


def on_call(rotation: Rotation, at: datetime) -> Shift:
    """Who covers `rotation` at `at`, and from when until when."""
    covering = _override_at(rotation, at)
    regular = _regular(rotation, at)
    if covering is not None:
        return Shift(covering.user, covering.starts_at, covering.ends_at, override=True)
    # An override starting before the regular shift ends cuts it short.
    soon = _next_override(rotation, at)
    if soon is not None and regular.ends_at is not None and soon.starts_at < regular.ends_at:
        return Shift(regular.user, regular.starts_at, soon.starts_at)
    return regular


def next_after(rotation: Rotation, shift: Shift) -> Shift | None:
    """The shift after `shift` (None when nothing changes: no members)."""
    if shift.ends_at is None:
        return None
    return on_call(rotation, shift.ends_at)


def _regular(rotation: Rotation, at: datetime) -> Shift:
    members = [member.user for member in rotation.members.all()]
    if not members:
        return Shift(None, None, None)
    zone = zoneinfo.ZoneInfo(rotation.time_zone)
    first = datetime.combine(rotation.starts_on, rotation.handoff_time)  # local wall clock
    local = at.astimezone(zone).replace(tzinfo=None)
    length = timedelta(hours=rotation.shift_hours)
    index = (local - first) // length
    starts = first + index * length
    return Shift(members[index % len(members)], _aware(starts, zone), _aware(starts + length, zone))


def _aware(local: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    # A hand-off in a skipped hour (spring forward) happens at the first moment after it;
    # in a repeated hour (fall back), at its first occurrence.
    return local.replace(tzinfo=zone, fold=0)


def _override_at(rotation: Rotation, at: datetime) -> Override | None:
    return (Override.objects.filter(rotation=rotation, starts_at__lte=at, ends_at__gt=at)
            .select_related("user").order_by("-id").first())


def _next_override(rotation: Rotation, at: datetime) -> Override | None:
    return (Override.objects.filter(rotation=rotation, starts_at__gt=at)
            .select_related("user").order_by("starts_at", "-id").first())
