"""Data-migration steps that seal existing rows (core.crypto) and fill their derived columns.

Used by the migrations that turned plain ID-number and bank-account columns into
core.fields.EncryptedTextField, and by ``manage.py rotate_field_keys``. The migration
models carry the real field classes, so reading a row gives plain text whether it was
stored plain (before) or sealed (after) — the step can be run again safely.
"""

from __future__ import annotations

import itertools

from core import crypto
from core.fields import derived_fields, encrypted_fields

BATCH = 2000


def reseal(model, *, only_stale: bool = False, batch: int = BATCH, using: str = "default") -> int:
    """Seal every encrypted column of ``model`` with the current key and recompute its
    blind indexes and tails. With ``only_stale`` rows already sealed with the current key
    and holding current derived values are skipped. Returns the rows written."""
    sealed = encrypted_fields(model)
    derived = derived_fields(model)
    if not sealed:
        return 0
    names = [field.name for field in sealed]
    current = crypto.keyring().current
    written = 0
    last_pk = None
    manager = model._base_manager.using(using)
    while True:
        queryset = manager.order_by("pk")
        if last_pk is not None:
            queryset = queryset.filter(pk__gt=last_pk)
        rows = list(queryset.only("pk", *names, *[field.name for field in derived])[:batch])
        if not rows:
            return written
        last_pk = rows[-1].pk
        raw = _raw_values(model, [row.pk for row in rows], names, using)
        changed = []
        for row in rows:
            stale = any(_stale(raw[row.pk][name], current) for name in names)
            for field in derived:
                before = getattr(row, field.attname)
                if field.pre_save(row, add=False) != before:
                    stale = True
            if stale or not only_stale:
                changed.append(row)
        if changed:
            model._base_manager.using(using).bulk_update(changed, names + [field.name for field in derived])
            written += len(changed)


def _stale(stored, current_key_id: str) -> bool:
    if stored in (None, ""):
        return False
    return not crypto.is_token(stored) or crypto.token_key_id(stored) != current_key_id


def _raw_values(model, pks, names, using) -> dict:
    """The stored (sealed or plain) values, bypassing the fields' decryption."""
    from django.db import connections

    meta = model._meta
    connection = connections[using]
    columns = [meta.get_field(name).column for name in names]
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(pks))
    sql = (
        f"SELECT {quote(meta.pk.column)}, {', '.join(quote(column) for column in columns)} "
        f"FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(pks))
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}


def unseal(model, *, batch: int = BATCH, using: str = "default") -> None:
    """Write the plain values back (reverse of the migration; derived columns are dropped by it)."""
    from django.db import connections

    sealed = encrypted_fields(model)
    if not sealed:
        return
    meta = model._meta
    connection = connections[using]
    quote = connection.ops.quote_name
    rows = model._base_manager.using(using).order_by("pk").only("pk", *[field.name for field in sealed])
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in sealed)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    values = ([getattr(row, field.attname) for field in sealed] + [row.pk] for row in rows.iterator(chunk_size=batch))
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(values, batch)):
            cursor.executemany(sql, chunk)  # one round of statements per batch, not a query per row


def seal_models(*labels: str):
    """RunPython operation for the given "app_label.ModelName" labels (history models included by label)."""

    def forward(apps, schema_editor):
        for label in labels:
            reseal(apps.get_model(label), using=schema_editor.connection.alias)

    def backward(apps, schema_editor):
        for label in labels:
            unseal(apps.get_model(label), using=schema_editor.connection.alias)

    return forward, backward
