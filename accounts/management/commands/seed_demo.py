"""Create the demo users for a local try-out: an admin, two developers and two clients.

Refuses to run with DEBUG off: these accounts have published passwords.
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import NumberOrigin, Role
from accounts.services import number_set

STAFF = NumberOrigin.STAFF

DEMO_USERS = (
    # username, password, role, WhatsApp number, first name, last name
    ("admin", "admin-demo-pass", Role.ADMIN, "+201000000001", "Ada", "Admin"),
    ("developer", "developer-demo-pass", Role.DEVELOPER, "+201000000002", "Dev", "Eloper"),
    ("developer2", "developer-demo-pass", Role.DEVELOPER, "+201000000004", "Second", "Developer"),
    ("client", "client-demo-pass", Role.CLIENT, "+201000000003", "John", "Doe"),
    ("client2", "client-demo-pass", Role.CLIENT, "+201000000005", "Jane", "Roe"),
)


class Command(BaseCommand):
    help = ("Create the demo users that are missing and print their passwords; existing users, "
            "their passwords and tokens are left alone (--reset sets them back). Only with DEBUG on.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset", action="store_true",
            help="Set every demo user back to its published password, name, role and number "
                 "(this logs out their API clients).")

    def handle(self, *args, reset: bool = False, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create demo users with DEBUG off: their passwords are public."
            )
        User = get_user_model()
        made = []
        with transaction.atomic():
            for username, password, role, number, first, last in DEMO_USERS:
                user, created = User.objects.get_or_create(username=username)
                if not (created or reset):
                    # Someone's try-out: a changed password, a token in a REST tool. Restarting
                    # `make run` must not log them out.
                    continue
                made.append(username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@example.com"
                user.is_active = True
                user.is_staff = user.is_superuser = role == Role.ADMIN
                user.set_password(password)
                user.save()
                profile = user.profile
                profile.role = role
                if profile.whatsapp_number != number or profile.whatsapp_number_origin != STAFF:
                    # The operator's word for the demo numbers, as if typed in the admin.
                    profile.whatsapp_number = number
                    number_set(profile=profile, by=None, origin=STAFF)
                profile.save()

        kept = [name for name, *_ in DEMO_USERS if name not in made]
        self.stdout.write("Demo users (DEBUG only; passwords are public):")
        for username, password, role, number, *_ in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {password:<20} {role:<10} {number}")
        if kept:
            self.stdout.write(f"Left as they were: {', '.join(kept)} (seed_demo --reset sets "
                              "them back to the above).")
