"""Several figures of a page in one round trip, each planned on its own.

One `aggregate()` with a `FILTER` per figure reads every row that any figure needs and tests every
filter on each: at a big city's volume that is a scan of the region. Here each figure is its own
scalar subquery, `SELECT (SELECT COUNT(*) FROM (…) part) AS "a", (SELECT SUM(…) …) AS "b"`, so
PostgreSQL reads each through the (partial) index that matches its filter, mostly without touching
the table (scale, issue 15). The figures still come in a single query.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connections
from django.db.models import DecimalField, F, IntegerField, QuerySet, Value

Part = QuerySet | tuple[QuerySet, str]


def figures(**parts: Part) -> dict[str, int | Decimal | None]:
    """`name=queryset` counts the rows (of a `.values(...).distinct()` queryset: the distinct values);
    `name=(queryset, "field")` sums the field (None for no rows)."""
    if not parts:
        return {}
    selects: list[str] = []
    params: list = []
    fields: dict[str, object] = {}
    database = None
    for name, part in parts.items():
        queryset, field = part if isinstance(part, tuple) else (part, None)
        database = database or queryset.db
        if field is None:
            # A queryset of values (`.values("claim_id").distinct()`) counts those rows.
            inner = queryset.order_by() if queryset._fields else queryset.order_by().values(
                v=Value(1, output_field=IntegerField())
            )
            outer = "COUNT(*)"
        else:
            inner = queryset.order_by().values(v=F(field))
            outer = 'SUM(part."v")'
            fields[name] = queryset.model._meta.get_field(field)
        sql, inner_params = inner.query.sql_with_params()
        connection = connections[database]
        selects.append(f"(SELECT {outer} FROM ({sql}) part) AS {connection.ops.quote_name(name)}")
        params.extend(inner_params)
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    result: dict[str, int | Decimal | None] = {}
    for name, value in zip(parts, row, strict=True):
        field = fields.get(name)
        if field is None:
            result[name] = int(value or 0)
        elif value is None:
            result[name] = None
        elif isinstance(field, DecimalField):
            # SQLite sums decimals as floats: back to the field's places.
            exact = value if isinstance(value, Decimal) else Decimal(str(value))
            result[name] = exact.quantize(Decimal(1).scaleb(-field.decimal_places))
        else:
            result[name] = value
    return result
