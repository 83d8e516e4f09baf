"""Django admin: users with their role and WhatsApp number edited inline."""
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm

from accounts import services
from accounts.models import NumberOrigin, UserProfile
from accounts.phone import normalize_whatsapp_number
from Incident.errors import InvalidInput

User = get_user_model()


def _refuse_taken(field: str, value: str, user_id: int | None) -> str:
    """The API's rule, as a form error on the field."""
    try:
        services.ensure_contact_free(field=field, value=value, user_id=user_id)
    except InvalidInput as exc:
        raise forms.ValidationError(exc.detail, code="taken") from exc
    return value


class UserProfileForm(forms.ModelForm):
    def clean_whatsapp_number(self) -> str:
        number = normalize_whatsapp_number(self.cleaned_data["whatsapp_number"])
        return _refuse_taken("whatsapp_number", number, self.instance.user_id)


class UserForm(UserChangeForm):
    def clean_email(self) -> str:
        return _refuse_taken("email", self.cleaned_data["email"], self.instance.pk)


# What WhatsApp and the person taught us, and who set the number: shown, never typed in.
LEARNT = ("whatsapp_number_origin", "whatsapp_number_set_by", "whatsapp_number_set_at",
          "whatsapp_verified_at", "whatsapp_opted_in_at", "whatsapp_opted_out_at",
          "whatsapp_notice", "whatsapp_wa_id", "whatsapp_user_id")
PROFILE_FIELDS = ("role", "whatsapp_number", "time_zone", "quiet_start", "quiet_end", *LEARNT)


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    fk_name = "user"
    form = UserProfileForm
    verbose_name = verbose_name_plural = "User Profile"
    can_delete = False
    min_num = 1
    max_num = 1
    fields = PROFILE_FIELDS
    readonly_fields = LEARNT


def _staff_numbers(request, profiles) -> None:
    """A number typed in the admin is staff's word for it: trusted, and who set it is kept."""
    for form in profiles:
        if "whatsapp_number" in form.changed_data:
            services.number_set(profile=form.instance, by=request.user, origin=NumberOrigin.STAFF)


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    """Profiles on their own, for a quick look over everyone's role and number."""

    list_display = ("user", "role", "whatsapp_number", "whatsapp_verified_at",
                    "whatsapp_opted_out_at")
    list_filter = ("role", ("whatsapp_verified_at", admin.EmptyFieldListFilter),
                   ("whatsapp_opted_out_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__first_name", "user__last_name", "whatsapp_number")
    list_select_related = ("user",)
    form = UserProfileForm
    fields = ("user", *PROFILE_FIELDS)
    readonly_fields = ("user", *LEARNT)

    def save_model(self, request, obj, form, change) -> None:
        _staff_numbers(request, [form])
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request) -> bool:
        # A profile is made with its user; adding one here would clash with that.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserForm
    inlines = (UserProfileInline,)
    list_display = (
        "username", "email", "first_name", "last_name", "role", "whatsapp_number", "is_active",
        "is_staff",
    )
    list_filter = ("profile__role", "is_active", "is_staff", "is_superuser")
    list_select_related = ("profile",)
    search_fields = ("username", "first_name", "last_name", "email", "profile__whatsapp_number")

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is UserProfile:
            _staff_numbers(request, formset.forms)
        super().save_formset(request, form, formset, change)

    def get_inline_instances(self, request, obj=None):
        # On the add page the profile does not exist yet: the post_save receiver creates it, and
        # an inline there would try to create a second one. It appears once the user is saved.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description="Role", ordering="profile__role")
    def role(self, obj) -> str:
        return obj.profile.get_role_display()

    @admin.display(description="WhatsApp number", ordering="profile__whatsapp_number")
    def whatsapp_number(self, obj) -> str:
        return obj.profile.whatsapp_number or "—"
