"""Users' roles and WhatsApp numbers, kept on a profile beside Django's own User."""
from django.conf import settings
from django.db import models

from accounts.phone import normalize_whatsapp_number


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin"
    DEVELOPER = "DEVELOPER", "Developer"
    CLIENT = "CLIENT", "Client"


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
    # Talking back (notifications.inbound): consent, proof that the number is theirs, and an
    # answer the product is waiting for (the reason for a rejection tapped on WhatsApp).
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
    whatsapp_awaiting = models.CharField(max_length=64, blank=True, editable=False)
    whatsapp_awaiting_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "user profile"

    @classmethod
    def from_db(cls, db, field_names, values):
        profile = super().from_db(db, field_names, values)
        profile._loaded_number = profile.__dict__.get("whatsapp_number")
        return profile

    def save(self, *args, **kwargs) -> None:
        # Proof and consent belong to a number: a new number has neither, whoever changes it.
        loaded = getattr(self, "_loaded_number", None)
        if loaded is not None and loaded != self.whatsapp_number:
            self.whatsapp_verified_at = self.whatsapp_opted_out_at = self.whatsapp_opted_in_at = None
            self.whatsapp_code = ""
            fields = kwargs.get("update_fields")
            if fields is not None:
                kwargs["update_fields"] = {*fields, "whatsapp_verified_at", "whatsapp_opted_out_at",
                                           "whatsapp_opted_in_at", "whatsapp_code"}
        super().save(*args, **kwargs)
        self._loaded_number = self.whatsapp_number

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"
