"""Review: the benefit calculation, submission (提交复核) and a supervisor's decision
(approve, reject, return), maker–checker and race-safe."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog, InsuredPerson
from core.money import format_yuan
from reimbursement.benefits import calculate_claim
from reimbursement.models import BenefitUsage, CareType, Claim
from reimbursement.services.common import ZERO, _four_eyes, _locked, _reason, _require_status
from reimbursement.services.notices import claim_print


def _store_calculation(claim: Claim, *, by) -> None:
    calculation = calculate_claim(claim)
    result = calculation.result
    claim.policy = calculation.policy
    claim.fund_payment = result.fund_payment
    claim.personal_payment = result.personal_payment
    claim.deductible_applied = result.deductible_applied
    claim.calculation = calculation.snapshot()
    claim.calculated_at = timezone.now()
    claim.calculated_by = by
    BenefitUsage.objects.filter(claim=claim).delete()
    BenefitUsage.objects.bulk_create(
        BenefitUsage(
            claim=claim,
            year=year.year,
            care_type=claim.care_type,
            deductible_applied=year.deductible_applied,
            fund_payment=year.fund_payment,
        )
        for year in result.years
    )


@transaction.atomic
def claim_calculate(*, claim: Claim, by) -> Claim:
    """Compute and store the benefit (the clerk during review; a supervisor before deciding)."""
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.ACCEPTED, Claim.Status.SUBMITTED), "计算待遇")
    previous = claim.fund_payment
    _store_calculation(claim, by=by)
    claim.save()
    change = "" if previous is None else f"（原为 {format_yuan(previous)} 元）"
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=f"计算待遇：基金支付 {format_yuan(claim.fund_payment)} 元{change}，个人支付 {format_yuan(claim.personal_payment)} 元",
    )
    return claim


@transaction.atomic
def claim_submit(*, claim: Claim, by) -> Claim:
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.ACCEPTED,), "提交复核")
    if claim.fund_payment is None:
        raise DomainError("请先计算待遇，再提交复核。", code="not_calculated")
    claim.status = Claim.Status.SUBMITTED
    claim.submitted_by = by
    claim.submitted_at = timezone.now()
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.ACCEPTED,
        to_state=claim.status,
        message=f"提交复核：基金支付 {format_yuan(claim.fund_payment)} 元",
    )
    return claim


def _decided_elsewhere(claim: Claim) -> DomainError:
    who = claim.decided_by.get_full_name() if claim.decided_by_id else ""
    when = timezone.localtime(claim.decided_at).strftime("%H:%M") if claim.decided_at else ""
    if claim.status in (Claim.Status.APPROVED, Claim.Status.REJECTED) and who:
        return DomainError(
            f"申请 {claim.number} 已由{who}于 {when} 处理（{claim.get_status_display()}），您的操作未执行。",
            code="already_decided",
        )
    if claim.status == Claim.Status.ACCEPTED and claim.return_count:
        return DomainError(f"申请 {claim.number} 已被退回经办人修改，您的操作未执行。", code="already_decided")
    return DomainError(
        f"申请 {claim.number} 当前状态为“{claim.get_status_display()}”，不在待复核状态，您的操作未执行。",
        code="already_decided",
    )


@transaction.atomic
def claim_approve(*, claim: Claim, by, expected_fund_payment: Decimal | None = None, today: date | None = None) -> Claim:
    """A supervisor approves (maker–checker). The second of two racing supervisors is refused."""
    today = today or timezone.localdate()
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "审批")
    # Serialise decisions per person: earlier claims' usage feeds this one's calculation.
    InsuredPerson.objects.select_for_update().filter(pk=claim.person_id).first()
    stored = claim.fund_payment
    if expected_fund_payment is not None and expected_fund_payment != stored:
        # The page was opened before someone recalculated: show both figures.
        raise DomainError(
            f"页面显示 {format_yuan(expected_fund_payment)} 元，当前计算结果为 {format_yuan(stored)} 元，"
            "请刷新页面核对后再审批。",
            code="stale_page",
        )
    check = calculate_claim(claim)
    if check.result.fund_payment != stored:
        raise DomainError(
            f"待遇计算结果已发生变化（本年度其他报销已审批或政策已调整）：基金支付由 {format_yuan(stored)} 元变为 "
            f"{format_yuan(check.result.fund_payment)} 元。请先“重新计算”，核对后再审批。",
            code="stale_calculation",
        )
    claim.status = Claim.Status.APPROVED
    claim.decided_by = by
    claim.decided_at = timezone.now()
    claim.return_reason = ""
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"审批通过：基金支付 {format_yuan(claim.fund_payment)} 元",
    )
    if claim.fund_payment == ZERO:
        _close_without_payment(claim, by=by, today=today)
    if claim.care_type in (CareType.INPATIENT, CareType.MATERNITY):
        claim_print(claim=claim, by=by, form="settlement")
    return claim


#: The note on a claim approved with nothing for the fund to pay.
NOTHING_TO_PAY = "基金支付为零，无需付款"


def _close_without_payment(claim: Claim, *, by, today: date) -> None:
    """Approved with 0.00 from the fund (e.g. below the deductible): nothing to pay, so the
    claim is closed at once and never goes on a payment notice. Its use of the deductible
    still counts for the person's later claims this year."""
    claim.status = Claim.Status.PAID
    claim.finished_on = today
    claim.deadline_flag = ""
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.APPROVED,
        to_state=claim.status,
        message=f"{NOTHING_TO_PAY}，审批通过即办结（本次计入起付标准 {format_yuan(claim.deductible_applied or ZERO)} 元）",
    )


@transaction.atomic
def claim_reject(*, claim: Claim, by, reason: str, today: date | None = None) -> Claim:
    today = today or timezone.localdate()
    reason = _reason(reason, "不予报销的理由")
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "审批")
    claim.status = Claim.Status.REJECTED
    claim.decided_by = by
    claim.decided_at = timezone.now()
    claim.rejection_reason = reason
    claim.finished_on = today
    claim.deadline_flag = ""
    claim.save()
    BenefitUsage.objects.filter(claim=claim).delete()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"不予报销：{reason}",
    )
    return claim


@transaction.atomic
def claim_return(*, claim: Claim, by, reason: str) -> Claim:
    """Send a submitted claim back to the counter for correction."""
    reason = _reason(reason, "退回原因")
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "退回")
    claim.status = Claim.Status.ACCEPTED
    claim.return_reason = reason
    claim.return_count += 1
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"退回经办人：{reason}",
    )
    return claim
