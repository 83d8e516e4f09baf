"""Django admin for tickets: details are editable through the same service as the API; status is
never edited by hand: it changes only through the lifecycle actions (tickets/admin_actions.py)."""
from django.contrib import admin

from Incident.errors import ApplicationError
from tickets import services
from tickets.admin_actions import TICKET_ACTIONS
from tickets.models import Ticket, TicketEvent


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    verbose_name_plural = "History"
    fields = ("created_at", "event", "from_status", "to_status", "actor", "note", "source",
              "internal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "id", "title", "status", "priority", "category", "project_name", "client",
        "assigned_developer", "created_at",
    )
    list_filter = ("status", "priority", "category", "created_at")
    search_fields = ("title", "description", "project_name", "client__username")
    list_select_related = ("client", "assigned_developer")
    date_hierarchy = "created_at"
    inlines = (TicketEventInline,)  # notifications.admin adds its log
    actions = TICKET_ACTIONS
    fields = (
        "title", "description", "priority", "category", "project_name", "status", "client",
        "assigned_developer", "resolution", "rejection_reason", "created_at", "updated_at",
    )
    readonly_fields = (
        "status", "client", "assigned_developer", "resolution", "rejection_reason", "created_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        # Tickets are filed through the API, where the client and the history are recorded.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self._may_edit(request, obj):
            return self.fields
        return self.readonly_fields

    @staticmethod
    def _may_edit(request, ticket: Ticket) -> bool:
        try:
            services.ensure_edit_allowed(ticket=ticket, actor=request.user)
        except ApplicationError:
            return False
        return True

    def save_model(self, request, obj, form, change) -> None:
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        services.ticket_update(ticket_id=obj.pk, actor=request.user, changes=changes)
