"""Volume data for load and scale tests (`manage.py seed_volume`).

Hundreds of thousands of cases cannot go through the services one by one in minutes, and rows
made up from scratch would not look like what the services leave. So the volume is *stamped*
from prototypes: cases the services made (the demo's), copied with their related rows
(materials, notices, usage, history, audit trail) onto new insured persons, with their dates
shifted and their numbers drawn the way the services draw them. Everything is inserted with
bulk statements, in chunks, each chunk in one transaction.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.idcard import build_id_number, id_number_hash
from core.models import AuditLog, InsuredPerson

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰建国建华志强海燕春梅红梅晓东晓燕文"
COUNTIES = ("02", "04", "05", "06", "11", "13", "14", "15", "16", "17", "18")


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, count) pairs covering `total` in pieces of `size`."""
    for start in range(0, total, size):
        yield start, min(size, total - start)


def copy_row(obj: models.Model, *, shift_days: int = 0, **changes) -> models.Model:
    """A new unsaved instance with `obj`'s concrete field values, every date and datetime moved
    by `shift_days`, and `changes` applied."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(obj, field.attname)
        if shift_days and value is not None and isinstance(value, date | datetime):
            value = value + timedelta(days=shift_days)
        values[field.attname] = value
    values.update(changes)
    return type(obj)(**values)


@contextlib.contextmanager
def keep_given_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the (shifted) auto_now_add times of stamped rows instead of now."""
    touched = []
    for model in model_classes:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now_add", False):
                field.auto_now_add = False
                touched.append(field)
    try:
        yield
    finally:
        for field in touched:
            field.auto_now_add = True


def new_persons(*, region, count: int, rng: random.Random, by) -> list[InsuredPerson]:
    """`count` insured persons of `region` with valid, unused ID numbers, with their history rows."""
    persons: list[InsuredPerson] = []
    seen: set[str] = set()
    while len(persons) < count:
        wanted = count - len(persons)
        candidates = {}
        for _ in range(wanted * 2):
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
            number = build_id_number(f"{region.code[:4]}{rng.choice(COUNTIES)}", birth, rng.randrange(0, 1000))
            if number not in seen:
                candidates[number] = birth
        hashes = {id_number_hash(number): number for number in candidates}
        taken = set(InsuredPerson.objects.filter(id_number_hash__in=list(hashes)).values_list("id_number_hash", flat=True))
        taken = {hashes[key] for key in taken}
        for number, birth in candidates.items():
            if number in taken or len(persons) == count:
                continue
            seen.add(number)
            persons.append(
                InsuredPerson(
                    id_number=number,
                    name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                    sex="M" if int(number[16]) % 2 else "F",
                    birth_date=birth,
                    insurance_type=rng.choice(("310", "310", "390")),
                    insured_region=region,
                    phone=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                )
            )
    created = InsuredPerson.objects.bulk_create(persons)
    InsuredPerson.history.bulk_history_create(created, default_user=by, default_change_reason="批量登记（容量测试数据）")
    return created


def stamp_audit(prototype_entries: dict[int, list[AuditLog]], copies: list[tuple[int, models.Model, int]]) -> int:
    """Repeat each prototype's audit trail for its copies: (prototype pk, copy, shift in days)."""
    if not copies:
        return 0
    content_type = ContentType.objects.get_for_model(copies[0][1], for_concrete_model=False)
    rows = []
    for prototype_pk, copy, shift in copies:
        for entry in prototype_entries.get(prototype_pk, ()):
            rows.append(
                AuditLog(
                    at=entry.at + timedelta(days=shift),
                    user_id=entry.user_id,
                    username=entry.username,
                    action=entry.action,
                    content_type=content_type,
                    object_id=str(copy.pk),
                    object_repr=str(copy)[:200],
                    message=entry.message,
                    from_state=entry.from_state,
                    to_state=entry.to_state,
                    data=entry.data,
                )
            )
    from core.audit_chain import append_many

    with keep_given_timestamps(AuditLog):
        append_many(rows)  # chained like every other record (verify_audit stays clean)
    return len(rows)


def audit_of(objects: list[models.Model]) -> dict[int, list[AuditLog]]:
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(objects[0], for_concrete_model=False)
    entries: dict[int, list[AuditLog]] = {}
    for entry in AuditLog.objects.filter(content_type=content_type, object_id__in=[str(o.pk) for o in objects]).order_by("pk"):
        entries.setdefault(int(entry.object_id), []).append(entry)
    return entries
