"""Admin for what the WhatsApp channel keeps of its own."""
from django.contrib import admin

from notifications.admin import ReadOnlyAdminMixin
from notifications.whatsapp.models import MediaDownload


@admin.register(MediaDownload)
class MediaDownloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Files people sent on WhatsApp: stored on their ticket, waiting for another try (when), or
    given up (why). The recovery pass tries the waiting ones when they are due."""

    list_display = ("created_at", "user", "kind", "ticket", "state", "tries", "due_at", "error")
    list_filter = ("state", "kind", "created_at")
    search_fields = ("user__username", "caption", "filename", "media_id")
    list_select_related = ("user", "ticket")
    date_hierarchy = "created_at"
