"""Trigram indexes for `?search=` on PostgreSQL: Django's case-insensitive `icontains` compares
UPPER(column) LIKE UPPER('%term%'), which a GIN trigram index on UPPER(column) serves instead of a
scan of every ticket. SQLite has no such index; it keeps scanning, as before."""
from django.db import migrations

COLUMNS = ("title", "description", "project_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Trusted since PostgreSQL 13: the database's owner may create it. Left in place on the way
    # back: something else may use it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS ticket_{column}_trgm ON tickets_ticket "
            f"USING gin (UPPER({column}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS ticket_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_idempotency_key")]

    operations = [migrations.RunPython(create, drop)]
