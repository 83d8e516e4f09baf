"""Token hygiene: rotation with a blacklist, logout, a JWT key of its own, throttling, and
inactive users shut out (that they are never notified: notifications/tests/test_recipients.py)."""
import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import make_client
from accounts.throttling import FailedAttemptThrottle

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
    assert issubclass(FailedAttemptThrottle, ScopedRateThrottle)
    for view in (TokenView, RefreshView, LogoutView):
        assert view.throttle_scope == "auth" and FailedAttemptThrottle in view.throttle_classes


def test_successful_logins_do_not_use_up_the_throttle(client, monkeypatch):
    # A script (or the Postman collection run three times a minute) logs in again and again.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    make_client(username="amal")
    for _ in range(10):
        log_in(client, "amal")
    tokens = log_in(client, "amal")
    assert refresh(client, tokens["refresh"]).status_code == 200


def wrong_login(client, **headers):
    return client.post("/api/auth/token/", {"username": "amal", "password": "guess"},
                       content_type="application/json", **headers)


def test_a_forged_x_forwarded_for_does_not_reset_the_throttle(client, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    make_client(username="amal")
    codes = [wrong_login(client, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
             for n in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429]


def test_with_one_trusted_proxy_the_throttle_counts_per_forwarded_client(client, monkeypatch):
    from rest_framework.settings import api_settings

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    make_client(username="amal")
    # The proxy appends the address it saw; what the client wrote before it is not trusted.
    first = [wrong_login(client, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7").status_code
             for n in range(3)]
    other = wrong_login(client, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code
    assert first == [401, 401, 429]
    assert other == 401


def test_the_trusted_proxy_count_is_a_setting_defaulting_to_none_trusted():
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_password_change_ends_every_token_issued_before(client):
    user = make_client(username="amal")
    tokens = log_in(client, "amal")
    user.set_password("a-brand-new-password")
    user.save()

    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 401
    assert me.json()["code"] == "password_changed"
    refreshed = refresh(client, tokens["refresh"])
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "password_changed"
    assert "log in again" in refreshed.json()["detail"]
    # The new password gives tokens that work.
    fresh = client.post("/api/auth/token/", {"username": "amal", "password": "a-brand-new-password"},
                        content_type="application/json").json()
    assert client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 200


def test_an_expired_access_token_says_so_at_the_top_level(client):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    user = make_client(username="amal")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Access token expired: refresh it at /api/auth/token/refresh/ (or log in again).",
        "code": "token_expired",
    }


def test_an_expired_refresh_token_says_to_log_in_again(client):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken.for_user(make_client(username="amal"))
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = refresh(client, str(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "/api/auth/token/" in response.json()["detail"]


@pytest.mark.parametrize("case, code", [
    ("no token", "not_authenticated"),
    ("wrong password", "no_active_account"),
    ("garbage token", "token_not_valid"),
])
def test_every_401_carries_a_code(client, case, code):
    make_client(username="amal")
    if case == "no token":
        response = client.get("/api/tickets/")
    elif case == "wrong password":
        response = wrong_login(client)
    else:
        response = client.get("/api/tickets/", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
