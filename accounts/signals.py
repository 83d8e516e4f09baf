"""Every user has a profile: created with the user, however the user was created."""
from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Role, UserProfile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.ensure_profile")
def ensure_profile(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # Loading fixtures (raw) brings its own profiles.
    if created and not raw:
        UserProfile.objects.get_or_create(
            user=instance,
            defaults={"role": Role.ADMIN if instance.is_superuser else Role.CLIENT},
        )
