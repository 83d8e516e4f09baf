"""The Graph API versions this product knows, and the day Meta stops serving each.

From Meta's Graph API changelog ("Available Graph API versions"). A version past its day answers
every send with an error, so the system check warns ahead of it (notifications.whatsapp.checks) and the
insights page says so too. None: Meta has not announced the day yet.
"""
from dataclasses import dataclass
from datetime import date, timedelta

# Newest first. Add a line when Meta publishes a version or announces a day.
AVAILABLE_UNTIL: dict[str, date | None] = {
    "v26.0": None,
    "v25.0": date(2028, 7, 29),
    "v24.0": date(2028, 2, 18),
    "v23.0": date(2027, 10, 8),
    "v22.0": date(2027, 5, 20),
    "v21.0": date(2027, 1, 21),
    "v20.0": date(2026, 9, 24),
    "v19.0": date(2026, 5, 21),
    "v18.0": date(2026, 1, 26),
}
DEFAULT = "v25.0"  # current, with a known day two years ahead
WARN_AHEAD = timedelta(days=90)


@dataclass(frozen=True)
class VersionNotice:
    level: str  # "warning" ahead of the day, "error" once it has passed
    message: str


def notice(version: str, today: date) -> VersionNotice | None:
    """What an operator should hear about `version` today, or None when all is well."""
    until = AVAILABLE_UNTIL.get(version)
    if until is None:
        if version in AVAILABLE_UNTIL or _number(version) > _number(next(iter(AVAILABLE_UNTIL))):
            return None  # current, or newer than this table: nothing to say
        oldest = min(AVAILABLE_UNTIL, key=_number)
        if _number(version) < _number(oldest):
            return VersionNotice("error", f"Graph API {version} is older than {oldest}, and Meta "
                                 f"no longer serves it: every send fails. {_advice()}")
        return None
    if today > until:
        return VersionNotice("error", f"Graph API {version} stopped working on {until:%Y-%m-%d}: "
                             f"every send fails. {_advice()}")
    if today >= until - WARN_AHEAD:
        return VersionNotice("warning", f"Graph API {version} stops working on {until:%Y-%m-%d} "
                             f"({(until - today).days} days from now). {_advice()}")
    return None


def _advice() -> str:
    return f"Set WHATSAPP_API_VERSION to {DEFAULT} (or newer) and restart."


def _number(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.lstrip("v").split("."))
    except ValueError:
        return (0,)
