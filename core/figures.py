"""Several figures of a page in one round trip, each planned on its own.

One `aggregate()` with a `FILTER` per figure reads every row that any figure needs and tests every
filter on each: at a big city's volume that is a scan of the region. Here each figure is its own
scalar subquery, `SELECT (SELECT COUNT(*) FROM (…) part) AS "a", (SELECT SUM(…) …) AS "b"`, so
PostgreSQL reads each through the (partial) index that matches its filter, mostly without touching
the table (scale, issue 15). The figures still come in a single query.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connections
from django.db.models import DecimalField, F, IntegerField, QuerySet, Value

Part = QuerySet | tuple[QuerySet, str]
T = TypeVar("T")


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


# --- Home figures kept for a short while --------------------------------------------------------
#
# The home pages count the open backlog of a city (tens of thousands of filings and claims at a big
# city's volume): each count is an index range, but the pages are opened far more often than the
# figures change. So a home panel's figures are kept in the cache for YIDI_HOME_FIGURES_TTL seconds
# and counted afresh as soon as a row they are counted from changes in the user's region: every save
# or delete of a watched model (and the services' bulk updates, which call `figures_changed`) moves
# the region's generation on, and a kept figure of an older generation is never read again.
# Only with a cache shared by every process (CACHE_URL, Redis): a per-process cache could not learn
# of another process's change, so there the figures are counted on every request.

ALL_REGIONS = "*"


def _generation_key(topic: str, scope: str) -> str:
    return f"figures:generation:{topic}:{scope}"


def figures_changed(topic: str, *region_codes: str | None) -> None:
    """Rows of `topic` in these regions changed: their kept figures (and the province's) are stale.
    Takes effect when the transaction commits (a figure counted before the commit keeps its old
    generation, and a figure counted after it sees the change)."""
    from django.conf import settings
    from django.core.cache import cache
    from django.db import transaction

    if not settings.YIDI_HOME_FIGURES_TTL:
        return
    scopes = {code for code in region_codes if code} | {ALL_REGIONS}

    def bump():
        stamp = time.time_ns()
        cache.set_many({_generation_key(topic, scope): stamp for scope in scopes}, timeout=None)

    transaction.on_commit(bump)


def kept_figures(topic: str, *, user, variant: str, count: Callable[[], T]) -> T:
    """`count()` (a figure, or a dict of them; never None), kept for the user's scope (their region,
    or every region for province staff) until it changes or YIDI_HOME_FIGURES_TTL seconds pass.
    `variant` names what else the figures depend on (the figures asked for, the day)."""
    from django.conf import settings
    from django.core.cache import cache

    ttl = settings.YIDI_HOME_FIGURES_TTL
    if not ttl:
        return count()
    scope = ALL_REGIONS if user.sees_all_regions else str(user.region_code)
    generation = cache.get(_generation_key(topic, scope), 0)
    key = f"figures:{topic}:{scope}:{generation}:{variant}"
    kept = cache.get(key)
    if kept is None:
        kept = count()
        cache.set(key, kept, timeout=ttl)
    return kept


def watch(topic: str, model: type, region_of: Callable[[Any], str | None]) -> None:
    """Every save and delete of `model` marks the figures of `topic` in `region_of(instance)` stale."""
    from django.conf import settings
    from django.db.models.signals import post_delete, post_save

    def changed(sender, instance, **kwargs):
        if kwargs.get("raw") or not settings.YIDI_HOME_FIGURES_TTL:
            return
        figures_changed(topic, region_of(instance))

    post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"figures:{topic}:{model._meta.label}:save")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"figures:{topic}:{model._meta.label}:delete")
