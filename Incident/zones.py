"""Time zones people type: IANA names only, checked once for every model that stores one."""
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: str) -> None:
    """A validator: `name` must be an IANA zone."""
    if name not in _names():
        raise ValidationError(f"\"{name}\" is not an IANA time zone; use a name such as "
                              "Africa/Cairo, Europe/Berlin or America/New_York.")
