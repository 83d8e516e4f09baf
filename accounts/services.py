"""Write-side rules for users: profile changes go through here, from the API and the demo seed."""
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.selectors import contact_taken
from Incident.errors import InvalidInput

USER_FIELDS = ("email", "first_name", "last_name")
PROFILE_FIELDS = ("whatsapp_number",)


@transaction.atomic
def user_update_own_details(*, user: AbstractBaseUser, data: dict) -> AbstractBaseUser:
    """Update the editable details of a user's own account; `data` is already validated."""
    for field in ("whatsapp_number", "email"):
        ensure_contact_free(field=field, value=data.get(field, ""), user_id=user.pk)
    user_changes = [f for f in USER_FIELDS if f in data and getattr(user, f) != data[f]]
    for field in user_changes:
        setattr(user, field, data[field])
    if user_changes:
        user.save(update_fields=user_changes)

    profile = user.profile
    profile_changes = [f for f in PROFILE_FIELDS if f in data and getattr(profile, f) != data[f]]
    for field in profile_changes:
        setattr(profile, field, data[field])
    if profile_changes:
        profile.save(update_fields=profile_changes)
    return user


def ensure_whatsapp_code(*, user: AbstractBaseUser) -> str:
    """The one-time code that proves the user's number theirs when sent from it (made on first
    need; a new number gets a new one)."""
    profile = user.profile
    if profile.whatsapp_number and not profile.whatsapp_verified_at and not profile.whatsapp_code:
        profile.whatsapp_code = new_code()
        profile.save(update_fields=["whatsapp_code"])
    return profile.whatsapp_code


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


CONTACT_NAMES = {"whatsapp_number": "WhatsApp number", "email": "email address"}


def ensure_contact_free(*, field: str, value: str, user_id: int | None) -> None:
    """Refuse a WhatsApp number or email that another active user already has (400)."""
    if contact_taken(field=field, value=value, exclude_user_id=user_id) is not None:
        raise InvalidInput(
            field,
            f"The {CONTACT_NAMES[field]} {value} belongs to another active user. Use your own, "
            "or ask an admin to change theirs.",
        )
