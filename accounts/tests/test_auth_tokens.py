"""Token hygiene: rotation with a blacklist, logout, a JWT key of its own, throttling, and
inactive users shut out (that they are never notified: notifications/tests/test_recipients.py)."""
import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import make_client

pytestmark = pytest.mark.django_db
PASSWORD = "pass-for-tests"  # the factories' password


def log_in(client, username: str) -> dict:
    response = client.post("/api/auth/token/", {"username": username, "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token: str):
    return client.post("/api/auth/token/refresh/", {"refresh": token},
                       content_type="application/json")


def test_refresh_rotates_and_the_old_refresh_token_is_dead(client):
    make_client(username="amal")
    first = log_in(client, "amal")
    rotated = refresh(client, first["refresh"])
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]

    replay = refresh(client, first["refresh"])
    assert replay.status_code == 401
    assert "blacklisted" in replay.json()["detail"].lower()
    assert refresh(client, rotated.json()["refresh"]).status_code == 200


def test_logout_blacklists_the_refresh_token(client):
    make_client(username="amal")
    tokens = log_in(client, "amal")
    response = client.post("/api/auth/logout/", {"refresh": tokens["refresh"]},
                           content_type="application/json")
    assert response.status_code == 204
    assert refresh(client, tokens["refresh"]).status_code == 401

    again = client.post("/api/auth/logout/", {"refresh": tokens["refresh"]},
                        content_type="application/json")
    assert again.status_code == 400
    assert "blacklisted" in again.json()["refresh"][0].lower()


@pytest.mark.parametrize("body, field", [
    ({}, "refresh"),
    ({"refresh": "not-a-token"}, "refresh"),
    ({"refresh": "x", "all": True}, "all"),
])
def test_logout_explains_a_bad_body(client, body, field):
    response = client.post("/api/auth/logout/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()


def test_tokens_are_signed_with_their_own_key_not_the_secret_key(client):
    make_client(username="amal")
    access = log_in(client, "amal")["access"]
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    jwt.decode(access, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(access, settings.SECRET_KEY, algorithms=["HS256"])


def test_a_token_signed_with_the_secret_key_is_refused(client):
    user = make_client(username="amal")
    forged = jwt.encode({"token_type": "access", "user_id": str(user.pk), "jti": "x",
                         "exp": 4102444800}, settings.SECRET_KEY, algorithm="HS256")
    response = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_the_token_endpoint_is_throttled_with_retry_after(client, monkeypatch):
    # DRF reads the rates once, into the class: patch them there.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    make_client(username="amal")
    wrong = {"username": "amal", "password": "guess"}
    codes = [client.post("/api/auth/token/", wrong, content_type="application/json").status_code
             for _ in range(3)]
    assert codes == [401, 401, 401]
    blocked = client.post("/api/auth/token/", {"username": "amal", "password": PASSWORD},
                          content_type="application/json")
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 60
    assert "throttled" in blocked.json()["detail"].lower()
    # Other endpoints are not counted against it.
    assert client.get("/api/tickets/").status_code == 401


def test_an_inactive_user_cannot_log_in_refresh_or_use_a_token(client):
    user = make_client(username="amal")
    tokens = log_in(client, "amal")
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    assert client.post("/api/auth/token/", {"username": "amal", "password": PASSWORD},
                       content_type="application/json").status_code == 401
    assert refresh(client, tokens["refresh"]).status_code == 401
    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 401


def test_the_configured_rate_applies_to_every_token_endpoint():
    from accounts.auth_views import LogoutView, RefreshView, TokenView

    assert ScopedRateThrottle.THROTTLE_RATES["auth"] == settings.REST_FRAMEWORK[
        "DEFAULT_THROTTLE_RATES"]["auth"]
    for view in (TokenView, RefreshView, LogoutView):
        assert view.throttle_scope == "auth" and ScopedRateThrottle in view.throttle_classes
