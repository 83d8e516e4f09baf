"""Rotations and chains in Django admin; a ticket's escalation runs and pages, read-only."""
from django.contrib import admin

from tickets.escalation.models import Chain, Override, Page, Rotation, RotationMember, Run, Step


class MemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ("user",)


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    """Members take shifts in position order; an override puts someone else on call for a while."""

    list_display = ("name", "time_zone", "shift_hours", "starts_on", "handoff_time")
    search_fields = ("name",)
    inlines = (MemberInline, OverrideInline)


class StepInline(admin.StackedInline):
    model = Step
    extra = 0
    filter_horizontal = ("users",)


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    """Steps in position order, each after its wait; a policy names the chain it starts."""

    list_display = ("name", "repeat", "on_high_filed")
    search_fields = ("name",)
    inlines = (StepInline,)


class PageInline(admin.TabularInline):
    model = Page
    extra = 0
    can_delete = False
    fields = ("round", "position", "user", "answer", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """What each chain did on each ticket: read-only, only time and people's answers move it."""

    list_display = ("ticket", "chain", "reason", "state", "round", "position", "due_at",
                    "acknowledged_by")
    list_filter = ("state", "reason", "chain")
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = (PageInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RunInline(admin.TabularInline):
    """A ticket's escalation runs on its page, read-only; each links to its pages and answers."""

    model = Run
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("chain", "reason", "state", "round", "position", "due_at", "acknowledged_by",
              "why_ended")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False
