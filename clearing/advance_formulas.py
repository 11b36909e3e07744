"""Advance formulas that differ by province (core.jurisdictions ``cross_advance``).

江苏 splits the national per-province amounts over its cities (第三十一条(一), in
clearing.services.advances.cross_advances_compute). 新疆 (新医保发〔2022〕39号 四(一)) sets the
**cross-province** advance by the end of January at twice last year's fourth-quarter
monthly average of settlement funds, collected from the pooling areas: here each
(city, province) cell of 附件4 is 2 × (the city's Q4 cross-province fund spending in
that province ÷ 3), so a city's total is 2 × its Q4 monthly average and the ledgers per
province keep working. It is not an intra-province rule.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.money import yuan_to_wanyuan

METHOD_NATIONAL_SHARE = "national_share"
METHOD_Q4_MONTHLY_AVERAGE = "q4_monthly_average"
Q4_MONTHS = (10, 11, 12)


def q4_monthly_average_advance(q4_fund: Decimal, factor: Decimal) -> tuple[Decimal, int]:
    """(monthly average in yuan, advance in whole 万元 half up) from a Q4 fund total."""
    basis = (Decimal(q4_fund) / 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return basis, yuan_to_wanyuan(basis * Decimal(factor))


def q4_cross_spending(year: int) -> dict[tuple[str, str], Decimal]:
    """{(city, province): fund} of the cross-province payable (our insured treated elsewhere)
    in Q4 of ``year``, aggregated in the database."""
    from clearing import rules
    from clearing.models import ClearingResult, Scope

    months = [rules.period_of(year, month) for month in Q4_MONTHS]
    rows = (
        ClearingResult.objects.filter(period__period__in=months, scope=Scope.CROSS_OUT)
        .values("insured_area", "treatment_area")
        .annotate(total=Sum("employee_amount") + Sum("resident_amount"))
        .order_by()
    )
    spending: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["insured_area"], f"{row['treatment_area'][:2]}0000")
        spending[key] = spending.get(key, Decimal("0")) + row["total"]
    return spending


def cross_advances_compute_q4(*, year: int, by, factor: Decimal, article: str) -> list:
    """附件4 cells by the 新疆 formula; same rows, carry-over and audit as the 江苏 split."""
    from clearing import services
    from clearing.models import AdvanceEntry, AdvanceYear, CrossAdvance
    from clearing.services.advances import _carried_over, _previous_cross_amounts
    from clearing.services.common import _log
    from core.errors import DomainError
    from core.models import AuditLog, Region

    spending = q4_cross_spending(year - 1)
    if not any(value > 0 for value in spending.values()):
        raise DomainError(f"{year - 1}年第四季度没有跨省清算结果，无法按季度月平均值的{factor.normalize():f}倍核定跨省预付金。")
    cities = {city.code: city for city in services.home_cities()}
    provinces = {region.code: region for region in Region.objects.provinces()}
    city_totals: dict[str, Decimal] = {}
    for (city, _province), value in spending.items():
        city_totals[city] = city_totals.get(city, Decimal("0")) + value
    grand = sum(city_totals.values(), Decimal("0"))
    previous = _previous_cross_amounts(year - 1)
    carried = _carried_over(year, AdvanceEntry.Scope.CROSS)
    record = services.advance_year(year)
    rows = []
    with transaction.atomic():
        CrossAdvance.objects.filter(year=year).delete()
        for (code, province), value in sorted(spending.items()):
            if code not in cities or value <= 0:
                continue
            _basis, approved = q4_monthly_average_advance(value, factor)
            carry = carried.get((code, province), 0)
            rows.append(
                CrossAdvance.objects.create(
                    year=year, region=cities[code], province=provinces[province],
                    share=(city_totals[code] / grand).quantize(Decimal("0.00000001")) if grand else Decimal("0"),
                    previous_amount=previous.get((code, province), 0),
                    approved_amount=approved, carry_over=carry, actual_amount=approved - carry,
                )
            )
        record = AdvanceYear.objects.select_for_update().get(pk=record.pk)
        record.cross_computed_at = timezone.now()
        record.cross_computed_by = by if getattr(by, "pk", None) else None
        record.save()
        _log(
            record, by, action=AuditLog.Action.CHANGE,
            message=f"按{year - 1}年第四季度跨省医保结算资金月平均值的{factor.normalize():f}倍核定跨省预付金（{article}）",
        )
    return rows
