"""Read-side rules for users."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from accounts.models import Role

User = get_user_model()


def role_of(user: AbstractBaseUser) -> str | None:
    """The user's role, or None for an anonymous user."""
    if not user.is_authenticated:
        return None
    return user.profile.role


def users_list() -> QuerySet:
    """All users with their profiles, in a stable order; filters narrow it further."""
    return User.objects.select_related("profile").order_by("username", "id")


def active_developer(*, user_id: int):
    """The active DEVELOPER with this id, or None."""
    return (
        User.objects.select_related("profile")
        .filter(pk=user_id, is_active=True, profile__role=Role.DEVELOPER)
        .first()
    )


def contact_taken(*, field: str, value: str, exclude_user_id: int | None) -> AbstractBaseUser | None:
    """The other active user already holding this WhatsApp number or email, or None.

    A number (or address) belongs to one active user: inbound messages and delivery reports are
    matched by it. Deactivated users keep theirs without blocking anyone. Emails compare without
    regard to case.
    """
    if not value:
        return None
    lookup = {"profile__whatsapp_number": value} if field == "whatsapp_number" else {"email__iexact": value}
    return (
        User.objects.filter(is_active=True, **lookup).exclude(pk=exclude_user_id).order_by("pk").first()
    )
