"""Name search through pg_trgm (issue 15): the lists search names with `icontains`, which
PostgreSQL runs as `UPPER(name::text) LIKE UPPER('%…%')`; a GIN trigram index on that very
expression serves it (and `istartswith`) instead of a sequential scan of every person.

PostgreSQL only: SQLite (the embedded default) has neither the extension nor GIN indexes and
keeps scanning its small tables. pg_trgm is a trusted extension (PostgreSQL 13+), so the
database owner may create it without superuser rights.
"""

from django.db import migrations

INDEX = "core_insuredperson_name_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "core_insuredperson" USING gin ((UPPER("name"::text)) gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects may have come to use it.
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_document_sealed"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
