"""WhatsApp number rules: one normaliser, used by the model field, the admin and the API alike.

Numbers are stored in E.164 (`+201234567890`). A number must carry its country code: Meta prefixes
a number without one with the *business* number's country code, which misdelivers messages.
"""
import re

import phonenumbers
from django.core.exceptions import ValidationError

EXPECTED_FORM = (
    "Enter the number in international format: + and the country code, then the number, "
    "e.g. +201234567890 (Egypt) or +12025551234 (US)."
)

# What people type between digits; dropped before looking for the leading +.
_PUNCTUATION = re.compile(r"[\s\-().]")


def normalize_whatsapp_number(raw: str) -> str:
    """Return `raw` in E.164, or raise ValidationError saying what form is expected.

    Spaces, dashes, dots and parentheses are accepted on input and dropped; an empty value stays
    empty (the number is optional).
    """
    value = (raw or "").strip()
    if not value:
        return ""
    if not _PUNCTUATION.sub("", value).startswith("+"):
        raise ValidationError(
            f"'{value}' has no country code. {EXPECTED_FORM}", code="missing_country_code"
        )
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"'{value}' is not a phone number. {EXPECTED_FORM}", code="invalid")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            f"'{value}' is not a valid number for its country. {EXPECTED_FORM}", code="invalid"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
