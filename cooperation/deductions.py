"""A confirmed 核查有误 费用协查 result becomes a 违规费用扣款 in the clearing (江苏 第五十三条).

第五十三条: irregular costs the treatment place found are not paid, and what was paid is
deducted "用于冲减参保地异地就医结算费用" — a deduction line against the insured region in
the next open month of the province's clearing. Deductions are keyed in the clearing by the
province-level clearing officer (`clearing.adjustment_views.adjustment_deduction`), so the
same officer books one from an assist: not the insured region itself, whose own settlement
costs the deduction reduces.

`assist_deduct` books the deduction (`clearing.adjustments.deduction_create`) and writes it
back to the assist (`cooperation.services.assist_link_deduction`) in one transaction: both or
neither. The deduction's 来源单据号 is the 协查编号, which the clearing keeps unique per kind,
so the link holds both ways without a key across the two apps.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from cooperation.models import AssistRequest
from core.errors import DomainError
from core.jurisdictions import rules_for
from core.models import InsuranceType, Role
from core.money import format_yuan
from core.scoping import get_object_for_user

CENT = Decimal("0.01")
BASIS_LIMIT = 200  # ClearingAdjustment.basis


def may_deduct(user) -> bool:
    """Who books a deduction from an assist: the province-level clearing officer."""
    return user.has_role(Role.CLEARING_OFFICER) and user.sees_all_regions


def _amount(value) -> Decimal:
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        raise DomainError("请填写扣款金额。", code="amount")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"扣款金额“{value}”不是有效的数字。", code="amount") from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError("扣款金额必须大于零。", code="amount")
    if amount != amount.quantize(CENT):
        raise DomainError("扣款金额最多两位小数。", code="amount")
    return amount


def _insurance_type(request: AssistRequest, chosen: str) -> str:
    """The stay's 险种: the settlement's own when the assist came from one, else the one chosen."""
    chosen = (chosen or "").strip()
    if request.settlement_id:
        from clearing.models import Settlement

        recorded = Settlement.objects.filter(pk=request.settlement_id).values_list("insurance_type", flat=True).first()
        if recorded and chosen and chosen != recorded:
            raise DomainError(
                f"险种类型与结算流水号 {request.settlement_id} 的险种（{InsuranceType(recorded).label}）不一致。",
                code="insurance_type",
            )
        return recorded or chosen
    if chosen not in InsuranceType.values:
        raise DomainError("请选择险种类型：310（职工）或 390（城乡居民）。", code="insurance_type")
    return chosen


@transaction.atomic
def assist_deduct(*, request: AssistRequest, amount, by, insurance_type: str = ""):
    """Book the irregular costs of a confirmed 核查有误 result as a 违规费用扣款 against the
    insured region in the next open clearing month (第五十三条) and link it to the assist.

    Refused with a message: a caller other than the province clearing officer, a result not yet
    confirmed or 核查无误, a second deduction, an amount ≤ 0 or above the stay's 费用总额 (or the
    settlement's 基金支付). Another region's request is a 404. Returns the ClearingAdjustment."""
    from clearing.adjustments import deduction_create
    from cooperation.services import assist_link_deduction

    # Scoped and locked in one statement: a concurrent second deduction waits here, then sees the link.
    locked = get_object_for_user(by, AssistRequest.objects.select_for_update(), pk=request.pk)
    if not may_deduct(by):
        article = rules_for(None).article("deduction")
        raise DomainError(
            f"只有省级清算岗可以登记违规费用扣款（{article + '，' if article else ''}扣款在全省清算中冲减参保地结算费用）。",
            code="wrong_side",
        )
    if locked.status != AssistRequest.Status.CONFIRMED:
        raise DomainError(
            f"{locked.number} 当前为“{locked.get_status_display()}”：参保地确认协查结果后才能登记扣款。", code="state"
        )
    if locked.result != AssistRequest.Result.HAS_ISSUE:
        raise DomainError(f"{locked.number} 的协查结果为“核查无误”，没有可扣的违规费用。", code="state")
    if locked.deduction_reference:
        raise DomainError(f"{locked.number} 已登记扣款（{locked.deduction_reference}），不能重复扣款。", code="twice")
    amount = _amount(amount)
    if amount > locked.total_amount:
        raise DomainError(
            f"扣款金额 {format_yuan(amount)} 元超过该次住院的费用总额 {format_yuan(locked.total_amount)} 元。",
            code="amount",
        )
    basis = f"费用协查核查有误：{locked.finding}"
    if len(basis) > BASIS_LIMIT:
        basis = basis[: BASIS_LIMIT - 1] + "…"
    deduction = deduction_create(
        insured_region=locked.insured_region_id,
        treatment_region=locked.treatment_region_id,
        insurance_type=_insurance_type(locked, insurance_type),
        settlement_id=locked.settlement_id,
        amount=amount,
        basis=basis,
        source_ref=locked.number,
        found_on=locked.confirmed_on,
        by=by,
    )
    assist_link_deduction(
        request=locked, reference=f"违规费用扣款 #{deduction.pk}，计入{deduction.period.period}清算", by=by
    )
    return deduction


def deduction_of(request: AssistRequest):
    """The deduction booked from this assist (with the clearing month it lands in), or None."""
    from clearing.models import ClearingAdjustment

    if not request.deduction_reference:
        return None
    return (
        ClearingAdjustment.objects.filter(kind=ClearingAdjustment.Kind.DEDUCTION, source_ref=request.number)
        .select_related("period", "created_by")
        .first()
    )


def assists_by_number(*, user, numbers) -> dict[str, int]:
    """协查编号 → pk of the assists among `numbers` the user may open (one query for a page)."""
    numbers = {number for number in numbers if number}
    if not numbers or not user.has_perm("cooperation.view_assistrequest"):  # finance staff do not open assists
        return {}
    return dict(AssistRequest.objects.for_user(user).filter(number__in=numbers).values_list("number", "pk"))
