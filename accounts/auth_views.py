"""Token endpoints: log in, refresh (rotating) and log out, throttled per client address."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.throttling import Throttled
from Incident.errors import InvalidInput
from Incident.schema import errors
from Incident.serializers import StrictSerializer


# Both endpoints answer with a fresh pair: refresh rotates the refresh token too.
TokenPair = inline_serializer("TokenPair", {
    "access": serializers.CharField(), "refresh": serializers.CharField()})


@extend_schema(responses={200: TokenPair, **errors(400, 401, 429)})
class TokenView(Throttled, TokenObtainPairView):
    """POST /api/auth/token/: username and password → access and refresh tokens."""


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, which checks neither expiry wording nor a password change: a refresh
    token issued before the password changed must not mint new access tokens."""

    def validate(self, attrs):
        try:
            refresh = self.token_class(attrs["refresh"])
        except ExpiredTokenError as exc:
            raise AuthenticationFailed(
                "Refresh token expired: log in again at /api/auth/token/.", code="token_expired"
            ) from exc
        user = get_user_model().objects.filter(
            **{api_settings.USER_ID_FIELD: refresh.payload.get(api_settings.USER_ID_CLAIM)}
        ).first()
        claim = refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM)
        if user is not None and claim != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The password changed after this token was issued: log in again at /api/auth/token/.",
                code="password_changed",
            )
        return super().validate(attrs)


@extend_schema(responses={200: TokenPair, **errors(400, 401, 429)})
class RefreshView(Throttled, TokenRefreshView):
    """POST /api/auth/token/refresh/: a refresh token → a new access token and a new refresh token;
    the one sent is blacklisted and cannot be used again."""

    serializer_class = RefreshSerializer


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


class LogoutView(Throttled, APIView):
    """POST /api/auth/logout/: revoke a refresh token. The refresh token is the credential here,
    so a client whose access token has expired can still log out."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LogoutSerializer, responses={204: None, **errors(400, 429)})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            # Expired, malformed, signed with another key, or already revoked.
            raise InvalidInput("refresh", f"{str(exc).rstrip('.')}. Log in again to get a new one.") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
