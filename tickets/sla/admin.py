"""Business calendars in Django admin: intervals and holidays on the calendar's own page."""
from django.contrib import admin

from tickets.sla.models import Calendar, Holiday, WorkingInterval


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
