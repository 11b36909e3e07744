"""Reads for pages, commands and notices: a constant number of queries each,
over the stored result rows (never the settlement rows) unless said otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from clearing import rules
from clearing.models import (
    AdvanceEntry,
    ClearingPeriod,
    ClearingResult,
    CrossAdvance,
    EmergencyIncrease,
    ImportBatch,
    IntraAdvance,
    PaymentDue,
)
from core.models import Document, Job, Region
from core.reference import home_province_code

ZERO = Decimal("0.00")


def cities() -> list[Region]:
    return list(Region.objects.cities_of(home_province_code()).select_related("agency").order_by("sort_order", "code"))


def other_provinces() -> list[Region]:
    return list(Region.objects.provinces().exclude(code=home_province_code()).order_by("sort_order", "code"))


def period_cells(period: ClearingPeriod) -> list[rules.Cell]:
    return [
        rules.Cell(
            scope=row.scope,
            insured_area=row.insured_area,
            treatment_area=row.treatment_area,
            amounts=rules.Amounts(row.employee_amount, row.resident_amount),
            count=row.settlement_count,
        )
        for row in ClearingResult.objects.filter(period=period)
    ]


def clearing_json(period: ClearingPeriod) -> dict[str, Any]:
    """What `run_clearing --json` prints (domain.md §7)."""
    codes = [city.code for city in cities()]
    return rules.clearing_document(period.period, period_cells(period), codes)


@dataclass
class BalanceRow:
    region: Region
    position: rules.CityPosition


@dataclass
class BalanceTable:
    """附件10 江苏省异地就医医疗费用清算平衡总表."""

    rows: list[BalanceRow]
    total: rules.CityPosition = field(default_factory=lambda: rules.CityPosition("total"))


def balance_table(period: ClearingPeriod, *, cells: list[rules.Cell] | None = None) -> BalanceTable:
    city_list = cities()
    positions = rules.intra_positions(cells if cells is not None else period_cells(period), [c.code for c in city_list])
    table = BalanceTable(rows=[BalanceRow(city, positions[city.code]) for city in city_list])
    for row in table.rows:
        table.total.receivable.add(row.position.receivable)
        table.total.payable.add(row.position.payable)
    return table


@dataclass
class MatrixBlock:
    """One block of 附件11: provinces (rows) × our cities (columns)."""

    rows: list[tuple[Region, list[Decimal], Decimal]]
    column_totals: list[Decimal]
    total: Decimal


def cross_blocks(period: ClearingPeriod, *, cells: list[rules.Cell] | None = None, only_nonzero: bool = False) -> dict[str, MatrixBlock]:
    """收款省 block (what each city pays each province) and 付款省 block (what each province pays each city)."""
    city_list = cities()
    matrices = rules.cross_matrices(cells if cells is not None else period_cells(period))
    result = {}
    for name in ("payable", "receivable"):
        matrix = matrices[name]
        rows = []
        column_totals = [ZERO] * len(city_list)
        for province in other_provinces():
            values = [matrix.get(city.code, {}).get(province.code, rules.Amounts()).total for city in city_list]
            row_total = sum(values, ZERO)
            if only_nonzero and not row_total:
                continue
            rows.append((province, values, row_total))
            column_totals = [a + b for a, b in zip(column_totals, values, strict=True)]
        result[name] = MatrixBlock(rows=rows, column_totals=column_totals, total=sum(column_totals, ZERO))
    return result


def city_cross_rows(period: ClearingPeriod, city: str, direction: str, *, cells: list[rules.Cell] | None = None) -> list[tuple[Region, Decimal]]:
    """附件12/13 list: every other province with the city's amount (zero where none)."""
    matrix = rules.cross_matrices(cells if cells is not None else period_cells(period))[direction].get(city, {})
    return [(province, matrix.get(province.code, rules.Amounts()).total) for province in other_provinces()]


@dataclass
class PeriodTotals:
    intra: Decimal = ZERO
    cross_out: Decimal = ZERO
    cross_in: Decimal = ZERO
    count: int = 0


def totals_by_period(periods: list[ClearingPeriod], region: str | None = None) -> dict[int, PeriodTotals]:
    """Fund totals per period and scope in one query (scoped to a city when given)."""
    results = ClearingResult.objects.filter(period__in=periods)
    if region:
        results = results.filter(Q(insured_area=region) | Q(treatment_area=region))
    rows = (
        results.values("period_id", "scope")
        .annotate(employee=Sum("employee_amount"), resident=Sum("resident_amount"), count=Sum("settlement_count"))
        .order_by()
    )
    totals: dict[int, PeriodTotals] = {period.pk: PeriodTotals() for period in periods}
    for row in rows:
        entry = totals[row["period_id"]]
        amount = (row["employee"] or ZERO) + (row["resident"] or ZERO)
        setattr(entry, row["scope"], getattr(entry, row["scope"]) + amount)
        entry.count += row["count"] or 0
    return totals


def trend_periods(year: int) -> list[ClearingPeriod]:
    """The computed periods of the twelve months up to the latest computed one of `year`."""
    latest = ClearingPeriod.objects.filter(computed_at__isnull=False, period__lte=f"{year:04d}-12").order_by("-period").first()
    if latest is None:
        return []
    first = rules.period_of(*rules.add_months(latest.year, latest.month, -11))
    return list(ClearingPeriod.objects.filter(computed_at__isnull=False, period__gte=first, period__lte=latest.period))


def trend(periods: list[ClearingPeriod], region: str | None = None) -> dict[str, list]:
    """Monthly trend for the chart: intra volume, cross payable, cross receivable (元),
    on a continuous month axis from the first to the last period given (a month
    without a computed clearing is a gap, not skipped)."""
    ordered = sorted(periods, key=lambda p: p.period)
    totals = totals_by_period(ordered, region)
    by_month = {p.period: totals[p.pk] for p in ordered}
    labels = rules.months_between(ordered[0].period, ordered[-1].period) if ordered else []

    def series(name: str) -> list[float | None]:
        return [float(getattr(by_month[label], name)) if label in by_month else None for label in labels]

    return {"labels": labels, "intra": series("intra"), "cross_out": series("cross_out"), "cross_in": series("cross_in")}


def net_chart(table: BalanceTable, only: str | None = None) -> dict[str, list]:
    rows = [row for row in table.rows if only is None or row.region.code == only]
    return {
        "labels": [row.region.short_name for row in rows],
        "net": [float(row.position.net.total) for row in rows],
    }


def period_documents(period: ClearingPeriod, user):
    return (
        Document.objects.for_user(user)
        .filter(period=period.period, kind__startswith="clearing.")
        .select_related("region", "created_by")
        .order_by("kind", "region__sort_order", "-version")
    )


def period_jobs(period: ClearingPeriod, user):
    return (
        Job.objects.for_user(user)
        .filter(kind__startswith="clearing.", params__period_id=period.pk)
        .select_related("created_by")
        .order_by("-created_at")[:10]
    )


def period_payments(period: ClearingPeriod, user):
    return PaymentDue.objects.for_user(user).filter(period=period).select_related("region").order_by("region__sort_order", "kind")


def payment_counts(user, today=None) -> dict[str, int]:
    today = today or timezone.localdate()
    return PaymentDue.objects.for_user(user).aggregate(
        outstanding=Count("pk", filter=~Q(status=PaymentDue.Status.PAID)),
        overdue=Count("pk", filter=~Q(status=PaymentDue.Status.PAID) & Q(due_on__lt=today)),
    )


def import_batches(user):
    return ImportBatch.objects.for_user(user).select_related("created_by", "job")


def advance_ledger(*, year: int, region: str | None = None, province: str | None = None, user=None):
    entries = AdvanceEntry.objects.filter(year=year)
    if user is not None:
        entries = entries.for_user(user)
    if region:
        entries = entries.filter(region_id=region)
    if province:
        entries = entries.filter(province_id=province)
    entries = list(entries.select_related("region", "province", "payment", "recorded_by").order_by("entry_date", "id"))
    balances: dict[str, Decimal] = {}
    rows = []
    for entry in entries:
        balances[entry.scope] = balances.get(entry.scope, ZERO) + entry.amount
        rows.append((entry, balances[entry.scope]))  # running balance of the entry's own advance
    return rows


def ledger_balances(*, year: int, user=None) -> dict[str, Any]:
    """Balances per city (both scopes) and per province (cross), in one query each."""
    entries = AdvanceEntry.objects.filter(year=year)
    if user is not None:
        entries = entries.for_user(user)
    per_city = {
        (row["region_id"], row["scope"]): row["total"]
        for row in entries.values("region_id", "scope").annotate(total=Sum("amount")).order_by()
    }
    per_province = {
        row["province_id"]: row["total"]
        for row in entries.filter(scope=AdvanceEntry.Scope.CROSS, province__isnull=False)
        .values("province_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    return {"city": per_city, "province": per_province}


def intra_advances(year: int, user=None):
    rows = IntraAdvance.objects.filter(year=year).select_related("region")
    return rows.for_user(user) if user is not None else rows


def cross_matrix(year: int, user=None) -> dict[str, Any]:
    """附件4: provinces × cities of this year's approved cross advances (万元)."""
    advances = CrossAdvance.objects.filter(year=year)
    if user is not None:
        advances = advances.for_user(user)
    cells = {(a.region_id, a.province_id): a for a in advances}
    city_list = cities()
    provinces = other_provinces()
    rows = []
    column_totals = [0] * len(city_list)
    for province in provinces:
        values = [cells[(city.code, province.code)].approved_amount if (city.code, province.code) in cells else 0 for city in city_list]
        rows.append((province, values, sum(values)))
        column_totals = [a + b for a, b in zip(column_totals, values, strict=True)]
    return {"cities": city_list, "rows": rows, "column_totals": column_totals, "total": sum(column_totals), "cells": cells}


def emergency_increases(year: int):
    return EmergencyIncrease.objects.filter(year=year).select_related("province", "basis_period", "created_by").prefetch_related("lines__region")


def settlement_rows(*, user, period: str, region: str = "", insurance_type: str = "", query: str = ""):
    """A month's settlement records as the list and its export filter them."""
    from django.db.models import Q

    from clearing.models import Settlement

    rows = Settlement.objects.for_user(user).filter(period=period)
    if region:
        rows = rows.filter(Q(insured_region=region) | Q(treatment_region=region))
    if insurance_type in ("310", "390"):
        rows = rows.filter(insurance_type=insurance_type)
    if query:
        rows = rows.filter(Q(settlement_id__startswith=query) | Q(institution__contains=query))
    return rows.order_by("settlement_id")
