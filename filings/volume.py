"""Volume filings stamped from the demo's (see core.volume)."""

from __future__ import annotations

import random

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, ExtractDay, ExtractMonth, ExtractYear, LPad, Right

from core.volume import audit_of, chunks, copy_row, keep_given_timestamps, new_persons, stamp_audit
from filings.models import Filing


def prototypes(region) -> list[Filing]:
    """The region's filings that stand alone (no change chain), as the services left them."""
    chained = Filing.objects.filter(replaces__isnull=False).values("replaces_id")
    return list(
        Filing.objects.filter(insured_region=region, replaces__isnull=True, number__isnull=False)
        .exclude(pk__in=chained).order_by("pk")
    )


def _number_expression():
    """The services' filing number, BA + region + yymmdd of application + the id in six digits."""
    two = lambda expression: LPad(Cast(expression, CharField()), 2, Value("0"))  # noqa: E731
    return Concat(
        Value("BA"), F("insured_region_id"), Right(Cast(ExtractYear("applied_on"), CharField()), 2),
        two(ExtractMonth("applied_on")), two(ExtractDay("applied_on")), LPad(Cast("id", CharField()), 6, Value("0")),
        output_field=CharField(),
    )


def stamp_filings(*, region, count: int, by, rng: random.Random, chunk: int = 5000, say=None) -> list[int]:
    """`count` filings for new persons of `region`; returns the persons' ids (claims reuse them)."""
    models = prototypes(region)
    if not models:
        raise ValueError(f"{region.name}没有可作为样板的备案：请先运行 seed_demo。")
    trails = audit_of(models)
    person_ids: list[int] = []
    for start, size in chunks(count, chunk):
        with transaction.atomic(), keep_given_timestamps(Filing):
            persons = new_persons(region=region, count=size, rng=rng, by=by)
            copies, sources, online = [], [], []
            for person in persons:
                prototype = rng.choice(models)
                shift = -rng.randrange(0, 540)
                copies.append(copy_row(prototype, shift_days=shift, insured_person_id=person.pk, number=None,
                                       upload_batch_id=None, online_reference=None))
                sources.append((prototype.pk, shift))
                online.append(bool(prototype.online_reference))
            created = Filing.objects.bulk_create(copies)
            ids = [filing.pk for filing in created]
            Filing.objects.filter(pk__in=ids).update(number=_number_expression())
            # An online application's reference is unique: each copy gets one of its own.
            Filing.objects.filter(pk__in=[pk for pk, was_online in zip(ids, online, strict=True) if was_online]).update(
                online_reference=Concat(Value("WS"), F("number"), output_field=CharField())
            )
            created = list(Filing.objects.filter(pk__in=ids).select_related("insured_person").order_by("pk"))
            Filing.history.bulk_history_create(created, default_user=by, default_change_reason="容量测试数据")
            stamp_audit(trails, [(source, filing, shift) for (source, shift), filing in zip(sources, created, strict=True)])
            person_ids += [person.pk for person in persons]
        if say:
            say(start + size, count)
    return person_ids
