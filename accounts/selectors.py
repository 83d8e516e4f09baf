"""Read-side rules for users."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from accounts.models import NumberOrigin, Role, UserProfile

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


# WHATSAPP_REQUIRE_PROOF: which numbers must be proved before anything is sent to them or taken
# from them. `self`: those a user set for themselves; `all`: every number; `none`: none.
PROOF_MODES = ("self", "all", "none")


def number_unproved(profile: UserProfile) -> bool:
    """Whether the profile's WhatsApp number must still be proved: nothing is sent to it and
    nothing it sends is acted on (but the proof itself, STOP and START) until then."""
    if not profile.whatsapp_number or profile.whatsapp_verified_at is not None:
        return False
    mode = settings.WHATSAPP_REQUIRE_PROOF  # anything unknown counts as the default, `self`
    if mode in ("all", "none"):
        return mode == "all"
    return profile.whatsapp_number_origin == NumberOrigin.SELF


def unproved(prefix: str = "") -> Q:
    """number_unproved() as a filter on profiles (`prefix`: the path to the profile, e.g.
    "recipient__profile__")."""
    mode = settings.WHATSAPP_REQUIRE_PROOF
    if mode == "none":
        return Q(pk__in=[])
    waiting = Q(**{f"{prefix}whatsapp_verified_at__isnull": True}) & ~Q(**{f"{prefix}whatsapp_number": ""})
    if mode != "all":
        waiting &= Q(**{f"{prefix}whatsapp_number_origin": NumberOrigin.SELF})
    return waiting
