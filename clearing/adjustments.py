"""Refunds and deductions in a later clearing month (江苏 第四十五、四十六、五十三条).

- 隔笔退费 / 跨年退费 / 清算后退费: a refund of an already-cleared settlement is entered
  (or imported) as an adjustment; it lands in the next open clearing month as a negative
  line in the settlement's cell, never by editing a closed month.
- 违规费用扣款: irregular costs the treatment place found (a 核查有误 协查 result, an audit)
  are deducted from the insured region's settlement costs in a later clearing, with the
  basis and the source document recorded. `deduction_create` is the one entry point
  (the 协查 module calls it with its result); `deduction_totals` feeds 审核扣款率.

A month without adjustments clears exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clearing import rules
from clearing.models import ClearingAdjustment, ClearingPeriod, ClearingResult, Settlement
from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog, InsuranceType, Region
from core.money import format_yuan, quantize_yuan

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# --- Where an adjustment lands -------------------------------------------------------------


def landing_period(after: str | None = None) -> ClearingPeriod:
    """The next open clearing month: the earliest month still open to data (and later than
    `after`, the settlement's own month); when there is none, the month after the latest."""
    open_months = ClearingPeriod.objects.filter(status__in=ClearingPeriod.EDITABLE)
    if after:
        open_months = open_months.filter(period__gt=after)
    first = open_months.order_by("period").first()
    if first is not None:
        return first
    from clearing.services import period_get_or_create

    latest = ClearingPeriod.objects.order_by("-period").values_list("period", flat=True).first()
    base = max(filter(None, [latest, after])) if (latest or after) else rules.period_of(timezone.localdate().year, timezone.localdate().month)
    return period_get_or_create(rules.period_of(*rules.add_months(*rules.parse_period(base), 1)))


def _land(adjustment: ClearingAdjustment, period: ClearingPeriod, by, message: str) -> None:
    locked = ClearingPeriod.objects.select_for_update().get(pk=period.pk)
    if not locked.is_editable:  # pragma: no cover - landing_period only returns open months
        raise DomainError(f"{locked.label}清算已下达通知书，调整不能计入。")
    if locked.computed_at is not None and not locked.results_stale:
        locked.results_stale = True
        locked.save(update_fields=["results_stale"])
    log_action(action=AuditLog.Action.CREATE, user=by, obj=adjustment, to_state=adjustment.kind, message=message)


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except Exception as exc:  # noqa: BLE001 - any unreadable number is the same message
        raise DomainError(f"金额“{value}”不是有效的数字。") from exc
    if not amount.is_finite() or amount <= 0:
        raise DomainError("冲减金额必须大于零。")
    if amount != amount.quantize(CENT):
        raise DomainError("冲减金额最多两位小数。")
    return amount


# --- 退费 -------------------------------------------------------------------------------------


def refund_create(
    *, settlement_id: str, amount, refund_type: str, refunded_on: date, reason: str, by, source_ref: str = ""
) -> ClearingAdjustment:
    """隔笔退费 / 跨年退费 / 清算后退费 of one settlement (第四十五条): a negative line in the
    next open month. The refunds of a settlement never exceed its fund payment."""
    settlement_id = (settlement_id or "").strip()
    reason = (reason or "").strip()
    if refund_type not in ClearingAdjustment.RefundType.values:
        raise DomainError("退费方式应为隔笔退费、跨年退费或清算后退费。")
    if not reason:
        raise DomainError("请填写退费原因。")
    amount = _amount(amount)
    if refunded_on > timezone.localdate():
        raise DomainError("退费日期不能晚于今天。")
    with transaction.atomic():
        settlement = Settlement.objects.filter(pk=settlement_id).first()
        if settlement is None:
            raise DomainError(f"结算流水号 {settlement_id} 不存在：只能对已导入的结算明细登记退费。")
        refunded = ClearingAdjustment.objects.filter(
            settlement_id=settlement_id, kind=ClearingAdjustment.Kind.REFUND
        ).aggregate(total=Sum("amount"))["total"] or ZERO
        left = settlement.fund_amount - quantize_yuan(refunded)
        if amount > left:
            raise DomainError(
                f"退费金额 {format_yuan(amount)} 元超过该笔结算尚可退的基金支付 {format_yuan(left)} 元"
                f"（原基金支付 {format_yuan(settlement.fund_amount)} 元）。"
            )
        period = landing_period(after=settlement.period)
        adjustment = _create(
            kind=ClearingAdjustment.Kind.REFUND, refund_type=refund_type, period=period, settlement_id=settlement_id,
            original_period=settlement.period, insured_region=settlement.insured_region,
            treatment_region=settlement.treatment_region, insurance_type=settlement.insurance_type, amount=amount,
            happened_on=refunded_on, basis=reason, source_ref=(source_ref or "").strip(), created_by=by,
        )
        _land(adjustment, period, by,
              f"{adjustment.get_refund_type_display()} {settlement_id}（{settlement.period}）{format_yuan(amount)} 元，计入{period.label}清算：{reason}")
    return adjustment


def _create(**fields) -> ClearingAdjustment:
    try:
        with transaction.atomic():
            return ClearingAdjustment.objects.create(**fields)
    except IntegrityError as exc:
        raise DomainError(f"来源单据号 {fields.get('source_ref')} 已登记过同类调整，不能重复登记。") from exc


# --- 违规费用扣款 -----------------------------------------------------------------------------


def deduction_create(
    *,
    insured_region: str,
    amount,
    basis: str,
    source_ref: str,
    by,
    treatment_region: str = "",
    insurance_type: str = "",
    settlement_id: str = "",
    found_on: date | None = None,
) -> ClearingAdjustment:
    """违规费用扣款 (第五十三条, 赣 四(三), 新 六): deduct irregular costs from the insured
    region's settlement costs in the next open clearing month, recording the basis (e.g.
    “费用协查核查有误：…”, an audit finding) and the source document's number.

    With `settlement_id` the regions and insurance type come from that settlement;
    otherwise `treatment_region` and `insurance_type` (310/390) are required."""
    basis = (basis or "").strip()
    source_ref = (source_ref or "").strip()
    if not basis:
        raise DomainError("请填写扣款依据。")
    if not source_ref:
        raise DomainError("请填写来源单据号（协查编号、稽核文书号等）。")
    amount = _amount(amount)
    found_on = found_on or timezone.localdate()
    with transaction.atomic():
        original_period = ""
        if settlement_id:
            settlement = Settlement.objects.filter(pk=settlement_id.strip()).first()
            if settlement is None:
                raise DomainError(f"结算流水号 {settlement_id} 不存在。")
            if insured_region and insured_region != settlement.insured_region:
                raise DomainError(f"结算流水号 {settlement_id} 的参保地是 {settlement.insured_region}，不是 {insured_region}。")
            insured_region, treatment_region = settlement.insured_region, settlement.treatment_region
            insurance_type, original_period = settlement.insurance_type, settlement.period
            if amount > settlement.fund_amount:
                raise DomainError(f"扣款金额 {format_yuan(amount)} 元超过该笔结算的基金支付 {format_yuan(settlement.fund_amount)} 元。")
        if insurance_type not in InsuranceType.values:
            raise DomainError("险种类型应为 310（职工）或 390（城乡居民）。")
        _check_pair(insured_region, treatment_region)
        period = landing_period(after=original_period or None)
        adjustment = _create(
            kind=ClearingAdjustment.Kind.DEDUCTION, period=period, settlement_id=settlement_id.strip(),
            original_period=original_period, insured_region=insured_region, treatment_region=treatment_region,
            insurance_type=insurance_type, amount=amount, happened_on=found_on, basis=basis, source_ref=source_ref,
            created_by=by,
        )
        _land(adjustment, period, by, f"违规费用扣款 {format_yuan(amount)} 元（{source_ref}），计入{period.label}清算：{basis}")
    return adjustment


def _check_pair(insured: str, treatment: str) -> None:
    from clearing.services import areas

    known = set(Region.objects.filter(code__in=[insured, treatment]).values_list("code", flat=True))
    for label, code in (("参保地", insured), ("就医地", treatment)):
        if code not in known:
            raise DomainError(f"{label}代码 {code or '（空）'} 不是有效的行政区划代码。")
    grid = areas()
    if grid.scope_of(grid.area_of(insured), grid.area_of(treatment)) is None:
        raise DomainError("参保地与就医地不构成本省的清算关系（同一设区市，或两端都不在本省）。")


# --- In the clearing ---------------------------------------------------------------------------


def apply_to_cells(period: ClearingPeriod, cells: dict[tuple[str, str], rules.Cell]) -> dict[tuple[str, str], tuple[rules.Amounts, int]]:
    """Subtract the month's adjustments from its cells (adding a cell when a pair has none
    of its own) and return the adjustment part of each cell, to keep it apart on the forms."""
    from clearing.services import areas

    rows = (
        ClearingAdjustment.objects.filter(period=period)
        .order_by()
        .values("insured_region", "treatment_region")
        .annotate(
            employee=Sum("amount", filter=Q(insurance_type=rules.EMPLOYEE)),
            resident=Sum("amount", filter=Q(insurance_type=rules.RESIDENT)),
            count=Count("pk"),
        )
    )
    folded = rules.fold_cells(
        [
            {**row, "employee": -quantize_yuan(row["employee"] or ZERO), "resident": -quantize_yuan(row["resident"] or ZERO)}
            for row in rows
        ],
        areas(),
    )
    parts: dict[tuple[str, str], tuple[rules.Amounts, int]] = {}
    for key, adjustment in folded.items():
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = rules.Cell(adjustment.scope, adjustment.insured_area, adjustment.treatment_area)
        cell.amounts.add(adjustment.amounts)
        parts[key] = (adjustment.amounts, adjustment.count)
    return parts


# --- Selectors ---------------------------------------------------------------------------------


@dataclass
class AdjustmentLine:
    scope: str
    insured_area: str
    treatment_area: str
    amounts: rules.Amounts
    count: int


def period_adjustment_lines(period: ClearingPeriod, *, scopes: tuple[str, ...] | None = None) -> list[AdjustmentLine]:
    """The adjustments inside a month's results, per cell (negative amounts)."""
    rows = ClearingResult.objects.filter(period=period, adjustment_count__gt=0)
    if scopes:
        rows = rows.filter(scope__in=scopes)
    return [
        AdjustmentLine(row.scope, row.insured_area, row.treatment_area,
                       rules.Amounts(row.adjustment_employee, row.adjustment_resident), row.adjustment_count)
        for row in rows.order_by("scope", "insured_area", "treatment_area")
    ]


def period_adjustments(period: ClearingPeriod, *, user=None):
    """The adjustments landing in a month, for its page (scoped to the viewer's region)."""
    queryset = ClearingAdjustment.objects.filter(period=period).select_related("created_by")
    if user is not None:
        queryset = queryset.for_user(user)
    return queryset.order_by("kind", "insured_region", "id")


def deduction_totals(*, period: str, by: str = "insured_region") -> dict[str, Decimal]:
    """违规费用扣款 per region for a clearing month (the month they land in): the numerator of
    审核扣款率 (deductions ÷ total). `by` is ``insured_region`` or ``treatment_region``;
    region codes as stored (cities of the province, other provinces' cities)."""
    if by not in ("insured_region", "treatment_region"):
        raise ValueError(by)
    rows = (
        ClearingAdjustment.objects.filter(period__period=period, kind=ClearingAdjustment.Kind.DEDUCTION)
        .order_by()
        .values(by)
        .annotate(total=Sum("amount"))
    )
    return {row[by]: quantize_yuan(row["total"]) for row in rows}


# --- Import from a file ------------------------------------------------------------------------

#: Columns of an adjustments file (CSV/XLSX, header row, column order free).
IMPORT_COLUMNS = ("kind", "settlement_id", "refund_type", "amount", "date", "reason", "source_ref",
                  "insured_region", "treatment_region", "insurance_type")


def adjustments_import(*, rows: list[dict[str, str]], by) -> tuple[int, list[str]]:
    """A file of refunds (kind=refund: settlement_id, refund_type, amount, date, reason) and
    deductions (kind=deduction: amount, reason = basis, source_ref, and settlement_id or the
    regions and insurance_type). All or nothing: any bad row is reported with its number and
    nothing is written. Returns (rows stored, errors)."""
    errors: list[str] = []
    if not rows:
        return 0, ["文件中没有数据行。"]
    try:
        with transaction.atomic():
            for number, raw in enumerate(rows, start=2):
                row = {key: (value or "").strip() for key, value in raw.items()}
                get = row.get
                try:
                    kind = get("kind", "").lower()
                    if kind == ClearingAdjustment.Kind.REFUND:
                        try:
                            refunded_on = date.fromisoformat(get("date", ""))
                        except ValueError:
                            raise DomainError(f"日期“{get('date', '')}”无效，应为 YYYY-MM-DD。") from None
                        with transaction.atomic():
                            refund_create(settlement_id=get("settlement_id", ""), amount=get("amount", ""),
                                          refund_type=get("refund_type", ""), refunded_on=refunded_on, reason=get("reason", ""),
                                          source_ref=get("source_ref", ""), by=by)
                    elif kind == ClearingAdjustment.Kind.DEDUCTION:
                        try:
                            found_on = date.fromisoformat(get("date", "")) if get("date") else None
                        except ValueError:
                            raise DomainError(f"日期“{get('date', '')}”无效，应为 YYYY-MM-DD。") from None
                        with transaction.atomic():
                            deduction_create(insured_region=get("insured_region", ""), treatment_region=get("treatment_region", ""),
                                             insurance_type=get("insurance_type", ""), settlement_id=get("settlement_id", ""),
                                             amount=get("amount", ""), basis=get("reason", ""), source_ref=get("source_ref", ""),
                                             found_on=found_on, by=by)
                    else:
                        raise DomainError(f"类型“{get('kind', '')}”应为 refund（退费）或 deduction（违规扣款）。")
                except DomainError as exc:
                    errors.append(f"第{number}行：{exc.message}")
            if errors:
                raise _Rollback
    except _Rollback:
        return 0, errors
    return len(rows), []


class _Rollback(Exception):
    """Undo a file with a bad row."""
