"""Write-side rules for users: profile changes go through here, from the API and the demo seed."""
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import NumberOrigin, UserProfile
from accounts.selectors import contact_taken
from Incident.errors import InvalidInput

USER_FIELDS = ("email", "first_name", "last_name")
PROFILE_FIELDS = ("whatsapp_number", "time_zone", "quiet_start", "quiet_end")


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
    if "quiet_hours" in data:
        quiet = data.pop("quiet_hours") or {}
        data = {**data, "quiet_start": quiet.get("start"), "quiet_end": quiet.get("end")}
    profile_changes = [f for f in PROFILE_FIELDS if f in data and getattr(profile, f) != data[f]]
    for field in profile_changes:
        setattr(profile, field, data[field])
    if "whatsapp_number" in profile_changes:
        # The user's own claim: used only once proved from that phone (WHATSAPP_REQUIRE_PROOF).
        profile_changes += number_set(profile=profile, by=user, origin=NumberOrigin.SELF)
    if profile_changes:
        profile.save(update_fields=profile_changes)
    return user


def number_set(*, profile: UserProfile, by: AbstractBaseUser | None, origin: str) -> list[str]:
    """Note who gave the profile its (new) number and how far it is trusted; the caller saves,
    and the model's save() forgets what belonged to the old number. Returns the fields set."""
    profile.whatsapp_number_origin, profile.whatsapp_number_set_by = origin, by
    profile.whatsapp_number_set_at = timezone.now()
    return ["whatsapp_number_origin", "whatsapp_number_set_by", "whatsapp_number_set_at"]


# A proof code takes this many wrong tries in a row, then refuses every code for LOCK.
MAX_TRIES, LOCK = 5, timedelta(minutes=15)


@dataclass(frozen=True)
class Proof:
    proved: bool
    locked_until: datetime | None = None  # set when the code is locked (now, or still)
    tries_left: int = MAX_TRIES


def number_prove(*, profile: UserProfile, code: str) -> Proof:
    """Check a code sent from the profile's number. The caller holds the profile's row lock, so
    two guesses at once both count. A wrong guess keeps the code (the person may have mistyped);
    five in a row lock it for fifteen minutes, right code or not."""
    now = timezone.now()
    if profile.whatsapp_verified_at is not None:
        return Proof(proved=True)
    locked = profile.whatsapp_code_locked_until
    if locked is not None and locked > now:
        return Proof(proved=False, locked_until=locked, tries_left=0)
    if profile.whatsapp_code and hmac.compare_digest(code, profile.whatsapp_code):
        profile.whatsapp_verified_at, profile.whatsapp_code = now, ""
        profile.whatsapp_code_tries, profile.whatsapp_code_locked_until = 0, None
        if profile.whatsapp_opted_out_at is None:
            profile.whatsapp_opted_in_at = now
        profile.save(update_fields=["whatsapp_verified_at", "whatsapp_code", "whatsapp_code_tries",
                                    "whatsapp_code_locked_until", "whatsapp_opted_in_at"])
        return Proof(proved=True)
    tries = profile.whatsapp_code_tries + 1
    if tries >= MAX_TRIES:
        profile.whatsapp_code_tries, profile.whatsapp_code_locked_until = 0, now + LOCK
    else:
        profile.whatsapp_code_tries, profile.whatsapp_code_locked_until = tries, None
    profile.save(update_fields=["whatsapp_code_tries", "whatsapp_code_locked_until"])
    return Proof(proved=False, locked_until=profile.whatsapp_code_locked_until,
                 tries_left=MAX_TRIES - tries if tries < MAX_TRIES else 0)


CONTACT_NAMES = {"whatsapp_number": "WhatsApp number", "email": "email address"}


def ensure_contact_free(*, field: str, value: str, user_id: int | None) -> None:
    """Refuse a WhatsApp number or email that another active user already has (400)."""
    if contact_taken(field=field, value=value, exclude_user_id=user_id) is not None:
        raise InvalidInput(
            field,
            f"The {CONTACT_NAMES[field]} {value} belongs to another active user. Use your own, "
            "or ask an admin to change theirs.",
        )


def identities_forget_elsewhere(*, profile_id: int, wa_id: str = "", user_id: str = "") -> None:
    """A WhatsApp id just learnt for one profile is that person's alone: any other profile still
    holding it learnt it from a number it no longer has (or never had), and would be taken for
    them."""
    for field, value in (("whatsapp_wa_id", wa_id), ("whatsapp_user_id", user_id)):
        if value:
            UserProfile.objects.filter(**{field: value}).exclude(pk=profile_id).update(**{field: ""})
