"""Django admin "Notification logs": every message that went out, failed or was skipped. Read-only:
the log is a record, not something to edit."""
from django.contrib import admin, messages
from django.utils.text import Truncator

from notifications import services
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from notifications import insights
from notifications.models import NotificationInsights, NotificationLog, NotificationStatus

LOG_FIELDS = (
    "created_at", "sent_at", "ticket", "ticket_event", "event", "recipient", "channel", "to",
    "status", "message_type", "template_name", "template_language", "template_params",
    "provider_message_id", "callback_id", "delivery_status", "wa_sent_at", "delivered_at",
    "read_at", "failed_at", "http_status", "error_code", "error_message", "may_have_been_sent",
    "retry_of", "message",
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
    # The error sits next to the status: it is what an admin scanning failures reads first.
    list_display = (
        "created_at", "event", "ticket", "recipient", "channel", "status", "short_error",
        "delivery_status", "to", "provider_message_id",
    )
    list_filter = ("channel", "status", "delivery_status", "event", "created_at")
    actions = ("resend_selected",)
    search_fields = ("recipient__username", "to", "ticket__title", "provider_message_id")
    list_select_related = ("ticket", "recipient")
    date_hierarchy = "created_at"
    fields = LOG_FIELDS
    readonly_fields = LOG_FIELDS

    @admin.action(description="Resend selected notifications", permissions=["resend"])
    def resend_selected(self, request, queryset) -> None:
        chosen = list(queryset.select_related("recipient"))
        candidates = services.resendable(chosen)
        passed_over = len(chosen) - len(candidates)
        new_rows = services.resend(candidates)
        sent = sum(row.status == NotificationStatus.SENT for row in new_rows)
        self.message_user(
            request,
            f"Resent {len(candidates)} notification(s): {sent} sent, "
            f"{len(new_rows) - sent} failed or skipped again (new rows below).",
            messages.SUCCESS if candidates else messages.WARNING,
        )
        if passed_over:
            self.message_user(
                request,
                f"{passed_over} passed over: only FAILED or SKIPPED rows that are the latest "
                "attempt, and were never sent, can be resent.",
                messages.WARNING,
            )

    def has_resend_permission(self, request) -> bool:
        # The rows stay read-only; whoever may read the log may ask for a new attempt.
        return self.has_view_permission(request)

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


@admin.register(NotificationInsights)
class NotificationInsightsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The insights page stands where this proxy's list would be."""

    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        days = insights.per_day(now)
        width, height = 720, 180
        context = {
            **self.admin_site.each_context(request),
            "title": "Notification insights",
            "opts": self.model._meta,
            "rows": insights.summary(now),
            "failures": insights.failures_by_code(now),
            "bars": insights.chart_bars(days, width=width, height=height),
            "chart_width": width,
            "chart_height": height,
            "first_day": days[0].day,
            "last_day": days[-1].day,
            "log_url": reverse("admin:notifications_notificationlog_changelist"),
        }
        return TemplateResponse(request, "admin/notifications/insights.html", context)
