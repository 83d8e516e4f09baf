"""A default policy, shipped disabled: tick "enabled" in the admin to give every ticket clocks."""
from django.db import migrations

NAME = "Default: 4 working hours to respond, 5 working days to resolve"


def add(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    if not Policy.objects.filter(name=NAME).exists():
        # Last by position, so a policy of your own comes first; 5 days of 8 working hours.
        Policy.objects.create(name=NAME, position=1000, enabled=False,
                              first_response_minutes=4 * 60, resolution_minutes=5 * 8 * 60)


def remove(apps, schema_editor):
    apps.get_model("sla", "Policy").objects.filter(name=NAME, enabled=False).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0004_escalation")]
    operations = [migrations.RunPython(add, remove)]
