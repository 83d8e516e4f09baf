"""Django admin "Notification logs": every message that went out, failed or was skipped. Read-only:
the log is a record, not something to edit."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator

from tickets.escalation import figures
from notifications import channels, insights, services
from tickets.admin import TicketAdmin
from notifications.models import (
    Channel,
    DeliveryAttempt,
    NotificationInsights,
    NotificationLog,
    ReceivedMessage,
    NotificationStatus,
    WhatsAppTemplate,
)

# What an admin opens a notification for comes first: where it stands, why, and what to do.
LOG_FIELDS = (
    "status", "error_code", "error_message", "may_have_been_sent", "attempt_count",
    "next_attempt_at", "held_until", "digest_at", "digest", "recipient", "channel", "to", "ticket",
    "ticket_event", "event", "delivery_status", "provider_message_id", "created_at", "sent_at",
    "claimed_at", "wa_sent_at",
    "delivered_at", "read_at", "failed_at", "http_status", "callback_id", "message_type",
    "template_name", "template_language", "template_params", "message",
)
ATTEMPT_FIELDS = ("number", "status", "started_at", "finished_at", "provider_message_id",
                  "http_status", "error_code", "error_subcode", "error_message", "fbtrace_id",
                  "may_have_gone_out")


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Every try at sending the notification, under it."""

    model = DeliveryAttempt
    verbose_name_plural = "Attempts"
    fields = readonly_fields = ATTEMPT_FIELDS
    extra = 0


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # The error sits next to the status: it is what an admin scanning failures reads first.
    # Readable at laptop width (1366 px): long errors are cut short here and whole on the row's
    # page, which also has the message id (searchable from here).
    list_display = (
        "when", "event", "ticket", "recipient", "channel", "status", "short_error", "delivery",
        "to",
    )
    list_filter = ("channel", "status", "delivery_status", "event", "created_at")
    actions = ("resend_selected", "resend_including_unknown")
    inlines = (DeliveryAttemptInline,)
    search_fields = ("recipient__username", "to", "ticket__title", "provider_message_id",
                     "error_code")
    list_select_related = ("ticket", "recipient")
    date_hierarchy = "created_at"
    fields = LOG_FIELDS
    readonly_fields = LOG_FIELDS

    class Media:
        css = {"all": ["notifications/admin.css"]}

    def changelist_view(self, request, extra_context=None):
        # The list is wide and the error is what an admin reads: the app sidebar gives its room
        # to the columns here (the breadcrumbs still lead back).
        return super().changelist_view(
            request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The insights page links each error code to exactly its rows.
        return lookup == "error_code" or super().lookup_allowed(lookup, value, request)

    @admin.action(description="Resend selected notifications (failed or skipped)",
                  permissions=["resend"])
    def resend_selected(self, request, queryset) -> None:
        self._resend(request, queryset, include_uncertain=False)

    @admin.action(description="Resend selected notifications, including UNKNOWN ones…",
                  permissions=["resend"])
    def resend_including_unknown(self, request, queryset):
        """UNKNOWN rows may have reached the person already: the admin confirms first."""
        unknown = list(queryset.filter(status=NotificationStatus.UNKNOWN).select_related("recipient"))
        if unknown and request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/notifications/resend_unknown.html", {
                **self.admin_site.each_context(request),
                "title": "Resend notifications that may already have arrived?",
                "opts": self.model._meta,
                "unknown": unknown,
                "chosen": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                "action": "resend_including_unknown",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        self._resend(request, queryset, include_uncertain=True)
        return None

    def _resend(self, request, queryset, *, include_uncertain: bool) -> None:
        chosen = queryset.count()
        candidates = list(queryset.filter(services.resendable(include_uncertain=include_uncertain)))
        final = sorted({row.error_code for row in candidates
                        if row.error_code in channels.final_codes()})
        rows = services.resend(candidates, include_uncertain=include_uncertain)
        sent = sum(row.status == NotificationStatus.SENT for row in rows)
        queued = sum(row.status == NotificationStatus.QUEUED for row in rows)
        handed = f", {queued} handed to the workers" if settings.NOTIFICATION_DELIVERY == "celery" \
            else ""
        self.message_user(
            request,
            f"Resent {len(rows)} notification(s): {sent} sent{handed}, "
            f"{len(rows) - sent - (queued if handed else 0)} not sent "
            "(see each row's status and attempts).",
            messages.SUCCESS if rows else messages.WARNING,
        )
        if final:
            self.message_user(
                request,
                "Left out the notifications that failed with a code no resend can cure ("
                + ", ".join(final) + "); resend_failed_notifications --error-code CODE sends "
                "them anyway.", messages.WARNING)
        if chosen - len(rows):
            allowed = "FAILED, SKIPPED or UNKNOWN" if include_uncertain else "FAILED or SKIPPED"
            self.message_user(
                request,
                f"{chosen - len(rows)} passed over: only {allowed} notifications that Meta has not "
                "reported as arrived can be resent (and each only once at a time).",
                messages.WARNING,
            )

    def has_resend_permission(self, request) -> bool:
        # The rows stay read-only; whoever may read the log may ask for a new attempt.
        return self.has_view_permission(request)

    @admin.display(description="When", ordering="created_at")
    def when(self, obj: NotificationLog) -> str:
        return date_format(timezone.localtime(obj.created_at), "M d, H:i")

    @admin.display(description="Error")
    def short_error(self, obj: NotificationLog) -> str:
        if not obj.error_message:
            return ""
        code = f"[{obj.error_code}] " if obj.error_code else ""
        return _cut(code + obj.error_message, 80)

    @admin.display(description="Delivery", ordering="delivery_status")
    def delivery(self, obj: NotificationLog) -> str:
        return obj.get_delivery_status_display() or "—"


def _cut(text: str, length: int) -> str:
    """`text` cut to `length` characters, whole in the tooltip."""
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(length))


class NotificationLogInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationLog
    verbose_name_plural = "Notification logs"
    fields = ("created_at", "event", "recipient", "channel", "to", "status", "provider_message_id",
              "error_message")
    readonly_fields = fields
    extra = 0
    ordering = ("created_at", "id")
    show_change_link = True


# A ticket's page lists its notifications: tickets knows nothing of them, so they are added here.
TicketAdmin.inlines = (*TicketAdmin.inlines, NotificationLogInline)


@admin.register(NotificationInsights)
class NotificationInsightsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The insights page stands where this proxy's list would be. Its figures are the log's, so
    it is for whoever may view the log, and nobody else."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("notifications.view_notificationlog")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @staticmethod
    def _billable(request, now) -> dict:
        """Charged messages per month and category, over the months the admin picked."""
        months = request.GET.get("months", "3")
        months = int(months) if months.isdigit() and int(months) in insights.PRICING_MONTHS else 3
        categories, billable = insights.billable_by_month(now, months)
        return {"pricing_months": months, "pricing_choices": insights.PRICING_MONTHS,
                "pricing_categories": categories, "billable": billable}

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now, reports = timezone.now(), insights.delivery_reports_on()
        groups = insights.grouped(now)  # one pass for the figures and the chart
        days = insights.per_day(now, groups=groups)
        width, height = 720, 180
        since = now - insights.WINDOWS[-1][1]
        log_url = reverse("admin:notifications_notificationlog_changelist")
        failures = [
            (group, log_url + "?" + urlencode({
                "status__exact": NotificationStatus.FAILED,
                "error_code": "" if group.code == "—" else group.code,
                "created_at__gte": since.replace(microsecond=0).isoformat(),
            }))
            for group in insights.failures_by_code(now)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Notification insights",
            "opts": self.model._meta,
            "rows": insights.summary(now, delivery_reports=reports, groups=groups),
            "delivery_reports": reports,
            "console_mode": not settings.WHATSAPP_ACCESS_TOKEN,
            "version_notice": channels.get(Channel.WHATSAPP).warning(timezone.localdate()),
            "failures": failures,
            "queue": insights.queue(now),
            "held": insights.held_reports(now),
            **self._billable(request, now),
            "satisfaction": insights.satisfaction(now),
            "targets_met": figures.targets_met(since=now - figures.SINCE),
            "spreads": figures.spreads(since=now - figures.SINCE),
            "pages": insights.pages_by_week(now),
            "priced": settings.WHATSAPP_UTILITY_PRICE is not None,
            "delivery_mode": settings.NOTIFICATION_DELIVERY,
            "bars": insights.chart_bars(days, width=width, height=height),
            "chart_empty": not any(day.sent or day.failed for day in days),
            "chart_width": width,
            "chart_height": height,
            "first_day": days[0].day,
            "last_day": days[-1].day,
        }
        return TemplateResponse(request, "admin/notifications/insights.html", context)


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The account's templates as Meta last reported them (manage.py whatsapp_templates and the
    template webhooks): a rejected or paused one says why."""

    list_display = ("name", "language", "status", "category", "reason", "updated_at")
    list_filter = ("status", "category")
    search_fields = ("name",)


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What people wrote to the business number, and what the product did with each message (the
    answer it sent is in the notification log, event "Reply on WhatsApp")."""

    list_display = ("received_at", "user", "kind", "text", "ticket", "outcome")
    list_filter = ("kind", "received_at")
    search_fields = ("user__username", "text", "wamid")
    list_select_related = ("user", "ticket")
