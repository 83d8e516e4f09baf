"""Read queries compiled to SQL once per shape, then run with each request's ids.

Django turns a QuerySet into SQL every time one runs. For the reads nearly every request makes
(the caller behind a token, a ticket and its history, a page of the ticket list) that compiling
cost more CPU than the rest of the request together (docs/benchmarks.md). A Prepared query is
still written as an ordinary QuerySet, where the rule lives; it is compiled the first time its
shape is asked for on a database, and afterwards runs as that SQL with the new ids, each row
passed through the compiler's own converters: exactly what .values() would give.
"""
import threading
from collections.abc import Callable, Hashable
from typing import NamedTuple

from django.db import connections
from django.db.models import Count, QuerySet, Window

# While a query is compiled, each id is a stand-in no row has (far below any real id, but within
# a 32-bit column's range, or Django would compile the comparison away), each different, so the
# compiled parameters show where every id goes.
FIRST_MARK = -2_147_000_000
# What a bigint column can hold: an id outside it equals no row's (and SQLite refuses to bind it).
BIGINT = range(-(2**63), 2**63)
# Plans kept per Prepared query (a shape may have four: its rows, reversed, counted, and its
# count); the oldest is forgotten first (a list's shape holds what the request filters and
# searches by, so there is no end to them). A plan takes a few kilobytes.
MAX_PLANS = 500
# The column a "counted" row carries its list's length in.
TOTAL = "rows_in_all"


class Plan(NamedTuple):
    sql: str
    slots: tuple[tuple[str | None, object], ...]  # per parameter: the id it takes, or a constant
    names: tuple[str, ...]
    converters: tuple  # per converted column: its position, the functions, the expression
    ends_with_id: bool


def ends_with_id(rows: QuerySet) -> bool:
    """Whether the rows' order ends with the id: no two rows tie, so the order read backwards is
    exactly the reverse."""
    order = rows.query.order_by or (rows.model._meta.ordering if rows.query.default_ordering else ())
    return bool(order) and isinstance(order[-1], str) and order[-1].lstrip("-") in ("id", "pk")


class Prepared:
    """`build(shape, **ids)` gives a .values() QuerySet (or pass `build` with each call, for a
    shape only the caller can build). The shape (hashable) alone decides its SQL; the ids only
    fill it in, each compared with `=` (so build must not branch on an id, and one outside
    bigint matches no row)."""

    def __init__(self, build: Callable[..., QuerySet] | None = None) -> None:
        self.build = build
        self.plans: dict[tuple, Plan] = {}
        self.lock = threading.Lock()

    def rows(self, shape: Hashable, *, build=None, kind: str = "rows", offset: int = 0,
             limit: int | None = None, using: str = "default", **ids: int) -> list[dict]:
        """The rows, or `limit` of them from `offset` on (the build itself is not sliced then).
        `kind`: "rows"; "reversed", in the opposite order; "counted", each with TOTAL, how many
        rows there are in all (read in the same pass, for a list that must read every row to
        order them anyway)."""
        plan = self.plan(kind, shape, build, using, ids)
        sql, params = plan.sql, self._params(plan, ids)
        if limit is not None:
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        found = self._run(sql, params, using) if params is not None else []
        if plan.converters:
            found = _converted(found, plan.converters, connections[using])
        return [dict(zip(plan.names, row)) for row in found]

    def count(self, shape: Hashable, *, build=None, using: str = "default", **ids: int) -> int:
        plan = self.plan("count", shape, build, using, ids)
        params = self._params(plan, ids)
        return self._run(plan.sql, params, using)[0][0] if params is not None else 0

    def plan(self, kind: str, shape: Hashable, build, using: str, ids: dict) -> Plan:
        key = (using, kind, shape, tuple(sorted(ids)))
        plan = self.plans.get(key)
        if plan is None:  # two threads may both compile it once: the same plan either way
            plan = self._compile(kind, shape, build or self.build, using, sorted(ids))
            with self.lock:  # no other thread changes the plans while the oldest is found
                while len(self.plans) >= MAX_PLANS:
                    del self.plans[next(iter(self.plans))]
                self.plans[key] = plan
        return plan

    @staticmethod
    def _params(plan: Plan, ids: dict) -> list | None:
        """The plan's parameters with these ids; None when an id can match no row."""
        if any(type(value) is not int for value in ids.values()):
            raise TypeError(f"Prepared queries take int ids, not {ids!r}")
        if any(value not in BIGINT for value in ids.values()):
            return None
        return [ids[name] if name is not None else constant for name, constant in plan.slots]

    @staticmethod
    def _run(sql: str, params: list, using: str) -> list[tuple]:
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @staticmethod
    def _compile(kind: str, shape: Hashable, build, using: str, names: list[str]) -> Plan:
        marks = {name: FIRST_MARK - n for n, name in enumerate(names)}
        queryset = build(shape, **marks)
        if kind == "reversed":
            queryset = queryset.reverse()
        elif kind == "counted":
            queryset = queryset.annotate(**{TOTAL: Window(Count("*"))})
        elif kind == "count":
            queryset = queryset.order_by().values("pk")
        query = queryset.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        if any(str(mark) in sql for mark in marks.values()):
            raise ValueError(f"{build.__qualname__} writes an id into its SQL text; a Prepared "
                             "query can only take ids as parameters")
        by_mark = {mark: name for name, mark in marks.items()}
        slots = tuple((by_mark.get(value) if type(value) is int else None, value)
                      for value in params)
        if kind == "count":
            return Plan(f"SELECT COUNT(*) FROM ({sql}) counted", slots, (), (), False)
        # As ValuesIterable names a row's values, and as results_iter converts them. Only the
        # converters are kept, not the compiled query (some 20 KB a plan).
        columns = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select]
        fields = [selected[0] for selected in compiler.select[:compiler.col_count]]
        converters = tuple((position, *found)
                           for position, found in compiler.get_converters(fields).items())
        return Plan(sql, slots, tuple(columns), converters, ends_with_id(queryset))


def _converted(rows: list[tuple], converters: tuple, connection) -> list[list]:
    """The rows with their values converted as Django's compiler converts them, with this
    thread's own connection."""
    converted = []
    for row in rows:
        row = list(row)
        for position, functions, expression in converters:
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
        converted.append(row)
    return converted


class Rows:
    """A Prepared list as Django's Paginator reads one (its count, a slice of it) and as
    Incident.pagination.FromNearerEnd reads a far page (the same rows in reverse order)."""

    ordered = True

    def __init__(self, prepared: Prepared, shape: Hashable, build, *, reverse: bool = False,
                 counted: bool = False, **ids: int) -> None:
        """`counted`: the list must read every row to order them (a search ranked by relevance),
        so a page may as well carry the count (`page`) than count them in a second pass."""
        self.prepared, self.shape, self.build, self.reversed, self.counted, self.ids = (
            prepared, shape, build, reverse, counted, ids)

    def prepare(self) -> "Rows":
        """Compile now if this shape is new: a build that refuses its input raises here."""
        self.prepared.plan("rows", self.shape, self.build, "default", self.ids)
        return self

    def count(self) -> int:
        return self.prepared.count(self.shape, build=self.build, **self.ids)

    def __getitem__(self, window: slice) -> list[dict]:
        if not isinstance(window, slice) or window.stop is None or window.step is not None:
            raise TypeError("Rows are read a page at a time: rows[start:stop]")
        start = window.start or 0
        return self.prepared.rows(self.shape, build=self.build,
                                  kind="reversed" if self.reversed else "rows",
                                  offset=start, limit=window.stop - start, **self.ids)

    def page(self, offset: int, limit: int) -> tuple[list[dict], int | None]:
        """`limit` rows from `offset` on, and how many rows there are in all: None when no row is
        there to say it (past the end)."""
        found = self.prepared.rows(self.shape, build=self.build, kind="counted", offset=offset,
                                   limit=limit, **self.ids)
        totals = {row.pop(TOTAL) for row in found}
        return found, totals.pop() if totals else None

    def ends_with_id(self) -> bool:
        return self.prepared.plan("rows", self.shape, self.build, "default", self.ids).ends_with_id

    def reverse(self) -> "Rows":
        return Rows(self.prepared, self.shape, self.build, reverse=not self.reversed,
                    counted=self.counted, **self.ids)
