"""Auth tokens, the caller's own account, and the admin's user list."""
import pytest
from django.contrib.auth import get_user_model

from accounts.models import Role
from accounts.tests.factories import make_admin, make_client, make_developer

pytestmark = pytest.mark.django_db


def test_token_pair_then_refresh_then_use(client):
    make_client(username="alice", password="s3cret-pass")
    response = client.post(
        "/api/auth/token/", {"username": "alice", "password": "s3cret-pass"},
        content_type="application/json",
    )
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}

    refreshed = client.post(
        "/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200 and "access" in refreshed.json()

    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_wrong_password_is_a_401(client):
    make_client(username="alice", password="s3cret-pass")
    response = client.post(
        "/api/auth/token/", {"username": "alice", "password": "nope"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["detail"]


def test_an_inactive_user_cannot_log_in(client):
    make_client(username="gone", password="s3cret-pass", is_active=False)
    response = client.post(
        "/api/auth/token/", {"username": "gone", "password": "s3cret-pass"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_token_without_fields_names_them(client):
    response = client.post("/api/auth/token/", {}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_me_shows_the_documented_fields(api, settings):
    settings.WHATSAPP_BUSINESS_NUMBER = "+1 555 000 1234"
    user = make_developer(username="dev", whatsapp_number="+201234567890")
    body = api(user).get("/api/auth/me/").json()
    code = user.profile.__class__.objects.get(user=user).whatsapp_code
    assert len(code) == 6 and code.isdigit()
    assert body == {
        "id": user.pk, "username": "dev", "email": "dev@example.com",
        "first_name": user.first_name, "last_name": user.last_name,
        "role": "DEVELOPER", "whatsapp_number": "+201234567890",
        "whatsapp": {"verified_at": None, "opted_in_at": None, "opted_out_at": None, "code": code,
                     "proof_required": False, "locked_until": None, "number_set_by": "staff",
                     "link": f"https://wa.me/15550001234?text=VERIFY%20{code}"},
        "time_zone": "", "quiet_hours": None,
    }
    # The same code until it is used; a new number gets a new one and loses any proof.
    assert api(user).get("/api/auth/me/").json()["whatsapp"]["code"] == code
    changed = api(user).patch("/api/auth/me/", {"whatsapp_number": "+201111111111"},
                              format="json").json()["whatsapp"]
    assert changed["code"] != code and len(changed["code"]) == 6


def test_me_patch_normalises_the_number(api):
    user = make_client(whatsapp_number="")
    response = api(user).patch(
        "/api/auth/me/", {"whatsapp_number": "+20 123 456 7890", "first_name": "Omar"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["whatsapp_number"] == "+201234567890"
    user.profile.refresh_from_db()
    user.refresh_from_db()
    assert (user.profile.whatsapp_number, user.first_name) == ("+201234567890", "Omar")


def test_me_patch_can_clear_the_number(api):
    user = make_client(whatsapp_number="+201234567890")
    response = api(user).patch("/api/auth/me/", {"whatsapp_number": ""}, format="json")
    assert response.status_code == 200 and response.json()["whatsapp_number"] == ""


@pytest.mark.parametrize("number", ["01234567890", "+1234567890"])
def test_me_patch_refuses_a_bad_number_with_the_expected_form(api, number):
    user = make_client(whatsapp_number="+201111111111")
    response = api(user).patch("/api/auth/me/", {"whatsapp_number": number}, format="json")
    assert response.status_code == 400
    assert "+201234567890" in response.json()["whatsapp_number"][0]
    user.profile.refresh_from_db()
    assert user.profile.whatsapp_number == "+201111111111"


def test_me_patch_cannot_change_the_role(api):
    user = make_client()
    response = api(user).patch("/api/auth/me/", {"role": "ADMIN"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()
    user.profile.refresh_from_db()
    assert user.profile.role == Role.CLIENT


def test_me_patch_refuses_a_bad_email(api):
    response = api(make_client()).patch("/api/auth/me/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400 and "email" in response.json()


def test_me_needs_a_token(api):
    assert api().get("/api/auth/me/").status_code == 401


def test_users_list_is_for_admins_and_filters_by_role(api):
    admin = make_admin(username="boss")
    dev = make_developer(username="dev")
    make_client(username="cli")
    response = api(admin).get("/api/users/?role=DEVELOPER")
    assert response.status_code == 200
    assert [u["username"] for u in response.json()["results"]] == ["dev"]
    assert response.json()["results"][0]["id"] == dev.pk
    everyone = api(admin).get("/api/users/").json()
    assert everyone["count"] == 3


def test_users_list_filters_active_users(api):
    admin = make_admin()
    make_developer(username="gone", is_active=False)
    make_developer(username="here")
    response = api(admin).get("/api/users/?role=DEVELOPER&is_active=true")
    assert [u["username"] for u in response.json()["results"]] == ["here"]


def test_users_list_bad_role_lists_the_allowed_ones(api):
    response = api(make_admin()).get("/api/users/?role=BOSS")
    assert response.status_code == 400
    assert "ADMIN, DEVELOPER, CLIENT" in response.json()["role"][0]


@pytest.mark.parametrize("make", [make_client, make_developer])
def test_users_list_refuses_non_admins(api, make):
    response = api(make()).get("/api/users/")
    assert response.status_code == 403
    assert "ADMIN role" in response.json()["detail"]


def test_users_list_refuses_anonymous(api):
    assert api().get("/api/users/").status_code == 401


def test_no_user_list_leaks_passwords(api):
    admin = make_admin()
    body = api(admin).get("/api/users/").json()
    assert "password" not in body["results"][0]
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("field, mine, theirs", [
    ("whatsapp_number", "+20 123 456 7890", {"whatsapp_number": "+201234567890"}),
    ("email", "OMAR@example.com", {"email": "omar@example.com"}),
])
def test_me_patch_refuses_a_number_or_email_another_active_user_has(api, field, mine, theirs):
    make_developer(username="omar", **theirs)
    user = make_client(username="amal", whatsapp_number="", email="")
    response = api(user).patch("/api/auth/me/", {field: mine}, format="json")
    assert response.status_code == 400
    assert "belongs to another active user" in response.json()[field][0]
    user.refresh_from_db()
    assert (user.email, user.profile.whatsapp_number) == ("", "")


def test_a_deactivated_users_number_can_be_taken(api):
    make_developer(username="omar", whatsapp_number="+201234567890", is_active=False)
    user = make_client(username="amal", whatsapp_number="")
    response = api(user).patch("/api/auth/me/", {"whatsapp_number": "+201234567890"}, format="json")
    assert response.status_code == 200
    # Keeping one's own number is not a clash with oneself.
    again = api(user).patch("/api/auth/me/", {"whatsapp_number": "+201234567890"}, format="json")
    assert again.status_code == 200
