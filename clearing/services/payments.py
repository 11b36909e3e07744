"""Money against payments due: transfers recorded by finance (登记到账), the
advance paying first for a late city (先行支付) and topped up when the money comes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clearing import rules
from clearing.models import AdvanceEntry, ClearingPeriod, PaymentDue, Transfer
from clearing.services.common import ZERO, _log
from clearing.services.periods import _maybe_settle
from core.errors import DomainError
from core.models import AuditLog, Role
from core.money import format_yuan


def _may_record(payment: PaymentDue, by) -> bool:
    if by.has_role(Role.CLEARING_OFFICER) and by.sees_all_regions:
        return True
    if not by.has_role(Role.FINANCE, Role.CLEARING_OFFICER):
        return False
    if by.sees_all_regions:
        return True
    # City staff record what their city pays; what the province pays them is recorded at the province.
    return payment.city_pays and by.region_code == payment.region_id


def transfer_record(
    *, payment: PaymentDue, amount: Decimal, transferred_on: date, by, voucher_no: str = "", note: str = ""
) -> Transfer:
    """登记到账: finance records a transfer against a payment due."""
    amount = Decimal(amount)
    if amount <= 0:
        raise DomainError("到账金额必须大于零。")
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError("到账金额最多两位小数。")
    if transferred_on > timezone.localdate():
        raise DomainError("到账日期不能晚于今天。")
    if not _may_record(payment, by):
        raise DomainError("您没有登记这笔款项到账的权限：设区市财务人员只能登记本市上解的款项。")
    with transaction.atomic():
        payment = PaymentDue.objects.select_for_update(of=("self",)).select_related("region", "period").get(pk=payment.pk)
        if payment.status == PaymentDue.Status.PAID:
            raise DomainError("这笔款项已经结清，不能再登记到账。")
        if amount > payment.outstanding:
            raise DomainError(f"到账金额 {format_yuan(amount)} 元超过未付金额 {format_yuan(payment.outstanding)} 元。")
        transfer = Transfer.objects.create(
            payment=payment, amount=amount, transferred_on=transferred_on, voucher_no=voucher_no.strip(),
            note=note.strip(), recorded_by=by,
        )
        from_state = payment.status
        payment.paid_amount += amount
        payment.status = PaymentDue.Status.PAID if payment.paid_amount >= payment.amount else PaymentDue.Status.PARTLY_PAID
        payment.save(update_fields=["paid_amount", "status"])
        _top_up_advance(payment, amount, transferred_on, by)
        _book_advance_contribution(payment, amount, transferred_on, by)
        _log(payment, by, from_state=from_state, to_state=payment.status,
             message=f"登记到账 {format_yuan(amount)} 元（{transferred_on:%Y-%m-%d}{'，凭证号 ' + voucher_no if voucher_no else ''}）")
        if payment.period_id and payment.status == PaymentDue.Status.PAID:
            period = ClearingPeriod.objects.select_for_update().get(pk=payment.period_id)
            _maybe_settle(period, by)
    return transfer


def _advance_scope(payment: PaymentDue) -> str | None:
    if payment.kind == PaymentDue.Kind.INTRA_NET_PAYABLE:
        return AdvanceEntry.Scope.INTRA
    if payment.kind == PaymentDue.Kind.CROSS_PAYABLE:
        return AdvanceEntry.Scope.CROSS
    return None


def _split_by_breakdown(payment: PaymentDue, amount: Decimal) -> dict[str | None, Decimal]:
    if payment.kind != PaymentDue.Kind.CROSS_PAYABLE or not payment.breakdown:
        return {None: amount}
    weights = {province: Decimal(value) for province, value in payment.breakdown.items()}
    return {province: part for province, part in rules.split_cents_by_weights(amount, weights).items() if part}


def advance_balance(*, year: int, scope: str, region: str, province: str | None = None) -> Decimal:
    entries = AdvanceEntry.objects.filter(year=year, scope=scope, region_id=region)
    if province:
        entries = entries.filter(province_id=province)
    return entries.aggregate(total=Sum("amount"))["total"] or ZERO


def payment_cover_with_advance(*, payment: PaymentDue, by, on: date | None = None) -> Decimal:
    """先行支付: while a city's clearing money is late, its advance pays the
    province's side first (第三十条(二), 第三十一条(三)); topped up when the money comes."""
    on = on or timezone.localdate()
    scope = _advance_scope(payment)
    if scope is None:
        raise DomainError("只有设区市应上解的清算费用可以先行使用预付金支付。")
    with transaction.atomic():
        payment = PaymentDue.objects.select_for_update(of=("self",)).select_related("region", "period").get(pk=payment.pk)
        if payment.status == PaymentDue.Status.PAID:
            raise DomainError("这笔款项已经结清，不需要使用预付金。")
        # 第三十条(二): the intra-province advance pays as soon as the clearing is issued;
        # the advance held in another province is drawn there once our city is late.
        if scope == AdvanceEntry.Scope.CROSS and payment.due_on >= on:
            raise DomainError(f"付款截止日 {payment.due_on:%Y-%m-%d} 尚未过去，暂不使用预付金先行支付。")
        needed = payment.outstanding - payment.advance_outstanding
        if needed <= 0:
            raise DomainError("未到账部分已经由预付金先行支付。")
        parts = _split_by_breakdown(payment, needed)
        used = ZERO
        for province, part in parts.items():
            balance = advance_balance(year=payment.year, scope=scope, region=payment.region_id, province=province)
            take = min(part, max(balance, ZERO))
            if take <= 0:
                continue
            AdvanceEntry.objects.create(
                year=payment.year, scope=scope, region=payment.region, province_id=province,
                kind=AdvanceEntry.Kind.USAGE, amount=-take, entry_date=on, payment=payment,
                note=f"{payment}逾期未到账，先行支付", recorded_by=by if getattr(by, "pk", None) else None,
            )
            used += take
        if used <= 0:
            raise DomainError(f"{payment.region.name}的{AdvanceEntry.Scope(scope).label}余额不足，无法先行支付。")
        payment.advanced_amount += used
        payment.save(update_fields=["advanced_amount"])
        short = "" if used >= needed else f"（预付金余额不足，尚有 {format_yuan(needed - used)} 元未能垫付）"
        _log(payment, by, message=f"使用预付金先行支付 {format_yuan(used)} 元{short}", action=AuditLog.Action.CHANGE)
    return used


def _top_up_advance(payment: PaymentDue, amount: Decimal, on: date, by) -> None:
    open_part = payment.advance_outstanding
    if open_part <= 0:
        return
    top_up = min(open_part, amount)
    scope = _advance_scope(payment)
    for province, part in _split_by_breakdown(payment, top_up).items():
        AdvanceEntry.objects.create(
            year=payment.year, scope=scope, region=payment.region, province_id=province,
            kind=AdvanceEntry.Kind.TOP_UP, amount=part, entry_date=on, payment=payment,
            note=f"收到{payment.region.short_name}上解的清算费用，补足已先行支付的预付金", recorded_by=by,
        )
    payment.topped_up_amount += top_up
    payment.save(update_fields=["topped_up_amount"])


def _book_advance_contribution(payment: PaymentDue, amount: Decimal, on: date, by) -> None:
    """Advance payments received become the city's advance balance."""
    kinds = {
        PaymentDue.Kind.INTRA_ADVANCE: (AdvanceEntry.Scope.INTRA, AdvanceEntry.Kind.CONTRIBUTION),
        PaymentDue.Kind.CROSS_ADVANCE: (AdvanceEntry.Scope.CROSS, AdvanceEntry.Kind.CONTRIBUTION),
        PaymentDue.Kind.EMERGENCY_ADVANCE: (AdvanceEntry.Scope.CROSS, AdvanceEntry.Kind.EMERGENCY),
    }
    if payment.kind not in kinds:
        return
    scope, kind = kinds[payment.kind]
    parts = {None: amount}
    if payment.breakdown:
        weights = {province: Decimal(value) for province, value in payment.breakdown.items() if Decimal(value) > 0}
        if weights:
            parts = {province: part for province, part in rules.split_cents_by_weights(amount, weights).items() if part}
    for province, part in parts.items():
        AdvanceEntry.objects.create(
            year=payment.year, scope=scope, region=payment.region, province_id=province, kind=kind, amount=part,
            entry_date=on, payment=payment, note=f"{payment.get_kind_display()}到账", recorded_by=by,
        )


def advances_cover_overdue(*, today: date | None = None, by=None) -> int:
    """Let the advance pay first for every overdue clearing debt (daily task / command)."""
    today = today or timezone.localdate()
    count = 0
    overdue = PaymentDue.objects.overdue(today).filter(
        kind__in=[PaymentDue.Kind.INTRA_NET_PAYABLE, PaymentDue.Kind.CROSS_PAYABLE]
    )
    for payment in overdue:
        if payment.outstanding - payment.advance_outstanding <= 0:
            continue
        try:
            payment_cover_with_advance(payment=payment, by=by, on=today)
        except DomainError:
            continue
        count += 1
    return count
