"""Django admin for tickets: details are editable through the same service as the API; status is
never edited by hand: it changes only through the lifecycle actions (tickets/admin_actions.py)."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.db.models import F
from django.utils import timezone
from django.utils.html import format_html

from Incident.errors import ApplicationError
from tickets import attachments, services
from tickets.admin_actions import TICKET_ACTIONS
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.sla import clocks
from tickets.escalation.admin import RunInline
from tickets.sla.admin import ClockInline


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


class AttachmentInline(admin.TabularInline):
    """The ticket's files; each name downloads it (through the admin: no public URL)."""

    model = Attachment
    fields = ("created_at", "file_link", "size", "content_type", "internal", "comment",
              "uploaded_by", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # files come through the API or WhatsApp, where their checks run

    @admin.display(description="File")
    def file_link(self, attachment: Attachment) -> str:
        url = reverse("admin:tickets_ticket_attachment",
                      args=[attachment.ticket_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.name)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "id", "title", "status", "priority", "category", "project_name", "client",
        "assigned_developer", "sla", "satisfaction", "created_at",
    )
    list_filter = ("status", "priority", "category", "satisfaction", "created_at")
    search_fields = ("title", "description", "project_name", "client__username")
    list_select_related = ("client", "assigned_developer")
    date_hierarchy = "created_at"
    # notifications.admin adds its log.
    inlines = (TicketEventInline, ClockInline, RunInline, AttachmentInline)
    actions = TICKET_ACTIONS
    fields = (
        "title", "description", "priority", "category", "project_name", "status", "client",
        "assigned_developer", "resolution", "rejection_reason", "satisfaction",
        "satisfaction_comment", "rated_at", "created_at", "updated_at",
    )
    # The rating is the client's own (the API, or a tap on WhatsApp), never typed by staff.
    readonly_fields = (
        "status", "client", "assigned_developer", "resolution", "rejection_reason", "satisfaction",
        "satisfaction_comment", "rated_at", "created_at", "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**clocks.standing())

    @admin.display(description="SLA", ordering=F("sla_due").asc(nulls_last=True))
    def sla(self, ticket: Ticket) -> str:
        """Red once a clock breached; amber while the nearest is at risk; green while on time."""
        now = timezone.now()
        due = getattr(ticket, "sla_due", None)
        if getattr(ticket, "sla_breached", False):
            return format_html('<span style="color:#c62828;font-weight:bold">● {}</span>',
                               "breached")
        if due is None:
            return "—"
        when = timezone.localtime(due).strftime("%d %b %H:%M")
        if ticket.sla_warn is not None and ticket.sla_warn <= now:
            return format_html('<span style="color:#e65100">● at risk, due {}</span>', when)
        return format_html('<span style="color:#2e7d32">● due {}</span>', when)

    def get_urls(self):
        download = path("<int:ticket_id>/attachments/<int:attachment_id>/",
                        self.admin_site.admin_view(self.attachment_view),
                        name="tickets_ticket_attachment")
        return [download, *super().get_urls()]

    def attachment_view(self, request, ticket_id: int, attachment_id: int):
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is None:
            raise Http404("No such ticket.")
        if not self.has_view_permission(request, ticket):
            raise PermissionDenied
        found = Attachment.objects.filter(ticket=ticket, pk=attachment_id).first()
        if found is None:
            raise Http404("No such attachment on this ticket.")
        try:
            return attachments.streamed(found)
        except ApplicationError as exc:
            raise Http404(exc.detail) from exc

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
