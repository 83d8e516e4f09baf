"""Write-side rules for users: profile changes go through here, from the API and the demo seed."""
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

USER_FIELDS = ("email", "first_name", "last_name")
PROFILE_FIELDS = ("whatsapp_number",)


@transaction.atomic
def user_update_own_details(*, user: AbstractBaseUser, data: dict) -> AbstractBaseUser:
    """Update the editable details of a user's own account; `data` is already validated."""
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
