"""Lifecycle moves offered as Django admin actions. They call the same service as the API, so the
row is locked, the table is checked, the history is written and notifications go out."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse

from accounts.models import Role
from Incident import deferred
from Incident.errors import ApplicationError
from tickets import services
from tickets.models import Source
from tickets.transitions import Action

User = get_user_model()


class AssignForm(forms.Form):
    developer = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, profile__role=Role.DEVELOPER).order_by("username"),
        help_text="Active users with the DEVELOPER role.",
    )


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000,
                             help_text="Sent to the client with the rejection.")


def _each(modeladmin, request, queryset, done_prefix: str, do) -> None:
    """`do(ticket)` for each selected ticket, each committed on its own; then every ticket's
    notifications go out together, within one time bound (not one per ticket). One message for
    those done, one per refusal."""
    done, refused = [], []
    with deferred.deferring() as held:
        for ticket in queryset.order_by("pk"):
            try:
                do(ticket)
                done.append(f"#{ticket.pk}")
            except ApplicationError as exc:
                refused.append(f"#{ticket.pk}: {exc.detail}")
    held.run()
    if done:
        modeladmin.message_user(request, f"{done_prefix} {', '.join(done)}.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, f"Not done, {line}", messages.WARNING)


def _apply(modeladmin, request, queryset, action: Action, **inputs) -> None:
    _each(modeladmin, request, queryset, f"{action.capitalize()}:",
          lambda ticket: services.ticket_transition(ticket_id=ticket.pk, actor=request.user,
                                                    action=action, source=Source.ADMIN, **inputs))


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=10_000)
    internal = forms.BooleanField(required=False, label="Internal note (staff only)",
                                  help_text="The client never sees an internal note.")


def _comment(modeladmin, request, queryset, *, body: str, internal: bool) -> None:
    _each(modeladmin, request, queryset, "Commented on",
          lambda ticket: services.comment_add(ticket_id=ticket.pk, author=request.user, body=body,
                                              internal=internal, source=Source.ADMIN))


def _with_form(modeladmin, request, queryset, *, action: Action | None, form_class, title: str,
               to_inputs, apply=None):
    """An action that first asks for its input on an intermediate page."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        (apply or (lambda m, r, q, **i: _apply(m, r, q, action, **i)))(
            modeladmin, request, queryset, **to_inputs(form.cleaned_data))
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "form": form, "tickets": queryset, "action": request.POST["action"],
        "opts": modeladmin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    }
    return TemplateResponse(request, "admin/tickets/action_form.html", context)


@admin.action(description="Open selected tickets")
def open_tickets(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, Action.OPEN)


@admin.action(description="Close selected tickets")
def close_tickets(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, Action.CLOSE)


@admin.action(description="Assign selected tickets to a developer…")
def assign_tickets(modeladmin, request, queryset):
    return _with_form(modeladmin, request, queryset, action=Action.ASSIGN, form_class=AssignForm,
                      title="Assign tickets to a developer",
                      to_inputs=lambda data: {"developer_id": data["developer"].pk})


@admin.action(description="Reject selected tickets…")
def reject_tickets(modeladmin, request, queryset):
    return _with_form(modeladmin, request, queryset, action=Action.REJECT, form_class=RejectForm,
                      title="Reject tickets", to_inputs=lambda data: {"reason": data["reason"]})


@admin.action(description="Reopen selected tickets (not fixed)")
def reopen_tickets(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, Action.REOPEN)


@admin.action(description="Comment on selected tickets…")
def comment_on_tickets(modeladmin, request, queryset):
    return _with_form(modeladmin, request, queryset, action=None, form_class=CommentForm,
                      title="Comment on tickets", to_inputs=lambda data: data, apply=_comment)


TICKET_ACTIONS = (open_tickets, assign_tickets, close_tickets, reject_tickets, reopen_tickets,
                  comment_on_tickets)
