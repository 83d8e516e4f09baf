"""Business calendars in Django admin: intervals and holidays on the calendar's own page."""
from django.contrib import admin

from tickets.sla.models import Calendar, Clock, Holiday, Policy, WorkingInterval


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    """A calendar's working intervals per weekday (several a day: 09:00–13:00 and 14:00–18:00),
    local to its time zone, and its holidays."""

    list_display = ("name", "time_zone")
    search_fields = ("name",)
    inlines = (WorkingIntervalInline, HolidayInline)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Which tickets a policy covers and its targets in working minutes; the first enabled
    policy by position that matches a ticket when it is filed sets its clocks."""

    list_display = ("position", "name", "enabled", "priority", "project_name", "category",
                    "calendar", "first_response_minutes", "resolution_minutes", "chain")
    list_display_links = ("name",)
    list_editable = ("position", "enabled")
    list_filter = ("enabled", "priority", "category")


class ClockInline(admin.TabularInline):
    """A ticket's clocks, read-only: only the ticket's own changes and time move them."""

    model = Clock
    extra = 0
    can_delete = False
    fields = ("metric", "state", "policy", "target_seconds", "spent_seconds", "due_at",
              "met_at", "breached_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False
