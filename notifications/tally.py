"""Running counts of the notification log, so that the insights page reads a few thousand rows
whatever the size of the log.

Database triggers (installed by migration 0007) append +1 and -1 to TallyChange whenever a log row
is written, moved or deleted: one row per quarter hour of created_at and per value of what the
page counts by (channel, status, delivery status, error code, charged or not, pricing category).
Appending never makes two writers of the log wait on one counter row. The recovery pass (cron or
Celery beat, every minute) folds the changes into Tally; readers add both tables, so figures are
exact whether or not a fold has run.

A quarter hour, not an hour or a day: every time zone's midnight falls on a quarter hour, so a
bucket belongs to one local day and one month wherever the service runs.
"""
from collections import defaultdict
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection, transaction
from django.db.models import Q, Sum

from notifications.models import Tally, TallyChange

BUCKET = timedelta(minutes=15)
KEY = ("bucket", "channel", "status", "delivery_status", "error_code", "charged", "category")
_EPOCH = datetime(2000, 1, 1)
# Any number, the same on every host: one fold at a time (PostgreSQL's advisory lock).
_FOLD_LOCK = 7_260_315
# Written out, not read from the models: the migration that installs the triggers must keep
# writing the same SQL whatever the models become.
LOG, CHANGE, TALLY = "notifications_notificationlog", "notifications_tallychange", "notifications_tally"


def floor(moment: datetime) -> datetime:
    """The start of the quarter hour `moment` falls in."""
    since = moment.astimezone(dt_timezone.utc).replace(tzinfo=None) - _EPOCH
    return moment - (since % BUCKET)


def counted(where: Q, fields: tuple[str, ...], *, also=None, **annotations) -> list[dict]:
    """Rows of both tables matching `where`, summed per `fields` (which may name `annotations`).
    `also`: a queryset of the log itself with the same columns and a count as its last, for the
    buckets a caller must count row by row. One query; the sums are added up here."""
    parts = [model.objects.filter(where).annotate(**annotations).values(*fields)
             .annotate(total=Sum("n")).order_by() for model in (Tally, TallyChange)]
    if also is not None:
        parts.append(also)
    totals: dict[tuple, int] = defaultdict(int)
    for row in parts[0].union(*parts[1:], all=True):  # named as the first part names them
        totals[tuple(row[f] for f in fields)] += row["total"]
    return [dict(zip(fields, key), n=n) for key, n in totals.items() if n]


def fold() -> int:
    """Move the appended changes into Tally; returns how many were folded. Safe from several
    hosts at once: on PostgreSQL one folds and the others skip; SQLite has one writer anyway."""
    change, tally, columns = CHANGE, TALLY, ", ".join(KEY)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_FOLD_LOCK])
            if not cursor.fetchone()[0]:
                return 0
        # Exactly the rows deleted are the rows added: one appended meanwhile stays for next time.
        cursor.execute(f"DELETE FROM {change} RETURNING {columns}, n")
        moved = cursor.fetchall()
        sums: dict[tuple, int] = defaultdict(int)
        for *key, n in moved:
            sums[tuple(key)] += n
        values = [(*key, n) for key, n in sums.items() if n]
        if values:
            cursor.executemany(
                f"INSERT INTO {tally} ({columns}, n) VALUES ({', '.join(['%s'] * (len(KEY) + 1))}) "
                f"ON CONFLICT ({columns}) DO UPDATE SET n = {tally}.n + excluded.n", values)
            cursor.execute(f"DELETE FROM {tally} WHERE n = 0 AND bucket >= %s",
                           [min(key[0] for key in sums)])
    return len(moved)


# The key of a log row `r`, in each database's SQL.
_POSTGRES_KEY = """date_bin('15 minutes', {r}.created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
    {r}.channel, {r}.status, {r}.delivery_status, {r}.error_code,
    ({r}.pricing_type = 'regular' OR {r}.billable IS TRUE), {r}.pricing_category"""
# SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC.
_SQLITE_KEY = """substr({r}.created_at, 1, 14)
      || printf('%02d', CAST(substr({r}.created_at, 15, 2) AS INTEGER) / 15 * 15) || ':00',
    {r}.channel, {r}.status, {r}.delivery_status, {r}.error_code,
    ({r}.pricing_type = 'regular' OR coalesce({r}.billable, 0) = 1), {r}.pricing_category"""
# The log's columns the key reads: an update of any other column changes no count.
_READ = ("created_at", "channel", "status", "delivery_status", "error_code", "pricing_type",
         "billable", "pricing_category")


def install_sql(vendor: str) -> list[str]:
    """The triggers' SQL, and the counts of the rows already in the log."""
    log, change, tally, columns = LOG, CHANGE, TALLY, ", ".join(KEY)
    if vendor == "postgresql":
        key = _POSTGRES_KEY
        # Statement-level: one grouped insert per statement, however many rows it wrote.
        body = f"""
CREATE FUNCTION notifications_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {change} ({columns}, n)
    SELECT {key.format(r='r')}, count(*) FROM new_rows r GROUP BY 1, 2, 3, 4, 5, 6, 7;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {change} ({columns}, n)
    SELECT {key.format(r='r')}, -count(*) FROM old_rows r GROUP BY 1, 2, 3, 4, 5, 6, 7;
  ELSE
    INSERT INTO {change} ({columns}, n)
    SELECT b, c, s, d, e, p, g, sum(n) FROM (
      SELECT {key.format(r='r')}, -1 FROM old_rows r
      UNION ALL SELECT {key.format(r='r')}, 1 FROM new_rows r
    ) AS moved (b, c, s, d, e, p, g, n)
    GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(n) <> 0;
  END IF;
  RETURN NULL;
END $$"""
        triggers = [
            body,
            # A queue: rows come and go every minute. Vacuumed after a few thousand, not after a
            # fifth of the table as by default, so that readers do not wade through dead rows.
            f"ALTER TABLE {change} SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, "
            "autovacuum_analyze_threshold = 5000)",
            f"CREATE TRIGGER notifications_tally_insert AFTER INSERT ON {log} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_tally()",
            f"CREATE TRIGGER notifications_tally_update AFTER UPDATE ON {log} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION notifications_tally()",
            f"CREATE TRIGGER notifications_tally_delete AFTER DELETE ON {log} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_tally()",
        ]
    else:
        key = _SQLITE_KEY
        moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _READ)
        triggers = [
            f"CREATE TRIGGER notifications_tally_insert AFTER INSERT ON {log} BEGIN "
            f"INSERT INTO {change} ({columns}, n) VALUES ({key.format(r='NEW')}, 1); END",
            f"CREATE TRIGGER notifications_tally_update AFTER UPDATE OF {', '.join(_READ)} ON {log} "
            f"WHEN {moved} BEGIN "
            f"INSERT INTO {change} ({columns}, n) VALUES ({key.format(r='OLD')}, -1); "
            f"INSERT INTO {change} ({columns}, n) VALUES ({key.format(r='NEW')}, 1); END",
            f"CREATE TRIGGER notifications_tally_delete AFTER DELETE ON {log} BEGIN "
            f"INSERT INTO {change} ({columns}, n) VALUES ({key.format(r='OLD')}, -1); END",
        ]
    backfill = (f"INSERT INTO {tally} ({columns}, n) SELECT {key.format(r='r')}, count(*) "
                f"FROM {log} r GROUP BY 1, 2, 3, 4, 5, 6, 7")
    return [*triggers, backfill]


def remove_sql(vendor: str) -> list[str]:
    log = LOG
    names = ("insert", "update", "delete")
    if vendor == "postgresql":
        return [*(f"DROP TRIGGER IF EXISTS notifications_tally_{n} ON {log}" for n in names),
                "DROP FUNCTION IF EXISTS notifications_tally()"]
    return [f"DROP TRIGGER IF EXISTS notifications_tally_{n}" for n in names]
