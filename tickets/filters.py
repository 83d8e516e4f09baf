"""List filters, search and ordering for GET /api/tickets/."""
import django_filters
from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter, search_smart_split

from Incident.errors import InvalidInput
from Incident.filters import IdFilter, explained_choice_filter
from tickets.models import Category, Priority, Ticket, TicketStatus
from tickets.sla import clocks
from tickets.sla.models import Clock, ClockState

ORDERING_PARAMS = ("created_at", "updated_at", "priority", "sla_due")
SLA_STATES = (("at_risk", "A running clock has used 75 % of its target"),
              ("breached", "A clock breached its deadline"))


def sla_filter(queryset, name, value):
    """`?sla=at_risk|breached`, read at the time of the request (never part of a precompiled
    list: tickets.views)."""
    if value == "breached":
        clocks = Clock.objects.filter(ticket=OuterRef("pk"), state=ClockState.BREACHED)
    else:
        clocks = Clock.objects.filter(ticket=OuterRef("pk"), state=ClockState.RUNNING,
                                      warn_at__lte=timezone.now())
    return queryset.filter(Exists(clocks))



class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders as asked, then by id, so equal keys cannot shuffle rows between pages."""

    def filter(self, qs, value):
        if value and any(v.lstrip("-") == "sla_due" for v in value):
            qs = qs.annotate(sla_due=clocks.nearest_deadline())
        qs = super().filter(qs, value)
        if value:
            # Tickets without a running clock come last either way.
            qs = qs.order_by(*(F("sla_due").desc(nulls_last=True) if key == "-sla_due" else
                               F("sla_due").asc(nulls_last=True) if key == "sla_due" else key
                               for key in qs.query.order_by), "-id")
        return qs


def search_text(table: str = "") -> str:
    """What `?search=` looks in: one text per ticket, indexed as it is (tickets/migrations/0003)."""
    at = f"{table}." if table else ""
    return f"UPPER({at}title || ' ' || {at}project_name || ' ' || {at}description)"


def rarest(table: str, words: list[str]) -> str:
    """Of several words, the one PostgreSQL's planner expects in the fewest tickets (the first of
    equals): one EXPLAIN, no rows read."""
    like = f"SELECT 1 FROM {table} WHERE {search_text()} LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + " UNION ALL ".join([like] * len(words)),
                       [f"%{connection.ops.prep_for_like_query(word)}%" for word in words])
        (plan,) = cursor.fetchone()
    expected = [branch["Plan Rows"] for branch in plan[0]["Plan"]["Plans"]]
    return words[expected.index(min(expected))]


class TicketSearchFilter(SearchFilter):
    """`?search=`: tickets with every word somewhere in the title, project name or description,
    in any case (on PostgreSQL a trigram index serves it). Unless the request orders the list
    itself (or walks it by cursor), the best matches come first: the title, then the project
    name, then the description; newest first among equals."""

    @classmethod
    def ranks(cls, params) -> bool:
        """Whether the list is ordered by how well tickets match (so every match is read)."""
        words = search_smart_split(params.get(cls.search_param, ""))
        return bool(words) and "ordering" not in params and "cursor" not in params

    def get_search_terms(self, request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except ValidationError:  # DRF's answer names no field
            raise InvalidInput("search", "The search text may not contain a null character "
                               "(%00); send the words to look for.") from None

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        if not terms:
            return queryset
        table = queryset.model._meta.db_table
        text = RawSQL(search_text(table), [], output_field=TextField())
        found = queryset.annotate(search_text=text)
        words = [term.upper() for term in terms]
        # The index finds the tickets of one word, the rarest; each other word is then checked on
        # those alone. Given every word, the index would read every ticket of the most common one
        # ("ticket" in a ticket system), however few tickets hold them all.
        lead = rarest(table, words) if len(words) > 1 and connection.vendor == "postgresql" else words[0]
        found = found.filter(search_text__contains=lead)
        for word in words:
            if word != lead:
                found = found.filter(GreaterThan(StrIndex("search_text", Value(word)), 0))
        if not self.ranks(request.query_params):
            return found
        rank = Case(When(title__icontains=terms[0], then=Value(2)),
                    When(project_name__icontains=terms[0], then=Value(1)),
                    default=Value(0), output_field=IntegerField())
        return found.annotate(search_rank=rank).order_by("-search_rank", "-created_at", "-id")


class TicketFilter(django_filters.FilterSet):
    status = explained_choice_filter("status", TicketStatus.choices)
    priority = explained_choice_filter("priority", Priority.choices)
    category = explained_choice_filter("category", Category.choices)
    project_name = django_filters.CharFilter(field_name="project_name", lookup_expr="iexact")
    client = IdFilter("client_id")
    assigned_developer = IdFilter("assigned_developer_id")
    sla = django_filters.ChoiceFilter(
        choices=SLA_STATES, method=sla_filter,
        error_messages={"invalid_choice": "%(value)s is not one of the allowed values: at_risk, "
                        "breached."})
    # `priority` sorts by severity (priority_rank: tickets_list(by_priority=True)), not by spelling.
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("updated_at", "updated_at"),
                ("priority_rank", "priority"), ("sla_due", "sla_due")),
        error_messages={
            "invalid_choice": "%(value)s is not a valid ordering. Allowed: "
            + ", ".join(f"{p}, -{p}" for p in ORDERING_PARAMS)
            + "."
        },
    )

    class Meta:
        model = Ticket
        fields = ("status", "priority", "category", "project_name", "client", "assigned_developer")
