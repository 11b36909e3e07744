"""The monthly clearing: the month's settlements aggregated in the database into
stored results, directly or as a background job."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clearing import rules
from clearing.models import ClearingPeriod, ClearingResult, Settlement
from clearing.services.common import SUM_FIELD, ZERO, _log, areas
from core.errors import DomainError
from core.jobs import start_job
from core.models import Region
from core.money import format_yuan, quantize_yuan
from core.reference import home_province_code


def compute_cells(period: str) -> tuple[dict[tuple[str, str], rules.Cell], int]:
    """The month's clearing by database aggregation: one GROUP BY over the
    settlement rows with conditional sums, folded (a few hundred cells) here."""
    first_day = rules.period_start(period)
    aggregates = (
        Settlement.objects.filter(period=period)
        .order_by()
        .values("insured_region", "treatment_region")
        .annotate(
            employee=Sum("fund_amount", filter=Q(insurance_type=rules.EMPLOYEE), output_field=SUM_FIELD),
            resident=Sum("fund_amount", filter=Q(insurance_type=rules.RESIDENT), output_field=SUM_FIELD),
            count=Count("pk"),
            late=Count("pk", filter=Q(settled_on__lt=first_day)),
        )
    )
    late = 0
    rows = []
    for row in aggregates:
        late += row["late"]
        # Exact on PostgreSQL already; SQLite sums its REAL column in floating point.
        row["employee"] = quantize_yuan(row["employee"] or ZERO)
        row["resident"] = quantize_yuan(row["resident"] or ZERO)
        rows.append(row)
    return rules.fold_cells(rows, areas()), late


def clearing_compute(*, period: ClearingPeriod, by=None) -> ClearingPeriod:
    """Generate (or regenerate) the month's clearing and store it as result rows."""
    with transaction.atomic():
        period = ClearingPeriod.objects.select_for_update().get(pk=period.pk)
        if not period.is_editable:
            raise DomainError(
                f"{period.label}清算当前状态为“{period.get_status_display()}”：通知书已下达，清算结果已锁定，不能重新生成。"
            )
        cells, late = compute_cells(period.period)
        from clearing import adjustments  # 退费 and 违规扣款 landing in this month, kept apart per cell

        adjusted = adjustments.apply_to_cells(period, cells)
        no_adjustment = (rules.Amounts(), 0)
        ClearingResult.objects.filter(period=period).delete()
        ClearingResult.objects.bulk_create(
            ClearingResult(
                period=period,
                scope=cell.scope,
                insured_area=cell.insured_area,
                treatment_area=cell.treatment_area,
                employee_amount=cell.amounts.employee,
                resident_amount=cell.amounts.resident,
                settlement_count=cell.count,
                adjustment_employee=adjusted.get(key, no_adjustment)[0].employee,
                adjustment_resident=adjusted.get(key, no_adjustment)[0].resident,
                adjustment_count=adjusted.get(key, no_adjustment)[1],
            )
            for key, cell in cells.items()
        )
        from_state = period.status
        period.status = ClearingPeriod.Status.COMPUTED
        period.results_stale = False
        period.computed_at = timezone.now()
        period.computed_by = by if getattr(by, "pk", None) else None
        period.settlement_count = sum(cell.count for cell in cells.values())
        period.late_count = late
        period.fund_total = sum((cell.amounts.total for cell in cells.values()), ZERO)
        if period.data_closed_at is None:
            period.data_closed_at = period.computed_at
            period.data_closed_by = period.computed_by
        period.save()
        again = "重新生成" if from_state == ClearingPeriod.Status.COMPUTED else "生成"
        _log(
            period,
            by,
            from_state=from_state,
            to_state=period.status,
            message=f"{again}月度清算：{period.settlement_count} 条结算明细，基金支付合计 {format_yuan(period.fund_total)} 元",
        )
    return period


def clearing_start_compute(*, period: ClearingPeriod, by) -> Any:
    if not period.is_editable:
        raise DomainError(f"{period.label}清算的通知书已下达，清算结果已锁定。")
    return start_job(
        kind="clearing.compute_period",
        title=f"生成{period.label}月度清算",
        by=by,
        params={"period_id": period.pk},
        region=Region.objects.get(code=home_province_code()),
    )
