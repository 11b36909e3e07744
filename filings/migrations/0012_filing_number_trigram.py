"""Filing numbers searched by a fragment (issue 15): the filings list's search box matches `number`
with `icontains` (`UPPER(number::text) LIKE UPPER('%…%')` on PostgreSQL); a GIN trigram index on
that expression serves it, read on its own by `core.search.rows_matching_any`.

PostgreSQL only, like core 0016 (SQLite scans its small tables).
"""

from django.db import migrations

INDEX = "filing_number_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "filings_filing" USING gin ((UPPER("number"::text)) gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0016_insured_person_name_trigram"),
        ("filings", "0011_home_figure_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
