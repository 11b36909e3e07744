"""Claim and invoice numbers searched by a fragment (issue 15): the claims list's search box matches
`number` and `invoice_numbers` with `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE
UPPER('%…%')`. A GIN trigram index on each expression serves it; `core.search.rows_matching_any`
reads each kind of match on its own so that these indexes are used.

PostgreSQL only, like core 0016 (SQLite scans its small tables).
"""

from django.db import migrations

INDEXES = {
    "claim_number_trgm": "number",
    "claim_invoice_numbers_trgm": "invoice_numbers",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "reimbursement_claim" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0016_insured_person_name_trigram"),
        ("reimbursement", "0009_home_figure_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
