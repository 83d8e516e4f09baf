"""Give users created before the accounts app existed the profile every user must have."""
from django.conf import settings
from django.db import migrations


def create_missing_profiles(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    UserProfile = apps.get_model("accounts", "UserProfile")
    missing = User.objects.filter(profile__isnull=True)
    UserProfile.objects.bulk_create(
        UserProfile(user=user, role="ADMIN" if user.is_superuser else "CLIENT") for user in missing
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_missing_profiles, migrations.RunPython.noop)]
