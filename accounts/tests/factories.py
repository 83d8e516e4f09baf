"""Users of each role, with a WhatsApp number unless told otherwise."""
import factory
from django.contrib.auth import get_user_model

from accounts.models import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-for-tests")
    # Not User fields: they go onto the profile the post_save receiver creates.
    role = Role.CLIENT
    whatsapp_number = factory.Sequence(lambda n: f"+2010{n:08d}")

    @classmethod
    def _create(cls, model_class, *args, role, whatsapp_number, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        user.profile.role = role
        user.profile.whatsapp_number = whatsapp_number
        user.profile.save()
        return user


def make_admin(**kwargs):
    return UserFactory(role=Role.ADMIN, **kwargs)


def make_developer(**kwargs):
    return UserFactory(role=Role.DEVELOPER, **kwargs)


def make_client(**kwargs):
    return UserFactory(role=Role.CLIENT, **kwargs)
