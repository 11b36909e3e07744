"""Volume claims stamped from the demo's (see core.volume): each copy keeps its prototype's
materials, notices, benefit usage, history and audit trail; numbers come from the same counter
the services use, deadlines from the same working-day rule, flags as the daily job sets them."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.models import InsuredPerson
from core.volume import audit_of, chunks, copy_row, keep_given_timestamps, stamp_audit
from core.workdays import add_working_days
from reimbursement.models import BenefitUsage, Claim, ClaimCounter, ClaimMaterial, ClaimNotice, PaymentBatch
from reimbursement.services import deadline_flag

#: Claim numbers have five digits per region and year: spread the volume over several years.
PER_YEAR = 90_000


def prototypes(region) -> list[Claim]:
    return list(
        Claim.objects.filter(region=region).exclude(payment_returns__isnull=False).select_related("person")
        .prefetch_related("materials", "notices", "usages").order_by("pk")
    )


def _reserve_numbers(region, year: int, count: int) -> int:
    """The first of `count` consecutive numbers for `year`, taken from the services' counter."""
    counter, _ = ClaimCounter.objects.select_for_update().get_or_create(region=region, year=year, kind="claim")
    first = counter.last + 1
    if counter.last + count > 99_999:
        raise ValueError(f"{year}年的申请编号不够用了（已用到 {counter.last}）。")
    counter.last += count
    counter.save(update_fields=["last"])
    return first


def stamp_claims(*, region, count: int, person_ids: list[int], by, rng: random.Random, chunk: int = 5000,
                 say=None) -> None:
    models = prototypes(region)
    if not models:
        raise ValueError(f"{region.name}没有可作为样板的报销申请：请先运行 seed_demo。")
    if not person_ids:
        raise ValueError("没有可用的参保人员。")
    trails = audit_of(models)
    today = timezone.localdate()
    soon_limit = add_working_days(today, 2)
    for start, size in chunks(count, chunk):
        with transaction.atomic(), keep_given_timestamps(Claim, ClaimNotice):
            plan = []  # (prototype, shift in days, year)
            for index in range(size):
                prototype = rng.choice(models)
                years_back = (start + index) // PER_YEAR
                shift = -7 * rng.randrange(0, 40) - 364 * years_back  # whole weeks keep the weekdays
                plan.append((prototype, shift, prototype.received_on.year - years_back))
            numbers = {}
            for year, wanted in _count_by(plan).items():
                numbers[year] = _reserve_numbers(region, year, wanted)
            batch = _volume_batch(region, by, [p for p, _s, _y in plan]) if any(
                p.payment_batch_id for p, _s, _y in plan) else None
            chosen = [rng.choice(person_ids) for _ in plan]
            persons = InsuredPerson.objects.only("pk", "name").in_bulk(set(chosen))  # names for the audit's object_repr
            claims = []
            for (prototype, shift, year), person_id in zip(plan, chosen, strict=True):
                sequence = numbers[year]
                numbers[year] += 1
                claim = copy_row(prototype, shift_days=shift, person_id=person_id,
                                 number=f"LX{region.code}{year}{sequence:05d}", filing_id=None,
                                 payment_batch_id=batch.pk if batch and prototype.payment_batch_id else None)
                claim.person = persons[person_id]
                if prototype.payee_name == prototype.person.name:  # paid to the person, as the demo pays
                    claim.payee_name = claim.person.name
                    claim.bank_account = f"6222{rng.randrange(10**14, 10**15)}"
                if claim.complete_on and claim.processing_days:
                    claim.due_on = add_working_days(claim.complete_on, claim.processing_days)
                if claim.status in Claim.CLOCK_STATUSES:
                    claim.deadline_flag = deadline_flag(claim.due_on, today, soon_limit)
                    claim.flags_refreshed_on = today
                claims.append(claim)
            created = Claim.objects.bulk_create(claims, batch_size=1000)
            Claim.history.bulk_history_create(created, default_user=by, default_change_reason="容量测试数据")
            materials, notices, usages = [], [], []
            for (prototype, shift, _year), claim in zip(plan, created, strict=True):
                materials += [copy_row(m, shift_days=shift, claim_id=claim.pk) for m in prototype.materials.all()]
                notices += [copy_row(n, shift_days=shift, claim_id=claim.pk, document_id=None)
                            for n in prototype.notices.all()]
                usages += [copy_row(u, claim_id=claim.pk) for u in prototype.usages.all()]
            ClaimMaterial.objects.bulk_create(materials, batch_size=2000)
            ClaimNotice.objects.bulk_create(notices, batch_size=2000)
            BenefitUsage.objects.bulk_create(usages, batch_size=2000)
            stamp_audit(trails, [(prototype.pk, claim, shift) for (prototype, shift, _y), claim in zip(plan, created, strict=True)])
        if say:
            say(start + size, count)


def _count_by(plan) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for _prototype, _shift, year in plan:
        counts[year] += 1
    return counts


def _volume_batch(region, by, prototypes_used) -> PaymentBatch:
    """One payment notice for the chunk's copies of paid or notified claims (totals kept right)."""
    paid = [p for p in prototypes_used if p.payment_batch_id]
    return PaymentBatch.objects.create(
        number=f"FKV{region.code}{timezone.now():%Y%m%d%H%M%S%f}"[:30],
        region=region,
        status=PaymentBatch.Status.NOTIFIED,
        claim_count=len(paid),
        total_amount=sum((p.fund_payment or Decimal("0.00") for p in paid), Decimal("0.00")),
        created_by=by,
    )
