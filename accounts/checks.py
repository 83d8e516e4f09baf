"""System checks: WHATSAPP_REQUIRE_PROOF names a known rule; with `--deploy`, the JWT signing key
must be strong enough to sign with."""
from django.conf import settings
from django.core.checks import Error, Tags, register

# HS256 keys: at least as long as the hash (32 bytes), as RFC 7518 section 3.2 asks.
MIN_LENGTH = 32
MIN_UNIQUE = 5
PLACEHOLDERS = ("change-me", "insecure-development")


@register(Tags.security)
def check_require_proof(app_configs, **kwargs) -> list:
    from accounts.selectors import PROOF_MODES  # models: only once apps are ready

    if settings.WHATSAPP_REQUIRE_PROOF in PROOF_MODES:
        return []
    return [Error(
        f"WHATSAPP_REQUIRE_PROOF is {settings.WHATSAPP_REQUIRE_PROOF!r}.",
        hint="Use self (numbers users set for themselves must be proved; the default), all, or "
        "none.", id="accounts.E002")]


@register(Tags.security, deploy=True)
def check_jwt_signing_key(app_configs, **kwargs) -> list:
    key = str(settings.SIMPLE_JWT["SIGNING_KEY"])
    if len(key) >= MIN_LENGTH and len(set(key)) >= MIN_UNIQUE and not key.startswith(PLACEHOLDERS):
        return []
    return [Error(
        f"JWT_SIGNING_KEY is too weak to sign API tokens: it has {len(key)} characters "
        f"({len(set(key))} different){', and is a placeholder' if key.startswith(PLACEHOLDERS) else ''}.",
        hint=f"Use a random string of at least {MIN_LENGTH} characters, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
        id="accounts.E001",
    )]
