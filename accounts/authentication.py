"""API authentication: simplejwt's bearer tokens, with an expired token said plainly."""
from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, Token

EXPIRED = "Access token expired: refresh it at /api/auth/token/refresh/ (or log in again)."


class _UsersWithProfiles:
    """What simplejwt's get_user looks users up in: with the profile in the same query, since
    every API view asks for the caller's role next."""

    DoesNotExist = get_user_model().DoesNotExist

    @property
    def objects(self):
        return get_user_model().objects.select_related("profile")


class TokenAuthentication(JWTAuthentication):
    """simplejwt buries "Token is expired" in a list under "Given token not valid for any token
    type"; expiry is the one failure a client fixes by itself, so it gets its own message and code.
    Expiry is only reported for a token whose signature checked out."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithProfiles()

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return AccessToken(raw_token)
        except ExpiredTokenError as exc:
            raise AuthenticationFailed(EXPIRED, code="token_expired") from exc
        except TokenError:  # simplejwt words every other refusal itself
            return super().get_validated_token(raw_token)


class TokenAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI schema describes it as the bearer scheme it is (drf-spectacular matches the
    exact class)."""

    target_class = TokenAuthentication
