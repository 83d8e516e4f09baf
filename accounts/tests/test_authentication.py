"""The caller behind a bearer token: one prepared query, the same user and profile the ORM gives,
and simplejwt's refusals kept."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import caller
from accounts.models import UserProfile
from accounts.tests.factories import make_client, make_developer

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_caller_comes_with_the_profile_in_one_query(django_assert_num_queries):
    developer = make_developer(username="dev", first_name="Dina")
    expected = User.objects.select_related("profile").get(pk=developer.pk)
    with django_assert_num_queries(1):
        found = caller(developer.pk)
        assert found.profile.role == "DEVELOPER" and found.profile.user is found
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname)
    for field in UserProfile._meta.concrete_fields:
        assert getattr(found.profile, field.attname) == getattr(expected.profile, field.attname)
    assert not found._state.adding and found._state.db == "default"  # saves as an update


def test_no_such_user_is_none():
    assert caller(987_654) is None
    assert caller(2**64) is None


def test_a_user_without_a_profile_reads_as_the_orm_would():
    lonely = make_client(username="lonely")
    UserProfile.objects.filter(user=lonely).delete()
    found = caller(lonely.pk)
    with pytest.raises(User.profile.RelatedObjectDoesNotExist):
        found.profile


def test_a_deleted_users_token_is_refused(client):
    gone = make_client(username="gone")
    token = str(AccessToken.for_user(gone))
    gone.delete()
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401 and response.json()["code"] == "user_not_found"


def test_a_token_reads_as_its_own_caller(client):
    first, second = make_client(username="first"), make_client(username="second")
    for user in (first, second, first):
        me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        assert me.status_code == 200 and me.json()["username"] == user.username
