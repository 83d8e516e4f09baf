"""A trigram index for `?search=` on PostgreSQL. Each search word is looked for, in any case, in
the title, the project name and the description joined by spaces (a word holds no space, so it
matches the joined text where it matches one of the fields; a "quoted phrase" may also run from
one field into the next): one GIN trigram index on that text serves every word, and a word found
in few tickets is found fast whatever the others. SQLite has no such index and reads every
ticket, as before."""
from django.db import migrations

# tickets.filters.search_text(), as it was when this index was made; the search test on
# PostgreSQL fails if the two part.
SEARCH_TEXT = "UPPER(title || ' ' || project_name || ' ' || description)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Trusted since PostgreSQL 13: the database's owner may create it. Left in place on the way
    # back: something else may use it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS ticket_search_trgm ON tickets_ticket USING gin (({SEARCH_TEXT}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS ticket_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_idempotency_key")]

    operations = [migrations.RunPython(create, drop)]
