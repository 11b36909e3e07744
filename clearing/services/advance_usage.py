"""How much of an advance a month uses (第三十一条(二) 使用率) and the emergency
increase (紧急调增, 附件6) a rate of 90 % and above allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clearing import rules
from clearing.models import (
    ClearingPeriod,
    CrossAdvance,
    EmergencyIncrease,
    EmergencyIncreaseLine,
    IntraAdvance,
    PaymentDue,
)
from clearing.services.common import ZERO, _log, home_cities, home_city_codes, notice_key
from core.errors import DomainError
from core.jobs import start_job
from core.jurisdictions import rules_for
from core.models import AuditLog, Region
from core.reference import home_province_code
from core.workdays import add_working_days


@dataclass
class UsageRow:
    key: str  # a province code, or a city code
    label: str
    amount: Decimal
    advance: int
    rate: Decimal | None

    @property
    def warning(self) -> bool:
        return rules.needs_emergency_increase(self.rate)

    @property
    def rate_text(self) -> str:
        return rules.percent_text(self.rate)


def cross_advance_totals(year: int) -> dict[tuple[str, str], int]:
    """(city, province) -> this year's cross advance in 万元 (approved + emergency increases)."""
    totals = {}
    for region, province, amount in CrossAdvance.objects.filter(year=year).values_list("region_id", "province_id", "approved_amount"):
        totals[(region, province)] = totals.get((region, province), 0) + amount
    for region, province, amount in EmergencyIncreaseLine.objects.filter(increase__year=year).values_list(
        "region_id", "increase__province_id", "amount"
    ):
        totals[(region, province)] = totals.get((region, province), 0) + amount
    return totals


def usage_by_province(period: ClearingPeriod) -> list[UsageRow]:
    """第三十一条(二): 预付金使用率 = the month's cross-province clearing towards a
    province ÷ our advance held there."""
    from clearing.selectors import period_cells

    amounts: dict[str, Decimal] = {}
    for cell in period_cells(period):
        if cell.scope == rules.SCOPE_CROSS_OUT:
            amounts[cell.treatment_area] = amounts.get(cell.treatment_area, ZERO) + cell.amounts.total
    advances: dict[str, int] = {}
    for (_region, province), amount in cross_advance_totals(period.year).items():
        advances[province] = advances.get(province, 0) + amount
    names = dict(Region.objects.provinces().values_list("code", "short_name"))
    rows = []
    for code in sorted(set(amounts) | set(advances), key=lambda c: c):
        amount = amounts.get(code, ZERO)
        advance = advances.get(code, 0)
        rows.append(UsageRow(code, names.get(code, code), amount, advance, rules.usage_rate(amount, advance)))
    return rows


def usage_intra_by_city(period: ClearingPeriod) -> list[UsageRow]:
    """The intra-province advance's usage: a net payer's monthly net ÷ its advance."""
    from clearing.selectors import period_cells

    positions = rules.intra_positions(period_cells(period), home_city_codes())
    advances = dict(IntraAdvance.objects.filter(year=period.year).values_list("region_id", "approved_amount"))
    rows = []
    for city in home_cities():
        net = positions[city.code].net.total
        payable = -net if net < 0 else ZERO
        advance = advances.get(city.code, 0)
        rows.append(UsageRow(city.code, city.name, payable, advance, rules.usage_rate(payable, advance)))
    return rows


def emergency_increase_create(
    *, period: ClearingPeriod, province: Region, amount: int, by, stamp_date: date | None = None
) -> EmergencyIncrease:
    """附件6: split the increase the national bureau approved for a province over
    the cities by their patients and spending there in the triggering month; only
    at a usage rate of 90 % and above."""
    stamp_date = stamp_date or timezone.localdate()
    if amount <= 0:
        raise DomainError("调增额度必须大于零（万元）。")
    if period.computed_at is None:
        raise DomainError(f"{period.label}尚未生成清算，无法计算预付金使用率。")
    usage = {row.key: row for row in usage_by_province(period)}
    row = usage.get(province.code)
    if row is None or row.rate is None:
        raise DomainError(f"{period.year}年没有向{province.short_name}拨付跨省预付金，无法计算使用率。")
    if not row.warning:
        raise DomainError(
            f"{period.label}向{province.short_name}的预付金使用率为 {row.rate_text}，未达到90%，不能启动紧急调增流程"
            f"{rules_for(None).cited('emergency_increase')}。"
        )
    from clearing.advance_ledger import emergency_split_weights
    from clearing.selectors import period_cells

    costs = {code: ZERO for code in home_city_codes()}
    patients = {code: 0 for code in home_city_codes()}
    for cell in period_cells(period):
        if cell.scope == rules.SCOPE_CROSS_OUT and cell.treatment_area == province.code:
            costs[cell.insured_area] += cell.amounts.total
            patients[cell.insured_area] += cell.count
    # 附件6: by the number of patients as well as the costs there
    parts = rules.split_by_weights(amount, emergency_split_weights(costs, patients))
    with transaction.atomic():
        increase = EmergencyIncrease.objects.create(
            year=period.year, province=province, amount=amount, basis_period=period, usage_rate=row.rate.quantize(Decimal("0.0001")),
            stamp_date=stamp_date, created_by=by,
        )
        cities = {city.code: city for city in home_cities()}
        EmergencyIncreaseLine.objects.bulk_create(
            EmergencyIncreaseLine(increase=increase, region=cities[code], amount=value) for code, value in parts.items() if value
        )
        due = add_working_days(stamp_date, rules.CROSS_ADVANCE_WORKING_DAYS)
        for code, value in parts.items():
            if value <= 0:
                continue
            PaymentDue.objects.create(
                kind=PaymentDue.Kind.EMERGENCY_ADVANCE, year=period.year, region=cities[code],
                amount=Decimal(value) * 10000, due_on=due.as_date(), due_confirmed=due.confirmed,
                notice_key=notice_key(str(period.year), "annex06", code, str(increase.pk)),
                breakdown={province.code: f"{Decimal(value) * 10000:.2f}"},
            )
        _log(increase, by, message=f"启动{province.short_name}跨省预付金紧急调增 {amount} 万元（{period.label}使用率 {row.rate_text}）",
             action=AuditLog.Action.CREATE)
        start_job(
            kind="clearing.render_emergency_notices",
            title=f"生成{province.short_name}跨省预付金紧急调增通知书（附件6）",
            by=by, params={"increase_id": increase.pk}, region=Region.objects.get(code=home_province_code()),
        )
    return increase
