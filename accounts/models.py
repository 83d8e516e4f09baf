"""Users' roles and WhatsApp numbers, kept on a profile beside Django's own User."""
import secrets
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.phone import normalize_whatsapp_number
from Incident.zones import known_zone


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin"
    DEVELOPER = "DEVELOPER", "Developer"
    CLIENT = "CLIENT", "Client"


class NumberOrigin(models.TextChoices):
    """Who put the WhatsApp number on the profile: staff are trusted with it, a user's own claim is
    not until the user proves it from that phone (WHATSAPP_REQUIRE_PROOF)."""

    STAFF = "staff", "Staff (Django admin or a command)"
    SELF = "self", "The user, through the API"


class WhatsAppNumberField(models.CharField):
    """A CharField that normalises to E.164 whenever a form or full_clean() cleans it.

    Done in clean(), not to_python(): to_python also runs for query lookups, where a malformed
    number must simply match nothing rather than raise.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        return normalize_whatsapp_number(super().clean(value, model_instance))


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT, db_index=True)
    whatsapp_number = WhatsAppNumberField(
        "WhatsApp number",
        blank=True,
        help_text="International format with country code, e.g. +201234567890.",
    )
    # Quiet hours: messages to them in these hours (local to time_zone) wait until they end,
    # except pages of HIGH tickets (notifications.quiet).
    time_zone = models.CharField(max_length=64, blank=True, validators=[known_zone],
                                 help_text="An IANA name, e.g. Africa/Cairo; blank: the "
                                 "server's TIME_ZONE.")
    quiet_start = models.TimeField("quiet hours from", null=True, blank=True)
    quiet_end = models.TimeField("quiet hours until", null=True, blank=True,
                                 help_text="Both blank: no quiet hours. 22:00 to 07:00 spans "
                                 "midnight.")
    whatsapp_last_inbound_at = models.DateTimeField(
        "last wrote to the business number",
        null=True,
        blank=True,
        help_text="From WhatsApp webhooks; opens a 24-hour window for free-text messages.",
    )
    # What WhatsApp calls this person, when it differs from the number: the wa_id of Meta's answers
    # (Mexican and Argentinian numbers gain or lose a digit) and the business-scoped user id of
    # webhooks (sent since 2026, and alone for people who chose a username).
    whatsapp_wa_id = models.CharField("WhatsApp ID (wa_id)", max_length=32, blank=True,
                                      db_index=True, help_text="Learnt from Meta's answers.")
    whatsapp_user_id = models.CharField("business-scoped user ID", max_length=64, blank=True,
                                        db_index=True, help_text="Learnt from webhooks.")
    whatsapp_notice = models.TextField(
        "WhatsApp notice", blank=True,
        help_text="What WhatsApp told us about this person, e.g. that they changed their number.")
    # Talking back (notifications.whatsapp.inbound): consent, and proof that the number is theirs.
    whatsapp_opted_out_at = models.DateTimeField(
        "sent STOP at", null=True, blank=True,
        help_text="Set when the person sent STOP: they get no WhatsApp notifications until START.")
    whatsapp_opted_in_at = models.DateTimeField(
        "opted in at", null=True, blank=True,
        help_text="When they last sent START or proved the number theirs from WhatsApp.")
    whatsapp_verified_at = models.DateTimeField(
        "number verified at", null=True, blank=True,
        help_text="When they sent their code from this number (cleared when the number changes).")
    whatsapp_code = models.CharField(
        "verification code", max_length=8, blank=True, editable=False,
        help_text="One-time code to send from the number (GET /api/auth/me/ shows it).")
    # Wrong codes in a row, and the lock they earn (accounts.services.number_prove).
    whatsapp_code_tries = models.PositiveSmallIntegerField(default=0, editable=False)
    whatsapp_code_locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    whatsapp_number_origin = models.CharField(
        "number set by", max_length=8, choices=NumberOrigin.choices, default=NumberOrigin.STAFF,
        help_text="A number the user set for themselves must be proved before it is used.")
    whatsapp_number_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False, verbose_name="number set by user")
    whatsapp_number_set_at = models.DateTimeField("number set at", null=True, blank=True,
                                                  editable=False)

    class Meta:
        verbose_name = "user profile"

    def clean(self) -> None:
        problem = quiet_hours_problem(self.quiet_start, self.quiet_end)
        if problem:
            raise ValidationError({"quiet_end": problem})

    @classmethod
    def from_db(cls, db, field_names, values):
        profile = super().from_db(db, field_names, values)
        profile._loaded_number = profile.__dict__.get("whatsapp_number")
        return profile

    def save(self, *args, **kwargs) -> None:
        # Everything learnt about a number belongs to that number: a new one starts with no proof,
        # consent, window, WhatsApp ids or notice, and with a code of its own to prove it.
        loaded = "" if self._state.adding else getattr(self, "_loaded_number", None)
        if loaded is not None and loaded != self.whatsapp_number:
            for name, empty in NUMBER_STATE.items():
                setattr(self, name, empty)
            self.whatsapp_code = new_code() if self.whatsapp_number else ""
            fields = kwargs.get("update_fields")
            if fields is not None:
                kwargs["update_fields"] = {*fields, *NUMBER_STATE, "whatsapp_code"}
        super().save(*args, **kwargs)
        self._loaded_number = self.whatsapp_number

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"


# What a profile forgets when its number changes, and the value each goes back to.
NUMBER_STATE = {
    "whatsapp_verified_at": None, "whatsapp_opted_out_at": None, "whatsapp_opted_in_at": None,
    "whatsapp_last_inbound_at": None, "whatsapp_wa_id": "", "whatsapp_user_id": "",
    "whatsapp_notice": "", "whatsapp_code_tries": 0, "whatsapp_code_locked_until": None,
}


def new_code() -> str:
    """Six random digits: the code a person sends from their number to prove it theirs."""
    return f"{secrets.randbelow(10**6):06d}"


def quiet_hours_problem(start: time | None, end: time | None) -> str:
    """What is wrong with quiet hours from `start` to `end` (empty: nothing)."""
    if (start is None) != (end is None):
        return "Give both ends of the quiet hours, or neither."
    if start is not None and start == end:
        return "Quiet hours must not start and end at the same time."
    return ""
