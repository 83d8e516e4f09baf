"""The Django admin's user pages: the "User Profile" inline, role and number in the list."""
import pytest
from django.contrib.auth import get_user_model

from accounts.models import Role
from accounts.tests.factories import make_client, make_developer

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def staff(client):
    User.objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    return client


def test_user_list_shows_role_and_number_and_filters_by_role(staff):
    make_developer(username="dev1", whatsapp_number="+201000000002")
    make_client(username="cli1")
    response = staff.get("/admin/auth/user/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "+201000000002" in page and "Developer" in page

    filtered = staff.get("/admin/auth/user/?profile__role__exact=DEVELOPER").content.decode()
    assert "dev1" in filtered and "cli1" not in filtered


def test_user_change_page_has_the_user_profile_inline(staff):
    user = make_client(username="cli1")
    page = staff.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert "User Profile" in page
    assert 'name="profile-0-whatsapp_number"' in page
    assert 'name="profile-0-role"' in page


def _change_form(user, number: str, role: str = Role.CLIENT) -> dict:
    profile = user.profile
    return {
        "username": user.username,
        "first_name": "", "last_name": "", "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "1", "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": str(profile.pk), "profile-0-user": str(user.pk),
        "profile-0-role": role, "profile-0-whatsapp_number": number,
    }


def test_the_inline_normalises_a_number_and_sets_the_role(staff):
    user = make_client(username="cli1", whatsapp_number="")
    response = staff.post(
        f"/admin/auth/user/{user.pk}/change/", _change_form(user, "+20 123 456 7890", Role.DEVELOPER)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.profile.refresh_from_db()
    assert (user.profile.whatsapp_number, user.profile.role) == ("+201234567890", Role.DEVELOPER)


def test_the_inline_shows_the_error_for_a_number_without_country_code(staff):
    user = make_client(username="cli1", whatsapp_number="")
    response = staff.post(f"/admin/auth/user/{user.pk}/change/", _change_form(user, "01234567890"))
    assert response.status_code == 200
    assert "has no country code" in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.whatsapp_number == ""


def test_adding_a_user_in_the_admin_creates_one_profile(staff):
    response = staff.post(
        "/admin/auth/user/add/",
        {"username": "newbie", "password1": "a-long-pass-123", "password2": "a-long-pass-123",
         "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").profile.role == Role.CLIENT


def test_profile_list_loads(staff):
    make_client(username="cli1")
    assert staff.get("/admin/accounts/userprofile/").status_code == 200


def test_the_inline_refuses_a_number_another_active_user_has(staff):
    make_developer(username="dev1", whatsapp_number="+201234567890")
    user = make_client(username="cli1", whatsapp_number="")
    response = staff.post(f"/admin/auth/user/{user.pk}/change/",
                          _change_form(user, "+20 123 456 7890"))
    assert response.status_code == 200
    assert "belongs to another active user" in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.whatsapp_number == ""


def test_the_user_form_refuses_an_email_another_active_user_has(staff):
    make_developer(username="dev1", email="Dev@Example.com")
    user = make_client(username="cli1", email="")
    response = staff.post(f"/admin/auth/user/{user.pk}/change/",
                          {**_change_form(user, ""), "email": "dev@example.com"})
    assert response.status_code == 200
    assert "belongs to another active user" in response.content.decode()


def test_the_user_profile_inline_comes_before_the_user_form(staff):
    user = make_client(username="cli1")
    page = staff.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert page.count('name="profile-0-whatsapp_number"') == 1
    assert page.index('name="profile-0-role"') < page.index('name="username"')
    assert page.index('name="profile-0-whatsapp_number"') < page.index('name="first_name"')


def test_the_admin_is_named_after_the_product(staff):
    page = staff.get("/admin/").content.decode()
    assert "Incident administration" in page and "Django administration" not in page
    assert "<title>Tickets, users and notifications | Incident admin</title>" in page
