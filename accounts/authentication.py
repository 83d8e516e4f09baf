"""API authentication: simplejwt's bearer tokens, with an expired token said plainly."""
from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken, Token

from accounts.models import UserProfile
from Incident.prepared import Prepared

EXPIRED = "Access token expired: refresh it at /api/auth/token/refresh/ (or log in again)."

User = get_user_model()
USER_FIELDS = tuple(field.attname for field in User._meta.concrete_fields)
PROFILE_FIELDS = tuple(field.attname for field in UserProfile._meta.concrete_fields)
# The caller of every request, with the profile every view reads the role from next.
_CALLER = Prepared(lambda shape, user_id: User.objects.filter(pk=user_id).values(
    *USER_FIELDS, *(f"profile__{field.name}" for field in UserProfile._meta.concrete_fields)))


def caller(user_id: int):
    """The user with this id and their profile, as select_related("profile") gives them; None if
    there is no such user."""
    found = _CALLER.rows("caller", user_id=user_id)
    if not found:
        return None
    values = list(found[0].values())
    user = User.from_db("default", USER_FIELDS, values[:len(USER_FIELDS)])
    profile = None
    if values[len(USER_FIELDS)] is not None:  # the profile's id: there is one
        profile = UserProfile.from_db("default", PROFILE_FIELDS, values[len(USER_FIELDS):])
        UserProfile.user.field.set_cached_value(profile, user)
    User.profile.related.set_cached_value(user, profile)
    return user


class _Callers:
    """Where simplejwt's get_user (and its checks: active, password unchanged) looks the caller
    up, as `objects.get(id=…)`: the prepared query above."""

    DoesNotExist = User.DoesNotExist

    @property
    def objects(self):
        return self

    def get(self, **lookup):
        (claim,) = lookup.values()  # tokens carry the id as a string
        try:
            user = caller(int(claim))
        except (TypeError, ValueError):
            user = None
        if user is None:
            raise User.DoesNotExist
        return user


class TokenAuthentication(JWTAuthentication):
    """simplejwt buries "Token is expired" in a list under "Given token not valid for any token
    type"; expiry is the one failure a client fixes by itself, so it gets its own message and code.
    Expiry is only reported for a token whose signature checked out."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _Callers()

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
