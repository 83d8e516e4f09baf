"""Every user has a profile, whichever way the user was made."""
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import Role, UserProfile

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_a_new_user_gets_a_client_profile():
    user = User.objects.create_user("someone", password="x")
    assert user.profile.role == Role.CLIENT
    assert user.profile.whatsapp_number == ""


def test_a_superuser_gets_the_admin_role():
    user = User.objects.create_superuser("boss", "boss@example.com", "x")
    assert user.profile.role == Role.ADMIN


def test_createsuperuser_command_gives_admin_role(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-1")
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com")
    assert User.objects.get(username="root").profile.role == Role.ADMIN


def test_saving_a_user_again_keeps_its_profile():
    user = User.objects.create_user("someone")
    user.profile.role = Role.DEVELOPER
    user.profile.save()
    user.first_name = "Changed"
    user.save()
    assert UserProfile.objects.get(user=user).role == Role.DEVELOPER
    assert UserProfile.objects.count() == 1


def test_full_clean_normalises_and_validates_the_number():
    profile = User.objects.create_user("someone").profile
    profile.whatsapp_number = "+20 123 456 7890"
    profile.full_clean()
    assert profile.whatsapp_number == "+201234567890"
    profile.whatsapp_number = "01234567890"
    with pytest.raises(ValidationError) as refused:
        profile.full_clean()
    assert "whatsapp_number" in refused.value.message_dict


def test_looking_up_a_malformed_number_matches_nothing_instead_of_raising():
    User.objects.create_user("someone").profile
    assert not UserProfile.objects.filter(whatsapp_number__in=["+19999999999", "0123"]).exists()
    assert not UserProfile.objects.filter(whatsapp_number="not a number").exists()
