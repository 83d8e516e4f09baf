"""List filters and ordering for GET /api/tickets/."""
import django_filters

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
