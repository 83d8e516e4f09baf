"""Django admin "Notification logs": every message that went out, failed or was skipped. Read-only:
the log is a record, not something to edit."""
from django.contrib import admin
from django.utils.text import Truncator

from notifications.models import NotificationLog

LOG_FIELDS = (
    "created_at", "sent_at", "ticket", "event", "recipient", "channel", "to", "status",
    "provider_message_id", "http_status", "error_code", "error_message", "message",
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at", "event", "ticket", "recipient", "to", "channel", "status",
        "provider_message_id", "short_error",
    )
    list_filter = ("channel", "status", "event", "created_at")
    search_fields = ("recipient__username", "to", "ticket__title", "provider_message_id")
    list_select_related = ("ticket", "recipient")
    date_hierarchy = "created_at"
    fields = LOG_FIELDS
    readonly_fields = LOG_FIELDS

    @admin.display(description="Error")
    def short_error(self, obj: NotificationLog) -> str:
        if not obj.error_message:
            return ""
        code = f"[{obj.error_code}] " if obj.error_code else ""
        return Truncator(code + obj.error_message).chars(90)


class NotificationLogInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationLog
    verbose_name_plural = "Notification logs"
    fields = ("created_at", "event", "recipient", "channel", "to", "status", "provider_message_id",
              "error_message")
    readonly_fields = fields
    extra = 0
    ordering = ("created_at", "id")
    show_change_link = True
