"""API shapes for users: the caller's own account, and the admin's user list."""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.phone import normalize_whatsapp_number
from accounts.selectors import number_unproved
from accounts.models import quiet_hours_problem
from Incident.serializers import LocalTimeField, NestedListsMixin, StrictSerializer
from Incident.zones import known_zone

User = get_user_model()


class WhatsAppNumberField(serializers.CharField):
    """Accepts the same input as the admin and stores E.164, through the one normaliser."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_whatsapp_number(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField(help_text="An email address, or empty when none is set.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField(source="profile.role")
    whatsapp_number = serializers.CharField(source="profile.whatsapp_number")


class WhatsAppStateSerializer(serializers.Serializer):
    """The caller's WhatsApp standing: proof of the number, consent, and how to prove it."""

    verified_at = serializers.DateTimeField(source="whatsapp_verified_at", allow_null=True)
    opted_in_at = serializers.DateTimeField(source="whatsapp_opted_in_at", allow_null=True)
    opted_out_at = serializers.DateTimeField(
        source="whatsapp_opted_out_at", allow_null=True,
        help_text="Set after you sent STOP: no WhatsApp notifications until you send START.")
    code = serializers.CharField(
        source="whatsapp_code", help_text="Send VERIFY and this code from your number to prove it "
        "is yours; empty once verified or while no number is set. Made when the number is set; "
        "a wrong try does not change it.")
    proof_required = serializers.SerializerMethodField(
        help_text="True while nothing is sent to your number and nothing it sends is acted on, "
        "until you send the code from it (WHATSAPP_REQUIRE_PROOF: a number you set yourself).")
    locked_until = serializers.DateTimeField(
        source="whatsapp_code_locked_until", allow_null=True,
        help_text="After 5 wrong codes in a row, no code is accepted until this time.")
    number_set_by = serializers.CharField(
        source="whatsapp_number_origin",
        help_text="`self` (you, through the API) or `staff` (an admin, trusted without proof).")
    link = serializers.SerializerMethodField(
        help_text="A wa.me link that opens WhatsApp with the code typed (needs "
        "WHATSAPP_BUSINESS_NUMBER); null when there is nothing to prove.")

    def get_proof_required(self, profile) -> bool:
        return number_unproved(profile)

    def get_link(self, profile) -> str | None:
        from django.conf import settings
        from urllib.parse import quote

        number = "".join(ch for ch in settings.WHATSAPP_BUSINESS_NUMBER if ch.isdigit())
        if not (number and profile.whatsapp_code):
            return None
        return f"https://wa.me/{number}?text={quote('VERIFY ' + profile.whatsapp_code)}"


class QuietHoursSerializer(StrictSerializer):
    start = LocalTimeField(help_text="Local to time_zone, e.g. 22:00.")
    end = LocalTimeField(help_text="e.g. 07:00; before the start means the next morning.")

    def validate(self, data):
        # PATCH is partial all the way down, so a missing end is caught here.
        problem = quiet_hours_problem(data.get("start"), data.get("end"))
        if problem:
            raise serializers.ValidationError({"end": [problem]})
        return data


class MeOutputSerializer(UserOutputSerializer):
    whatsapp = WhatsAppStateSerializer(source="profile")
    time_zone = serializers.CharField(source="profile.time_zone",
                                      help_text="Empty: the server's TIME_ZONE.")
    quiet_hours = serializers.SerializerMethodField(
        help_text="Messages to you in these hours wait until they end, except pages of HIGH "
        "tickets; null: none.")

    def get_quiet_hours(self, user) -> QuietHoursSerializer(allow_null=True):
        profile = user.profile
        if profile.quiet_start is None:
            return None
        return QuietHoursSerializer({"start": profile.quiet_start, "end": profile.quiet_end}).data


class AdminUserOutputSerializer(UserOutputSerializer):
    is_active = serializers.BooleanField()


class MeUpdateSerializer(NestedListsMixin, StrictSerializer):
    read_only_hints = {
        "role": "Your role cannot be changed here; an admin sets it in Django admin.",
        "username": "The username cannot be changed.",
        "id": "This field is read-only.",
    }

    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    whatsapp_number = WhatsAppNumberField(required=False)
    time_zone = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                      validators=[known_zone],
                                      help_text="An IANA name; empty: the server's TIME_ZONE.")
    quiet_hours = QuietHoursSerializer(required=False, allow_null=True,
                                       help_text="{start, end}, or null for none.")
    # Declared read-only so they count as known fields and earn the hints above.
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)


class UserSummarySerializer(serializers.Serializer):
    """How a user appears inside other objects (a ticket's client, an event's actor)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")

    def to_representation(self, user) -> dict:
        # Built by hand: it is rendered twice per ticket of every list, and DRF's generic path
        # inspects the signature of get_full_name for each one (tests compare the two).
        return user_summary(user)


def user_summary(user) -> dict:
    return person(user.pk, user.get_username(), user.first_name, user.last_name)


def person(pk: int, username: str, first_name: str, last_name: str) -> dict:
    """A user as the API shows one everywhere; `full_name` as Django's get_full_name writes it."""
    return {"id": pk, "username": username, "full_name": f"{first_name} {last_name}".strip()}
