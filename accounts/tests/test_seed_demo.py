"""The demo seed: users of each role with numbers, passwords printed, never with DEBUG off."""
import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from accounts.models import Role

pytestmark = pytest.mark.django_db


def test_seed_creates_each_role_with_a_number_and_prints_passwords(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")  # running it again never duplicates

    users = {u.username: u for u in get_user_model().objects.select_related("profile")}
    assert {u.profile.role for u in users.values()} == {Role.ADMIN, Role.DEVELOPER, Role.CLIENT}
    assert all(u.profile.whatsapp_number.startswith("+20") for u in users.values())
    assert users["admin"].is_superuser
    out = capsys.readouterr().out
    assert "admin-demo-pass" in out
    assert authenticate(username="client", password="client-demo-pass") is not None
    assert len(users) == 5


def test_seed_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_seed_reset_gives_back_a_demo_number_a_user_replaced_as_staffs(settings, api):
    from accounts.models import NumberOrigin, UserProfile

    settings.DEBUG = True
    call_command("seed_demo")
    client = get_user_model().objects.get(username="client")
    api(client).patch("/api/auth/me/", {"whatsapp_number": "+201234567891"})
    assert UserProfile.objects.get(user=client).whatsapp_number_origin == NumberOrigin.SELF
    call_command("seed_demo", reset=True)
    profile = UserProfile.objects.get(user=client)
    assert (profile.whatsapp_number, profile.whatsapp_number_origin) == (
        "+201000000003", NumberOrigin.STAFF)


def test_running_the_seed_again_keeps_passwords_and_tokens(settings, client, capsys):
    """Each `make run` seeds: a demo user's changed password and their API token survive it."""
    settings.DEBUG = True
    call_command("seed_demo")
    token = client.post("/api/auth/token/", {"username": "client", "password": "client-demo-pass"},
                        content_type="application/json", secure=True).json()["access"]
    user = get_user_model().objects.get(username="admin")
    user.set_password("my-own-admin-pass")
    user.save()
    call_command("seed_demo")
    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}", secure=True)
    assert me.status_code == 200 and me.json()["username"] == "client"
    assert authenticate(username="admin", password="my-own-admin-pass") is not None
    assert "Left as they were: admin, developer" in capsys.readouterr().out


def test_seed_reset_sets_the_published_passwords_back(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    user = get_user_model().objects.get(username="admin")
    user.set_password("my-own-admin-pass")
    user.save()
    call_command("seed_demo", "--reset")
    assert authenticate(username="admin", password="admin-demo-pass") is not None
