"""Django admin: users with their role and WhatsApp number edited inline."""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import UserProfile

User = get_user_model()


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    verbose_name = verbose_name_plural = "User Profile"
    can_delete = False
    min_num = 1
    max_num = 1
    fields = ("role", "whatsapp_number")


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    """Profiles on their own, for a quick look over everyone's role and number."""

    list_display = ("user", "role", "whatsapp_number")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "whatsapp_number")
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        # A profile is made with its user; adding one here would clash with that.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (UserProfileInline,)
    list_display = (
        "username", "email", "first_name", "last_name", "role", "whatsapp_number", "is_active",
        "is_staff",
    )
    list_filter = ("profile__role", "is_active", "is_staff", "is_superuser")
    list_select_related = ("profile",)
    search_fields = ("username", "first_name", "last_name", "email", "profile__whatsapp_number")

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
