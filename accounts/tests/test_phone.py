"""The WhatsApp number rules: normalised to E.164, refused without a country code or when invalid."""
import pytest
from django.core.exceptions import ValidationError

from accounts.phone import normalize_whatsapp_number


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("+201234567890", "+201234567890"),
        ("+20 123 456 7890", "+201234567890"),
        ("+20-123-456-7890", "+201234567890"),
        ("(+20) 123 456 7890", "+201234567890"),
        ("  +1 (202) 555-1234 ", "+12025551234"),
        ("+44 7700 123456", "+447700123456"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_numbers_are_normalised_to_e164(raw, stored):
    assert normalize_whatsapp_number(raw) == stored


@pytest.mark.parametrize("raw", ["01234567890", "201234567890", "0020 123 456 7890"])
def test_a_number_without_country_code_is_refused_with_the_expected_form(raw):
    with pytest.raises(ValidationError) as refused:
        normalize_whatsapp_number(raw)
    message = refused.value.messages[0]
    assert "no country code" in message
    assert "+201234567890" in message


@pytest.mark.parametrize("raw", ["+1234567890", "+20 12", "+abc", "+999 123 456"])
def test_an_invalid_number_is_refused_with_the_expected_form(raw):
    with pytest.raises(ValidationError) as refused:
        normalize_whatsapp_number(raw)
    assert "+201234567890" in refused.value.messages[0]
