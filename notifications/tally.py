"""Running counts of the notification log, so that the insights page reads a few thousand rows
whatever the size of the log.

A running count (Incident.counters, installed by migration 0007) of the log's rows per quarter hour
of created_at and per value of what the page counts by (channel, status, delivery status, error
code, charged or not, pricing category): TallyChange takes the changes, Tally the folded sums.

A quarter hour, not an hour or a day: every time zone's midnight falls on a quarter hour, so a
bucket belongs to one local day and one month wherever the service runs.
"""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Q

from Incident import counters
from notifications.models import Tally, TallyChange

BUCKET = timedelta(minutes=15)
KEY = ("bucket", "channel", "status", "delivery_status", "error_code", "charged", "category")
_EPOCH = datetime(2000, 1, 1)


def floor(moment: datetime) -> datetime:
    """The start of the quarter hour `moment` falls in."""
    since = moment.astimezone(dt_timezone.utc).replace(tzinfo=None) - _EPOCH
    return moment - (since % BUCKET)


def counted(where: Q, fields: tuple[str, ...], *, also=None, **annotations) -> list[dict]:
    """Tally and TallyChange rows matching `where`, summed per `fields` (Incident.counters.summed);
    `also`: the log's own rows for the buckets a caller counts row by row."""
    return counters.summed((Tally, TallyChange), where, fields, also=also, **annotations)


LOG_COUNTS = counters.Counter(
    name="notifications_tally", source="notifications_notificationlog",
    change="notifications_tallychange", total="notifications_tally", key=KEY,
    postgres="""date_bin('15 minutes', {r}.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
        {r}.channel, {r}.status, {r}.delivery_status, {r}.error_code,
        ({r}.pricing_type = 'regular' OR {r}.billable IS TRUE), {r}.pricing_category""",
    # SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC.
    sqlite="""substr({r}.created_at, 1, 14)
          || printf('%02d', CAST(substr({r}.created_at, 15, 2) AS INTEGER) / 15 * 15) || ':00',
        {r}.channel, {r}.status, {r}.delivery_status, {r}.error_code,
        ({r}.pricing_type = 'regular' OR coalesce({r}.billable, 0) = 1), {r}.pricing_category""",
    watched=("created_at", "channel", "status", "delivery_status", "error_code", "pricing_type",
             "billable", "pricing_category"),
    lock=7_260_315)
fold = LOG_COUNTS.fold
