"""Admin for what the WhatsApp channel keeps of its own."""
from django.contrib import admin

from notifications.admin import ReadOnlyAdminMixin
from notifications.whatsapp.models import Conversation, MediaDownload, UnknownNumber


@admin.register(MediaDownload)
class MediaDownloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Files people sent on WhatsApp: stored on their ticket, waiting for another try (when), or
    given up (why). The recovery pass tries the waiting ones when they are due."""

    list_display = ("created_at", "user", "kind", "ticket", "state", "tries", "due_at", "error")
    list_filter = ("state", "kind", "created_at")
    search_fields = ("user__username", "caption", "filename", "media_id")
    list_select_related = ("user", "ticket")
    date_hierarchy = "created_at"


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Tickets being filed by chat: the question each waits on, when it is dropped if nobody
    answers, and how the finished ones ended (filed as which ticket, cancelled, or expired)."""

    list_display = ("started_at", "user", "step", "project_name", "title", "ticket", "expires_at")
    list_filter = ("step", "started_at")
    search_fields = ("user__username", "title", "project_name")
    list_select_related = ("user", "ticket")
    date_hierarchy = "started_at"


@admin.register(UnknownNumber)
class UnknownNumberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Numbers no active user has that wrote in: how often, and when each was last told how to be
    registered (at most once a day). Add the number to the right user to let it in."""

    list_display = ("number", "messages", "first_seen_at", "last_seen_at", "told_at")
    search_fields = ("number",)
