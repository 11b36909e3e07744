"""退票: a payment the bank sent back, the counter checking or correcting the payee
account, and a supervisor verifying the correction."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog
from core.money import format_yuan
from core.workdays import add_working_days
from reimbursement.formatting import normalize_bank_account
from reimbursement.models import Claim, PaymentBatch, PaymentReturn
from reimbursement.services.common import ZERO, _locked, _reason, _require_status
from reimbursement.services.deadlines import deadline_flag
from reimbursement.services.decisions import NOTHING_TO_PAY


@transaction.atomic
def payment_return_record(*, claim: Claim, by, reason: str, returned_on: date, today: date | None = None) -> PaymentReturn:
    """Finance records that the bank returned a payment: the claim leaves its payment notice and
    goes back to “已审批（待付款）”, waiting for the counter to check or correct the payee account."""
    today = today or timezone.localdate()
    reason = _reason(reason, "退票原因")[:300]
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID), "登记退票")
    if not by.sees_all_regions and claim.region_id != by.region_code:
        raise DomainError("只能登记本经办机构申请的退票。", code="wrong_region")
    if claim.payment_batch_id is None:
        raise DomainError(f"申请 {claim.number} 没有经付款通知付款（{NOTHING_TO_PAY}），不能登记退票。", code="not_paid_out")
    if returned_on is None:
        raise DomainError("请填写退票日期。", code="returned_on")
    if returned_on > today:
        raise DomainError(f"退票日期 {returned_on:%Y-%m-%d} 晚于今天，请核对。", code="returned_on")
    batch = claim.payment_batch
    if batch is not None and returned_on < timezone.localtime(batch.created_at).date():
        raise DomainError(
            f"退票日期 {returned_on:%Y-%m-%d} 早于付款通知 {batch.number} 的制单日期，请核对。", code="returned_on"
        )
    before = claim.status
    record = PaymentReturn.objects.create(
        claim=claim,
        batch=batch,
        amount=claim.fund_payment or ZERO,
        returned_on=returned_on,
        reason=reason,
        was_paid=before == Claim.Status.PAID,
        payment_reference=claim.payment_reference,
        payee_before=claim.payee_name,
        bank_before=claim.bank_name,
        account_before=claim.masked_account,
        recorded_by=by,
    )
    claim.status = Claim.Status.APPROVED
    claim.payment_batch = None
    claim.paid_on = None
    claim.paid_by = None
    claim.payment_reference = ""
    claim.finished_on = None
    claim.deadline_flag = deadline_flag(claim.due_on, today, add_working_days(today, 2))
    claim.save()
    where = f"（原付款通知 {batch.number}）" if batch is not None else ""
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=before,
        to_state=claim.status,
        message=(
            f"退票{where}：{format_yuan(record.amount)} 元于 {returned_on:%Y-%m-%d} 退回，原因：{reason}。"
            f"原收款账户 {record.payee_before} · {record.bank_before} · {record.account_before}，待经办人核对更正后重新付款"
        ),
    )
    if batch is not None:
        log_action(
            action=AuditLog.Action.CHANGE, user=by, obj=batch, message=f"{claim.number} 退票（{reason}），移出本批次待重新付款"
        )
        remaining = batch.claims.all()
        if batch.status == PaymentBatch.Status.NOTIFIED and remaining.exists() and not remaining.exclude(
            status=Claim.Status.PAID
        ).exists():
            batch.status = PaymentBatch.Status.PAID
            batch.paid_on = max(other.paid_on for other in remaining)
            batch.save()
            log_action(action=AuditLog.Action.TRANSITION, user=by, obj=batch, to_state=batch.status, message="其余申请均已支付")
    return record


@transaction.atomic
def claim_correct_payee(*, claim: Claim, by, payee_name: str, bank_name: str, bank_account: str) -> Claim:
    """After a 退票 the counter checks the payee account with the applicant and corrects it
    (an empty account keeps the current one: “核对无误”). Audited with masked accounts."""
    claim = _locked(claim)
    record = (
        PaymentReturn.objects.select_for_update().filter(claim=claim, resolved_at__isnull=True).first()
        if claim.status == Claim.Status.APPROVED
        else None
    )
    if record is None:
        raise DomainError(
            f"只有退票后待核对收款账户的申请可以更正收款账户：申请 {claim.number} 当前状态为“{claim.get_status_display()}”"
            "，没有待处理的退票。",
            code="no_open_return",
        )
    errors = []
    payee_name, bank_name = (payee_name or "").strip(), (bank_name or "").strip()
    if not payee_name:
        errors.append("请填写收款人。")
    elif len(payee_name) > 50:
        errors.append("收款人最多50个字。")
    if not bank_name:
        errors.append("请填写开户银行。")
    elif len(bank_name) > 60:
        errors.append("开户银行最多60个字。")
    account = normalize_bank_account(bank_account or "") or claim.bank_account
    if not account.isdigit() or not 12 <= len(account) <= 30:
        errors.append("银行账号应为12–30位数字。")
    if errors:
        raise DomainError("\n".join(errors), code="invalid")
    before = f"{claim.payee_name} · {claim.bank_name} · {claim.masked_account}"
    changed = (payee_name, bank_name, account) != (claim.payee_name, claim.bank_name, claim.bank_account)
    claim.payee_name, claim.bank_name, claim.bank_account = payee_name, bank_name, account
    claim.save()
    record.resolved_by = by
    record.resolved_at = timezone.now()
    record.account_changed = changed
    record.account_after = claim.masked_account
    record.save()
    after = f"{claim.payee_name} · {claim.bank_name} · {claim.masked_account}"
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=(
            f"退票后更正收款账户：{before} → {after}，待审核人员复核后重新出付款通知"
            if changed
            else f"退票后收款账户核对无误：{after}，可重新出付款通知"
        ),
    )
    return claim


@transaction.atomic
def claim_verify_payee(*, claim: Claim, by) -> Claim:
    """A supervisor checks the account the counter corrected after a 退票 against the
    applicant's bank document (maker–checker: never the one who corrected it)."""
    claim = _locked(claim)
    record = PaymentReturn.objects.unverified().select_for_update().filter(claim=claim).first()
    if record is None:
        raise DomainError(f"申请 {claim.number} 没有待复核的收款账户更正（可能已由其他审核人员复核）。", code="nothing_to_verify")
    if record.resolved_by_id == by.pk:
        raise DomainError(
            "收款账户由您更正，按“经办与复核分离”的规定不能由您复核，请由其他审核人员办理。", code="four_eyes"
        )
    record.verified_by = by
    record.verified_at = timezone.now()
    record.save()
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=f"复核更正后的收款账户：{claim.payee_name} · {claim.bank_name} · {claim.masked_account}，可重新出付款通知",
    )
    return claim
