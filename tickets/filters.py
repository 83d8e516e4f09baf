"""List filters, search and ordering for GET /api/tickets/."""
import django_filters
from django.db.models import Case, IntegerField, Value, When
from rest_framework.filters import SearchFilter

from Incident.filters import IdFilter, explained_choice_filter
from tickets.models import Category, Priority, Ticket, TicketStatus

ORDERING_PARAMS = ("created_at", "updated_at", "priority")


class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders as asked, then by id, so equal keys cannot shuffle rows between pages."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-id")
        return qs


class TicketSearchFilter(SearchFilter):
    """`?search=`: every word in the title, description or project name (case-insensitive; on
    PostgreSQL trigram indexes serve it, tickets/migrations/0003). Unless the request orders the
    list itself (or walks it by cursor), the best matches come first: the title, then the project
    name, then the description; newest first among equals."""

    def filter_queryset(self, request, queryset, view):
        found = super().filter_queryset(request, queryset, view)
        terms = self.get_search_terms(request)
        if not terms or "ordering" in request.query_params or "cursor" in request.query_params:
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
    # `priority` sorts by severity (priority_rank is annotated by tickets_list), not by spelling.
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"), ("updated_at", "updated_at"), ("priority_rank", "priority")),
        error_messages={
            "invalid_choice": "%(value)s is not a valid ordering. Allowed: "
            + ", ".join(f"{p}, -{p}" for p in ORDERING_PARAMS)
            + "."
        },
    )

    class Meta:
        model = Ticket
        fields = ("status", "priority", "category", "project_name", "client", "assigned_developer")
