"""Running counts kept by database triggers: how many rows of a table share a key, read from a few
rows instead of the whole table, exactly.

On every write to the counted table a trigger appends +n and -n per key to a change table (on
PostgreSQL once per statement, however many rows it wrote). Appending never makes two writers wait
on one counter row, and never deadlocks them. `fold` moves the changes into the totals table; the
minute's recovery pass (`deliver_pending_notifications`, or Celery beat) runs it. Readers add both
tables, so counts are exact whether or not a fold has run.

A migration installs a counter's triggers and counts the rows already there, in one transaction.
On SQLite, a later migration that rebuilds the counted table (Django does, to alter a column)
drops its triggers: it must install them again. The tests fail if a trigger is missing.
"""
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, connections, migrations, transaction
from django.db.models import Q, Sum
from django.db.models.signals import post_migrate


_EVERY: dict[str, "Counter"] = {}


def fold_every() -> int:
    """Fold every app's running counts (the recovery pass does, every minute): each app defines
    its own, and this runs them without knowing whose they are."""
    return sum(counter.fold() for counter in _EVERY.values())


@dataclass(frozen=True)
class Counter:
    name: str  # of its triggers (and PostgreSQL function)
    source: str  # the counted table
    change: str  # appended changes: the key's columns and n
    total: str  # folded sums, one row per key
    key: tuple[str, ...]
    # The key of a source row {r}, as SQL expressions in key order, for each database.
    postgres: str
    sqlite: str
    watched: tuple[str, ...]  # the source's columns the key reads: other updates count nothing
    lock: int  # PostgreSQL advisory lock: one fold at a time

    def __post_init__(self) -> None:
        _EVERY[self.name] = self  # each app's counts, for fold_every()

    def install_sql(self, vendor: str) -> list[str]:
        """The triggers, and the counts of the rows already in the table."""
        columns, groups = ", ".join(self.key), ", ".join(str(n + 1) for n in range(len(self.key)))
        if vendor == "postgresql":
            key = self.postgres
            names = ", ".join(f"k{n}" for n in range(len(self.key)))
            function = f"""
CREATE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {self.change} ({columns}, n)
    SELECT {key.format(r='r')}, count(*) FROM new_rows r GROUP BY {groups};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {self.change} ({columns}, n)
    SELECT {key.format(r='r')}, -count(*) FROM old_rows r GROUP BY {groups};
  ELSE
    INSERT INTO {self.change} ({columns}, n)
    SELECT {names}, sum(n) FROM (
      SELECT {key.format(r='r')}, -1 FROM old_rows r
      UNION ALL SELECT {key.format(r='r')}, 1 FROM new_rows r
    ) AS moved ({names}, n)
    GROUP BY {groups} HAVING sum(n) <> 0;
  END IF;
  RETURN NULL;
END $$"""
            each = "FOR EACH STATEMENT EXECUTE FUNCTION " + self.name + "()"
            triggers = [
                function,
                f"CREATE TRIGGER {self.name}_insert AFTER INSERT ON {self.source} "
                f"REFERENCING NEW TABLE AS new_rows {each}",
                f"CREATE TRIGGER {self.name}_update AFTER UPDATE ON {self.source} "
                f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
                f"CREATE TRIGGER {self.name}_delete AFTER DELETE ON {self.source} "
                f"REFERENCING OLD TABLE AS old_rows {each}",
                # A queue: rows come and go every minute. Vacuumed after a few thousand, not after
                # a fifth of the table as by default, so readers do not wade through dead rows.
                f"ALTER TABLE {self.change} SET (autovacuum_vacuum_scale_factor = 0, "
                "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, "
                "autovacuum_analyze_threshold = 5000)",
            ]
        else:
            key = self.sqlite
            moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in self.watched)
            append = f"INSERT INTO {self.change} ({columns}, n) VALUES"
            triggers = [
                f"CREATE TRIGGER {self.name}_insert AFTER INSERT ON {self.source} BEGIN "
                f"{append} ({key.format(r='NEW')}, 1); END",
                f"CREATE TRIGGER {self.name}_update AFTER UPDATE OF {', '.join(self.watched)} "
                f"ON {self.source} WHEN {moved} BEGIN {append} ({key.format(r='OLD')}, -1); "
                f"{append} ({key.format(r='NEW')}, 1); END",
                f"CREATE TRIGGER {self.name}_delete AFTER DELETE ON {self.source} BEGIN "
                f"{append} ({key.format(r='OLD')}, -1); END",
            ]
        backfill = (f"INSERT INTO {self.total} ({columns}, n) SELECT {key.format(r='r')}, count(*) "
                    f"FROM {self.source} r GROUP BY {groups}")
        return [*triggers, backfill]

    def remove_sql(self, vendor: str) -> list[str]:
        kinds = ("insert", "update", "delete")
        if vendor == "postgresql":
            return [*(f"DROP TRIGGER IF EXISTS {self.name}_{k} ON {self.source}" for k in kinds),
                    f"DROP FUNCTION IF EXISTS {self.name}()"]
        return [f"DROP TRIGGER IF EXISTS {self.name}_{k}" for k in kinds]

    def migration(self) -> migrations.RunPython:
        """The migration step that installs the triggers and counts the rows already there (in the
        migration's transaction: PostgreSQL locks the table while the triggers are made, so no
        row is counted twice or missed), or removes them."""

        def run(statements):
            def step(apps, schema_editor):
                for statement in statements(schema_editor.connection.vendor):
                    schema_editor.execute(statement, params=None)
            return step

        return migrations.RunPython(run(self.install_sql), run(self.remove_sql))

    def rebuilt(self) -> migrations.RunPython:
        """The step a migration adds after SQLite rebuilt the counted table (which dropped its
        triggers): the triggers again, and the counts made afresh from the rows. Nothing on
        PostgreSQL, which alters a table in place."""

        def step(apps, schema_editor):
            vendor = schema_editor.connection.vendor
            if vendor == "postgresql":
                return
            for statement in [*self.remove_sql(vendor), f"DELETE FROM {self.change}",
                              f"DELETE FROM {self.total}", *self.install_sql(vendor)]:
                schema_editor.execute(statement, params=None)

        return migrations.RunPython(step, migrations.RunPython.noop)

    def forget_if_empty(self, using: str = "default") -> None:
        """Drop the counts of a table that has no rows. `flush` (tests, a reset demo) empties
        every table at once, on SQLite row by row in no set order: a counted table emptied after
        its counts leaves its delete triggers' -1s behind. Run after every migrate and flush
        (post_migrate); cheap, and it changes nothing while the table has rows."""
        with connections[using].cursor() as cursor:
            if self.change not in connections[using].introspection.table_names(cursor):
                return  # migrated back to before the counts existed
            for table in (self.change, self.total):
                cursor.execute(f"DELETE FROM {table} WHERE NOT EXISTS "
                               f"(SELECT 1 FROM {self.source})")

    def forget_after_migrate(self, app) -> None:
        """Run forget_if_empty after each migrate (and flush) of `app`, the app whose ready() calls
        this."""
        post_migrate.connect(lambda using="default", **kwargs: self.forget_if_empty(using),
                             sender=app, weak=False, dispatch_uid=f"counters.{self.name}")

    def fold(self) -> int:
        """Move the appended changes into the totals; returns how many were folded. Safe from
        several hosts at once: on PostgreSQL one folds and the others skip; SQLite has one writer."""
        columns = ", ".join(self.key)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [self.lock])
                if not cursor.fetchone()[0]:
                    return 0
            # Exactly the rows deleted are the rows added: one appended meanwhile stays for later.
            cursor.execute(f"DELETE FROM {self.change} RETURNING {columns}, n")
            moved = cursor.fetchall()
            sums: dict[tuple, int] = defaultdict(int)
            for *key, n in moved:
                sums[tuple(key)] += n
            values = [(*key, n) for key, n in sums.items() if n]
            if values:
                cursor.executemany(
                    f"INSERT INTO {self.total} ({columns}, n) "
                    f"VALUES ({', '.join(['%s'] * (len(self.key) + 1))}) ON CONFLICT ({columns}) "
                    f"DO UPDATE SET n = {self.total}.n + excluded.n", values)
                # A key whose rows are all gone is dropped, not kept as a zero.
                matches = " AND ".join(f"{column} = %s" for column in self.key)
                cursor.executemany(f"DELETE FROM {self.total} WHERE n = 0 AND {matches}",
                                   [value[:-1] for value in values])
        return len(moved)


def total(counter: Counter, **equal) -> int:
    """How many counted rows have these key values (all of them without any): both tables in one
    short statement, written out rather than compiled by the ORM on every request."""
    where = " AND ".join(f"{column} = %s" for column in equal) or "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT coalesce(sum(n), 0) FROM {counter.total} WHERE {where}) "
                       f"+ (SELECT coalesce(sum(n), 0) FROM {counter.change} WHERE {where})",
                       [*equal.values(), *equal.values()])
        return int(cursor.fetchone()[0])


def summed(models, where: Q, fields: tuple[str, ...], *, also=None, **annotations) -> list[dict]:
    """The totals and the changes (`models`, in that order) matching `where`, summed per `fields`
    (which may name `annotations`). `also`: a queryset of the counted table itself with the same
    columns and a count as its last, for what a caller must count row by row. One query; the sums
    are added up here."""
    parts = [model.objects.filter(where).annotate(**annotations).values(*fields)
             .annotate(total=Sum("n")).order_by() for model in models]
    if also is not None:
        parts.append(also)
    totals: dict[tuple, int] = defaultdict(int)
    for row in parts[0].union(*parts[1:], all=True):  # named as the first part names them
        totals[tuple(row[f] for f in fields)] += row["total"]
    return [dict(zip(fields, key), n=n) for key, n in totals.items() if n]
