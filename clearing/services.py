"""Clearing services: one function per state change (keyword-only, typed).

Views, commands, jobs and the demo all call these. Each checks the current
state, raises DomainError with a message a clearing officer can act on, writes
inside one transaction and leaves an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, DecimalField, Q, Sum
from django.utils import timezone

from clearing import advance_formulas, rules
from clearing.models import (
    DEMO_ID_PREFIX,
    AdvanceEntry,
    AdvancePolicy,
    AdvanceYear,
    ClearingPeriod,
    ClearingResult,
    CrossAdvance,
    CrossAllotment,
    EmergencyIncrease,
    EmergencyIncreaseLine,
    ForeignAdvanceEntry,
    ImportBatch,
    IntraAdvance,
    PaymentDue,
    Scope,
    Settlement,
    Transfer,
)
from core import safe_files
from core.audit import log_action
from core.errors import DomainError
from core.jobs import start_job
from core.jurisdictions import rules_for
from core.models import AuditLog, Region, Role
from core.money import format_yuan, quantize_yuan
from core.reference import home_province_code
from core.validators import MAX_WAN_YUAN
from core.workdays import add_working_days

ZERO = Decimal("0.00")
COMMAND_USER = "命令行"
SUM_FIELD = DecimalField(max_digits=20, decimal_places=2)


def home_cities() -> list[Region]:
    return list(Region.objects.cities_of(home_province_code()).select_related("agency").order_by("sort_order", "code"))


def home_city_codes() -> list[str]:
    return list(Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").values_list("code", flat=True))


def areas() -> rules.Areas:
    return rules.Areas(home_province_code(), tuple(home_city_codes()))


def _who(by) -> dict[str, Any]:
    return {"user": by} if getattr(by, "pk", None) else {"username": COMMAND_USER}


def _log(obj, by, *, from_state: str = "", to_state: str = "", message: str, action=AuditLog.Action.TRANSITION, data=None):
    log_action(action=action, obj=obj, from_state=from_state, to_state=to_state, message=message, data=data, **_who(by))


# --- Periods -------------------------------------------------------------------------


def period_get_or_create(period: str) -> ClearingPeriod:
    try:
        rules.parse_period(period)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    obj, _created = ClearingPeriod.objects.get_or_create(
        period=period,
        defaults={"data_due": rules.data_due(period), "clearing_due": rules.clearing_due(period)},
    )
    return obj


def period_register_import(*, periods: dict[str, int], by=None, dry_run: bool = False) -> list[str]:
    """Called inside an import's transaction: the named periods exist afterwards;
    a computed period that received new rows needs recomputing; a period holding
    seed_demo's data gives it up to the real rows (see period_yield_demo).
    Returns one line per period whose demo data were removed (in a dry run, which
    is rolled back: will be removed)."""
    notes = []
    for code in sorted(periods):
        period_get_or_create(code)
    for period in ClearingPeriod.objects.select_for_update().filter(period__in=list(periods)).order_by("period"):
        inserted = periods[period.period]
        if not inserted:
            continue
        if period.is_demo:
            notes.append(period_yield_demo(period=period, by=by, dry_run=dry_run))
        elif not period.is_editable:
            raise DomainError(f"{period.label}清算的状态已变为“{period.get_status_display()}”，不能再导入新数据，请重新导入。")
        elif period.status == ClearingPeriod.Status.COMPUTED:
            period.results_stale = True
        _count_settlements(period)
        period.save(update_fields=["results_stale", "settlement_count", "late_count", "fund_total"])
    return notes


def _count_settlements(period: ClearingPeriod) -> None:
    """The month's row count, late rows and fund total as the period page shows them, kept
    current by every import (one aggregate over the month's rows), not only by the clearing."""
    totals = Settlement.objects.filter(period=period.period).aggregate(
        count=Count("pk"),
        late=Count("pk", filter=Q(settled_on__lt=rules.period_start(period.period))),
        fund=Sum("fund_amount", output_field=SUM_FIELD),
    )
    period.settlement_count = totals["count"]
    period.late_count = totals["late"]
    period.fund_total = quantize_yuan(totals["fund"] or ZERO)


def period_yield_demo(*, period: ClearingPeriod, by=None, dry_run: bool = False) -> str:
    """Remove seed_demo's records of a month and everything built on them
    (results, payments and transfers, advance entries, emergency increases,
    archived notices) and reset it to 数据采集中, inside the caller's transaction.

    Real data always win over the demo: a real import into a demo month calls
    this, so the month then holds exactly what was imported."""
    from core.models import Document

    demo_rows = Settlement.objects.filter(period=period.period, settlement_id__startswith=DEMO_ID_PREFIX)
    removed = demo_rows.count()
    demo_rows.delete()
    increases = list(EmergencyIncrease.objects.filter(basis_period=period).values_list("pk", flat=True))
    which = Q(period=period)
    for pk in increases:  # 附件6 payments carry no period, only the increase in their notice key
        which |= Q(kind=PaymentDue.Kind.EMERGENCY_ADVANCE, notice_key__endswith=f":{pk}")
    payments = PaymentDue.objects.filter(which)
    AdvanceEntry.objects.filter(payment__in=payments).delete()
    ForeignAdvanceEntry.objects.filter(Q(payment__in=payments) | Q(period=period)).delete()
    Transfer.objects.filter(payment__in=payments).delete()
    payments.delete()
    EmergencyIncrease.objects.filter(pk__in=increases).delete()
    ClearingResult.objects.filter(period=period).delete()
    documents = Document.objects.filter(period=period.period, key__startswith="clearing:")
    batches = ImportBatch.objects.filter(source=ImportBatch.Source.DEMO, summary__periods__has_key=period.period)
    files = [(Document, name) for name in documents.values_list("file", flat=True) if name]
    files += [(ImportBatch, name) for name in batches.values_list("file", flat=True) if name]
    documents.delete()
    batches.delete()
    transaction.on_commit(lambda: [model._meta.get_field("file").storage.delete(name) for model, name in files])
    from_state = period.status
    for name in ("computed_at", "computed_by", "data_closed_at", "data_closed_by", "stamp_date", "payment_due",
                 "issued_at", "issued_by", "settled_at", "closed_at", "closed_by"):
        setattr(period, name, None)
    period.status = ClearingPeriod.Status.OPEN
    period.is_demo = False
    period.results_stale = False
    period.payment_due_confirmed = True
    period.settlement_count = period.late_count = 0
    period.fund_total = ZERO
    if dry_run:  # the caller rolls all of this back: say what a real import will do
        return f"{period.label}：确认导入时将清除该期演示数据（{removed} 条结算明细及其清算结果、通知书和款项），该期重置为“数据采集中”"
    message = f"{period.label}：已清除该期演示数据（{removed} 条结算明细及其清算结果、通知书和款项），该期重置为“数据采集中”"
    _log(period, by, from_state=from_state, to_state=period.status, message=message)
    period.save()
    return message


def _transition(period: ClearingPeriod, *, allowed: tuple[str, ...], to: str, by, message: str, refuse: str) -> ClearingPeriod:
    locked = ClearingPeriod.objects.select_for_update().get(pk=period.pk)
    if locked.status not in allowed:
        raise DomainError(refuse.format(label=locked.label, status=locked.get_status_display()))
    from_state = locked.status
    locked.status = to
    _log(locked, by, from_state=from_state, to_state=to, message=message)
    return locked


def period_close_data(*, period: ClearingPeriod, by) -> ClearingPeriod:
    """截止数据采集: no more uploads expected for the month."""
    with transaction.atomic():
        period = _transition(
            period,
            allowed=(ClearingPeriod.Status.OPEN,),
            to=ClearingPeriod.Status.DATA_CLOSED,
            by=by,
            message="截止本期结算明细采集",
            refuse="{label}清算当前状态为“{status}”，只有“数据采集中”的清算期可以截止数据采集。",
        )
        period.data_closed_at = timezone.now()
        period.data_closed_by = by if getattr(by, "pk", None) else None
        period.save()
    return period


def period_reopen(*, period: ClearingPeriod, by, reason: str) -> ClearingPeriod:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写重新开放数据采集的原因。")
    with transaction.atomic():
        period = _transition(
            period,
            allowed=(ClearingPeriod.Status.DATA_CLOSED, ClearingPeriod.Status.COMPUTED),
            to=ClearingPeriod.Status.OPEN,
            by=by,
            message=f"重新开放数据采集：{reason}",
            refuse="{label}清算当前状态为“{status}”，通知书下达后不能重新开放数据采集。",
        )
        period.results_stale = period.computed_at is not None
        period.save()
    return period


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


def clearing_issue_notices(*, period: ClearingPeriod, by, stamp_date: date | None = None) -> Any:
    """下达通知书: lock the results, fix the stamp date and payment deadline,
    create the payments due and start the job that renders 附件10–13."""
    stamp_date = stamp_date or timezone.localdate()
    with transaction.atomic():
        locked = ClearingPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.status != ClearingPeriod.Status.COMPUTED:
            raise DomainError(f"{locked.label}清算当前状态为“{locked.get_status_display()}”，只有“已生成清算”的清算期可以下达通知书。")
        if locked.results_stale:
            raise DomainError(f"{locked.label}清算生成后又导入了新的结算明细，请先重新生成清算，再下达通知书。")
        due = add_working_days(stamp_date, rules.PAYMENT_WORKING_DAYS)
        locked.status = ClearingPeriod.Status.NOTICES_ISSUED
        locked.stamp_date = stamp_date
        locked.payment_due = due.as_date()
        locked.payment_due_confirmed = due.confirmed
        locked.issued_at = timezone.now()
        locked.issued_by = by if getattr(by, "pk", None) else None
        locked.save()
        _create_period_payments(locked)
        _log(
            locked,
            by,
            from_state=ClearingPeriod.Status.COMPUTED,
            to_state=locked.status,
            message=f"下达清算通知书（签章日期 {stamp_date:%Y-%m-%d}，付款截止 {due:%Y-%m-%d}）",
        )
        # 第四十八条(二)3, 第三十条(二), 第三十一条(三): the province's payouts and the advances' first use.
        from clearing import advance_ledger

        advance_ledger.province_payouts_create(locked)
        pay_on = min(stamp_date, timezone.localdate())
        advance_ledger.intra_advance_pay_receivers(period=locked, by=by, on=pay_on)
        advance_ledger.cross_receivables_cover(period=locked, by=by, on=pay_on)
        job = _start_notice_job(locked, by)
        if not any(PaymentDue.objects.filter(period=locked).values_list("pk", flat=True)[:1]):
            # Nothing to pay or receive: the month is settled as soon as it is issued.
            _maybe_settle(locked, by)
    return job


def _start_notice_job(period: ClearingPeriod, by) -> Any:
    return start_job(
        kind="clearing.render_period_notices",
        title=f"生成{period.label}清算通知书（附件10–13）",
        by=by,
        params={"period_id": period.pk},
        region=Region.objects.get(code=home_province_code()),
    )


def clearing_regenerate_notices(*, period: ClearingPeriod, by) -> Any:
    """A new version of every notice of the month (old versions stay in the archive)."""
    if period.status not in (ClearingPeriod.Status.NOTICES_ISSUED, ClearingPeriod.Status.SETTLED, ClearingPeriod.Status.CLOSED):
        raise DomainError(f"{period.label}清算尚未下达通知书，请先下达。")
    with transaction.atomic():
        _log(period, by, message="重新生成清算通知书（新版本，旧版本保留）", action=AuditLog.Action.CHANGE)
        return _start_notice_job(period, by)


def _create_period_payments(period: ClearingPeriod) -> None:
    from clearing.selectors import period_cells

    cells = period_cells(period)
    positions = rules.intra_positions(cells, home_city_codes())
    matrices = rules.cross_matrices(cells)
    regions = {region.code: region for region in home_cities()}
    due_fields = {"due_on": period.payment_due, "due_confirmed": period.payment_due_confirmed}
    base = {"period": period, "year": period.year}
    rows = []
    for code, position in positions.items():
        net = position.net.total
        if net < 0:
            rows.append(PaymentDue(kind=PaymentDue.Kind.INTRA_NET_PAYABLE, region=regions[code], amount=-net,
                                   notice_key=notice_key(period.period, "annex10"), **base, **due_fields))
        elif net > 0:
            rows.append(PaymentDue(kind=PaymentDue.Kind.INTRA_NET_RECEIVABLE, region=regions[code], amount=net,
                                   notice_key=notice_key(period.period, "annex10"), **base, **due_fields))
    for kind, block, annex in (
        (PaymentDue.Kind.CROSS_PAYABLE, matrices["payable"], "annex12"),
        (PaymentDue.Kind.CROSS_RECEIVABLE, matrices["receivable"], "annex13"),
    ):
        for code, row in block.items():
            total = sum((amounts.total for amounts in row.values()), ZERO)
            if total > 0:
                breakdown = {province: f"{amounts.total:.2f}" for province, amounts in sorted(row.items()) if amounts.total}
                rows.append(PaymentDue(kind=kind, region=regions[code], amount=total, breakdown=breakdown,
                                       notice_key=notice_key(period.period, annex, code), **base, **due_fields))
    PaymentDue.objects.bulk_create(rows)


def notice_key(scope: str, annex: str, region: str = "", extra: str = "") -> str:
    parts = ["clearing", scope, annex]
    if region:
        parts.append(region)
    if extra:
        parts.append(extra)
    return ":".join(parts)


def _maybe_settle(period: ClearingPeriod, by) -> bool:
    if period.status != ClearingPeriod.Status.NOTICES_ISSUED:
        return False
    if PaymentDue.objects.filter(period=period).exclude(status=PaymentDue.Status.PAID).exists():
        return False
    period.status = ClearingPeriod.Status.SETTLED
    period.settled_at = timezone.now()
    period.save(update_fields=["status", "settled_at"])
    _log(period, by, from_state=ClearingPeriod.Status.NOTICES_ISSUED, to_state=period.status, message="本期应收应付款项已全部结清")
    return True


def period_close(*, period: ClearingPeriod, by) -> ClearingPeriod:
    with transaction.atomic():
        period = _transition(
            period,
            allowed=(ClearingPeriod.Status.SETTLED,),
            to=ClearingPeriod.Status.CLOSED,
            by=by,
            message="关闭清算期（账务已核对）",
            refuse="{label}清算当前状态为“{status}”，款项全部结清后才能关闭。",
        )
        period.closed_at = timezone.now()
        period.closed_by = by if getattr(by, "pk", None) else None
        period.save()
    return period


# --- Payments ------------------------------------------------------------------------


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


# --- Advances ------------------------------------------------------------------------


def advance_policy_for(year: int) -> AdvancePolicy:
    policy = (
        AdvancePolicy.objects.filter(province_id=home_province_code(), effective_year__lte=year).order_by("-effective_year").first()
    )
    if policy is None:
        raise DomainError("没有配置预付金测算规则（系统管理 → 预付金测算规则），无法测算。")
    return policy


def advance_year(year: int) -> AdvanceYear:
    obj, _ = AdvanceYear.objects.get_or_create(year=year)
    return obj


def _year_results(year: int, scope: str):
    return ClearingResult.objects.filter(period__period__startswith=f"{year:04d}-", scope=scope)


def last_year_status(year: int) -> dict[str, Any]:
    """How complete last year's clearing is (advances are computed from it)."""
    previous = year - 1
    computed = set(
        ClearingPeriod.objects.filter(period__startswith=f"{previous:04d}-", computed_at__isnull=False).values_list("period", flat=True)
    )
    missing = [month for month in rules.months_of_year(previous) if month not in computed]
    return {"year": previous, "computed": len(computed), "missing": missing}


def city_net_by_month(year: int) -> dict[str, dict[str, Decimal]]:
    """{city: {period: net}} of the intra-province clearing of a year (aggregated in the database)."""
    result: dict[str, dict[str, Decimal]] = {}
    rows = (
        _year_results(year, Scope.INTRA)
        .values("period__period", "insured_area", "treatment_area")
        .annotate(amount=Sum("employee_amount") + Sum("resident_amount"))
        .order_by()
    )
    for row in rows:
        month = row["period__period"]
        result.setdefault(row["treatment_area"], {}).setdefault(month, ZERO)
        result.setdefault(row["insured_area"], {}).setdefault(month, ZERO)
        result[row["treatment_area"]][month] += row["amount"]
        result[row["insured_area"]][month] -= row["amount"]
    return result


def intra_advances_compute(*, year: int, by) -> list[IntraAdvance]:
    """附件2: each city's intra-province advance from last year's clearing results."""
    policy = advance_policy_for(year)
    record = advance_year(year)
    if record.intra_issued_at:
        raise DomainError(f"{year}年省内预付金通知书已下达，额度不能再重新测算。")
    nets = city_net_by_month(year - 1)
    previous = dict(IntraAdvance.objects.filter(year=year - 1).values_list("region_id", "approved_amount"))
    carried = _carried_over(year, AdvanceEntry.Scope.INTRA)
    rows = []
    with transaction.atomic():
        for city in home_cities():
            months = nets.get(city.code, {})
            basis, approved = rules.intra_advance_amount(
                method=policy.method,
                factor=policy.factor,
                year_net=sum(months.values(), ZERO),
            )
            carry = carried.get((city.code, None), 0)
            advance, _ = IntraAdvance.objects.update_or_create(
                year=year,
                region=city,
                defaults={
                    "basis_amount": basis,
                    "previous_amount": previous.get(city.code, 0),
                    "approved_amount": approved,
                    "carry_over": carry,
                    "actual_amount": approved - carry,
                },
            )
            rows.append(advance)
        record = AdvanceYear.objects.select_for_update().get(pk=record.pk)
        record.intra_computed_at = timezone.now()
        record.intra_computed_by = by if getattr(by, "pk", None) else None
        record.intra_method = policy.method
        record.intra_factor = policy.factor
        record.intra_formula = policy.formula_text
        record.save()
        total = sum(row.approved_amount for row in rows)
        _log(record, by, message=f"测算省内预付金额度：{policy.get_method_display()}（{policy.factor.normalize()}），合计 {total} 万元",
             action=AuditLog.Action.CHANGE)
    return rows


def _carried_over(year: int, scope: str) -> dict[tuple[str, str | None], int]:
    """The previous year's closing balances carried into `year`, in whole 万元."""
    from core.money import yuan_to_wanyuan

    rows = (
        AdvanceEntry.objects.filter(year=year, scope=scope, kind=AdvanceEntry.Kind.CARRY_IN)
        .values("region_id", "province_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(row["region_id"], row["province_id"]): yuan_to_wanyuan(row["total"]) for row in rows}


def advances_carry_over(*, year: int, by) -> int:
    """第三十二条: last year's closing balances carry over and reduce this year's amount."""
    record = advance_year(year)
    with transaction.atomic():
        record = AdvanceYear.objects.select_for_update().get(pk=record.pk)
        if record.carried_over_at:
            raise DomainError(f"{year - 1}年末预付金余额已于 {timezone.localtime(record.carried_over_at):%Y-%m-%d} 结转，不能重复结转。")
        balances = (
            AdvanceEntry.objects.filter(year=year - 1)
            .values("scope", "region_id", "province_id")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        entries = []
        closing = date(year - 1, 12, 31)
        opening = date(year, 1, 1)
        user = by if getattr(by, "pk", None) else None
        for row in balances:
            if row["total"] <= 0:
                continue
            common = {"scope": row["scope"], "region_id": row["region_id"], "province_id": row["province_id"], "recorded_by": user}
            entries.append(AdvanceEntry(year=year - 1, kind=AdvanceEntry.Kind.CARRY_OUT, amount=-row["total"], entry_date=closing,
                                        note=f"{year - 1}年末余额结转{year}年", **common))
            entries.append(AdvanceEntry(year=year, kind=AdvanceEntry.Kind.CARRY_IN, amount=row["total"], entry_date=opening,
                                        note=f"{year - 1}年末余额结转，抵减本年预付金额度", **common))
        AdvanceEntry.objects.bulk_create(entries)
        record.carried_over_at = timezone.now()
        record.save()
        _log(record, by, message=f"结转{year - 1}年末预付金余额（{len(entries) // 2} 个账户）", action=AuditLog.Action.CHANGE)
    return len(entries) // 2


def cross_allotments_save(*, year: int, amounts: dict[str, int], by, source: str = CrossAllotment.Source.ENTERED) -> int:
    """The national system's per-province amounts for the year (万元), entered or imported."""
    record = advance_year(year)
    if record.cross_issued_at:
        raise DomainError(f"{year}年跨省预付金通知书已下达，省级额度不能再修改。")
    provinces = {region.code: region for region in Region.objects.provinces().exclude(code=home_province_code())}
    unknown = sorted(code for code in amounts if code not in provinces)
    if unknown:
        raise DomainError(f"不认识的省份代码：{'、'.join(unknown)}。")
    negative = sorted(provinces[code].short_name for code, amount in amounts.items() if amount < 0)
    if negative:
        raise DomainError(f"额度不能为负数：{'、'.join(negative)}。")
    with transaction.atomic():
        for code, amount in amounts.items():
            CrossAllotment.objects.update_or_create(
                year=year, province_id=code,
                defaults={"amount": amount, "source": source, "entered_by": by if getattr(by, "pk", None) else None},
            )
        _log(record, by, message=f"{'导入' if source == CrossAllotment.Source.IMPORTED else '录入'}跨省预付金省级额度 {len(amounts)} 个省份，合计 {sum(amounts.values())} 万元",
             action=AuditLog.Action.CHANGE)
    return len(amounts)


def parse_allotment_rows(rows: list[dict[str, str]]) -> dict[str, int]:
    """An imported allotment table: columns 省份 (code or name) and 额度（万元）."""
    by_name = {}
    for region in Region.objects.provinces().exclude(code=home_province_code()):
        for name in (region.code, region.name, region.short_name):
            by_name[name] = region.code
    province_keys = ("province", "省份", "省份代码", "地区", "预付金划入")
    amount_keys = ("amount", "额度", "本年核定额度", "额度（万元）", "额度(万元)", "金额（万元）")
    result: dict[str, int] = {}
    problems = []
    for index, row in enumerate(rows, start=2):
        province_raw = safe_files.to_halfwidth(next((row[key] for key in province_keys if row.get(key)), "")).replace(" ", "")
        amount_raw = safe_files.to_halfwidth(next((row[key] for key in amount_keys if row.get(key)), "")).replace(",", "")
        if not province_raw and not amount_raw:
            continue
        code = by_name.get(province_raw)
        if code is None:
            problems.append(f"第 {index} 行：不认识的省份“{province_raw}”")
            continue
        try:
            if not amount_raw.isascii():
                raise ArithmeticError(amount_raw)
            amount = Decimal(amount_raw)
            if not amount.is_finite():
                raise ArithmeticError(amount_raw)
        except ArithmeticError:
            problems.append(f"第 {index} 行：额度“{amount_raw}”不是数字")
            continue
        if not amount.is_finite() or amount < 0 or amount > MAX_WAN_YUAN:
            problems.append(f"第 {index} 行：额度“{amount_raw}”超出范围（0–{MAX_WAN_YUAN:,} 万元）")
            continue
        if amount != amount.to_integral_value():
            problems.append(f"第 {index} 行：额度以万元为单位，不保留小数（{amount_raw}）")
            continue
        if code in result:
            problems.append(f"第 {index} 行：省份“{province_raw}”重复")
            continue
        result[code] = int(amount)
    if problems:
        raise DomainError("额度文件有错误，未导入：\n" + "\n".join(problems))
    if not result:
        raise DomainError("额度文件中没有数据：需要“省份”和“额度（万元）”两列。")
    return result


def cross_weights(year: int) -> dict[str, Decimal]:
    """Each city's cross-province fund spending of a year (yuan)."""
    rows = (
        _year_results(year, Scope.CROSS_OUT)
        .values("insured_area")
        .annotate(total=Sum("employee_amount") + Sum("resident_amount"))
        .order_by()
    )
    weights = {code: ZERO for code in home_city_codes()}
    for row in rows:
        weights[row["insured_area"]] = row["total"]
    return weights


def cross_advances_compute(*, year: int, by) -> list[CrossAdvance]:
    """附件4: split each province's amount over the cities by their share of last
    year's cross-province fund spending (第三十一条(一)), whole 万元 with the
    parts adding up to the national figure."""
    record = advance_year(year)
    if record.cross_issued_at:
        raise DomainError(f"{year}年跨省预付金通知书已下达，额度不能再重新测算。")
    formula = rules_for(home_province_code(), on=date(year, 1, 1)).cross_advance
    if formula.method == advance_formulas.METHOD_Q4_MONTHLY_AVERAGE:  # 新疆 四(一)
        return advance_formulas.cross_advances_compute_q4(year=year, by=by, factor=formula.factor, article=formula.article)
    allotments = list(CrossAllotment.objects.filter(year=year).select_related("province"))
    if not allotments:
        raise DomainError(f"还没有录入或导入{year}年国家异地就医系统下达的各省跨省预付金额度。")
    weights = cross_weights(year - 1)
    if not any(value > 0 for value in weights.values()):
        raise DomainError(f"{year - 1}年没有跨省清算结果，无法按各设区市跨省基金支出占比分摊。")
    share = rules.shares(weights)
    previous = _previous_cross_amounts(year - 1)
    carried = _carried_over(year, AdvanceEntry.Scope.CROSS)
    cities = {city.code: city for city in home_cities()}
    rows = []
    with transaction.atomic():
        CrossAdvance.objects.filter(year=year).exclude(province_id__in=[a.province_id for a in allotments]).delete()
        for allotment in allotments:
            parts = rules.split_by_weights(allotment.amount, weights)
            for code, city in cities.items():
                carry = carried.get((code, allotment.province_id), 0)
                advance, _ = CrossAdvance.objects.update_or_create(
                    year=year, region=city, province=allotment.province,
                    defaults={
                        "share": share[code],
                        "previous_amount": previous.get((code, allotment.province_id), 0),
                        "approved_amount": parts[code],
                        "carry_over": carry,
                        "actual_amount": parts[code] - carry,
                    },
                )
                rows.append(advance)
        record = AdvanceYear.objects.select_for_update().get(pk=record.pk)
        record.cross_computed_at = timezone.now()
        record.cross_computed_by = by if getattr(by, "pk", None) else None
        record.save()
        _log(record, by, message=f"按{year - 1}年各设区市跨省基金支出占比分摊跨省预付金（{len(allotments)} 个省份）",
             action=AuditLog.Action.CHANGE)
    return rows


def _previous_cross_amounts(year: int) -> dict[tuple[str, str], int]:
    """上年度额度: last year's approved amounts including emergency increases."""
    amounts: dict[tuple[str, str], int] = {}
    for region, province, amount in CrossAdvance.objects.filter(year=year).values_list("region_id", "province_id", "approved_amount"):
        amounts[(region, province)] = amounts.get((region, province), 0) + amount
    lines = EmergencyIncreaseLine.objects.filter(increase__year=year).values_list("region_id", "increase__province_id", "amount")
    for region, province, amount in lines:
        amounts[(region, province)] = amounts.get((region, province), 0) + amount
    return amounts


def advances_issue_notices(*, year: int, scope: str, by, stamp_date: date | None = None) -> Any:
    """下达 附件2/3 (intra) or 附件4/5 (cross): fix the stamp date, create the
    payments due, start the rendering job."""
    stamp_date = stamp_date or timezone.localdate()
    record = advance_year(year)
    with transaction.atomic():
        record = AdvanceYear.objects.select_for_update().get(pk=record.pk)
        if scope == "intra":
            if not record.intra_computed_at:
                raise DomainError(f"请先测算{year}年省内预付金额度。")
            if record.intra_issued_at:
                raise DomainError(f"{year}年省内预付金通知书已下达；如需新版本请使用“重新生成通知书”。")
            due = add_working_days(stamp_date, rules.INTRA_ADVANCE_WORKING_DAYS)
            for advance in IntraAdvance.objects.filter(year=year, actual_amount__gt=0).select_related("region"):
                PaymentDue.objects.create(
                    kind=PaymentDue.Kind.INTRA_ADVANCE, year=year, region=advance.region,
                    amount=Decimal(advance.actual_amount) * 10000, due_on=due.as_date(), due_confirmed=due.confirmed,
                    notice_key=notice_key(str(year), "annex03", advance.region_id),
                )
            record.intra_issued_at = timezone.now()
            record.intra_stamp_date = stamp_date
            title = f"生成{year}年省内预付金明细表与付款通知书（附件2、3）"
        elif scope == "cross":
            if not record.cross_computed_at:
                raise DomainError(f"请先测算{year}年跨省预付金额度。")
            if record.cross_issued_at:
                raise DomainError(f"{year}年跨省预付金通知书已下达；如需新版本请使用“重新生成通知书”。")
            due = add_working_days(stamp_date, rules.CROSS_ADVANCE_WORKING_DAYS)
            per_city: dict[str, dict[str, int]] = {}
            for region, province, actual in CrossAdvance.objects.filter(year=year).values_list("region_id", "province_id", "actual_amount"):
                per_city.setdefault(region, {})[province] = actual
            cities = {city.code: city for city in home_cities()}
            for code, row in per_city.items():
                total = sum(row.values())
                if total <= 0:
                    continue
                PaymentDue.objects.create(
                    kind=PaymentDue.Kind.CROSS_ADVANCE, year=year, region=cities[code],
                    amount=Decimal(total) * 10000, due_on=due.as_date(), due_confirmed=due.confirmed,
                    notice_key=notice_key(str(year), "annex05", code),
                    breakdown={province: f"{Decimal(value) * 10000:.2f}" for province, value in sorted(row.items()) if value > 0},
                )
            from clearing import advance_ledger

            advance_ledger.cross_advance_payouts_create(year)  # 第三十一条(一): out before the end of February
            record.cross_issued_at = timezone.now()
            record.cross_stamp_date = stamp_date
            title = f"生成{year}年跨省预付金明细表与额度调整付款通知书（附件4、5）"
        else:  # pragma: no cover - programming error
            raise ValueError(scope)
        record.save()
        _log(record, by, message=f"下达{title[2:]}，签章日期 {stamp_date:%Y-%m-%d}，付款截止 {due:%Y-%m-%d}",
             action=AuditLog.Action.TRANSITION, to_state=f"{scope}_issued")
        return _start_advance_job(year, scope, by, title)


def _start_advance_job(year: int, scope: str, by, title: str) -> Any:
    return start_job(
        kind="clearing.render_advance_notices", title=title, by=by, params={"year": year, "scope": scope},
        region=Region.objects.get(code=home_province_code()),
    )


def advances_regenerate_notices(*, year: int, scope: str, by) -> Any:
    record = advance_year(year)
    issued = record.intra_issued_at if scope == "intra" else record.cross_issued_at
    if not issued:
        raise DomainError("通知书尚未下达。")
    annexes = "附件2、3" if scope == "intra" else "附件4、5"
    with transaction.atomic():
        _log(record, by, message=f"重新生成{year}年预付金通知书（{annexes}，新版本，旧版本保留）", action=AuditLog.Action.CHANGE)
        return _start_advance_job(year, scope, by, f"重新生成{year}年预付金通知书（{annexes}）")


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


# --- Imports from the upload page ----------------------------------------------------


def import_batch_create(*, upload, by, skip_invalid: bool = False) -> ImportBatch:
    """Keep an uploaded file and start checking it (a dry run) in the background."""
    import hashlib

    name = upload.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    if not name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
        raise DomainError("只能上传 CSV 或 XLSX 文件。")
    too_large = safe_files.upload_size_error(upload.size, safe_files.settlement_limits())
    if too_large:
        raise DomainError(too_large, code="too_large")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    region = by.region if by.region_code else None
    with transaction.atomic():
        batch = ImportBatch(
            filename=name, size=upload.size, sha256=digest.hexdigest(), created_by=by, region=region,
            source=ImportBatch.Source.UPLOAD, skip_invalid=skip_invalid,
        )
        batch.file.save(name, upload, save=False)
        batch.save()
        _log(batch, by, message=f"上传结算明细文件 {name}（{upload.size} 字节）", action=AuditLog.Action.IMPORT)
        import_batch_start(batch=batch, by=by, commit=False)
    return batch


def import_batch_start(*, batch: ImportBatch, by, commit: bool) -> Any:
    updated = ImportBatch.objects.filter(pk=batch.pk).exclude(status__in=[ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING])
    if commit:
        if batch.status == ImportBatch.Status.IMPORTED:
            raise DomainError("这个文件已经导入。")
        if batch.status == ImportBatch.Status.REJECTED and not batch.skip_invalid:
            raise DomainError("文件校验未通过，不能导入；请修改后重新上传，或勾选“仅导入有效行”重新校验。")
        if batch.status not in (ImportBatch.Status.CHECKED, ImportBatch.Status.REJECTED, ImportBatch.Status.FAILED):
            raise DomainError("请先等待校验完成，查看预览后再确认导入。")
    status = ImportBatch.Status.IMPORTING if commit else ImportBatch.Status.CHECKING
    if not updated.update(status=status):
        raise DomainError("这个文件正在校验或导入，请稍候。")
    verb = "导入" if commit else "校验"
    job = start_job(
        kind="clearing.import_settlements",
        title=f"{verb}结算明细 {batch.filename}",
        by=by,
        params={"batch_id": batch.pk, "commit": commit},
        region=batch.region,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    if commit:
        ImportBatch.objects.filter(pk=batch.pk).update(imported_by=by if getattr(by, "pk", None) else None)
    # After the job's dispatch (on_commit runs callbacks in order): a job that
    # could not be queued (broker down) fails its batch at once, with the reason.
    transaction.on_commit(lambda: import_batches_fail_lost_jobs(batch_id=batch.pk))
    return job


#: A batch in these states has a job at work on it (or about to have one).
IMPORT_BUSY = (ImportBatch.Status.UPLOADED, ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING)
IMPORT_JOB_LOST = "后台任务已中断（服务重启、任务进程退出或超时），文件中的数据均未写入。请重新上传或重新确认导入。"


def import_batch_fail(*, batch_id: int, reason: str) -> bool:
    """Mark a settlement import that is being checked or imported as failed, with
    the reason its page shows. The one way an import job that cannot finish ends:
    the job's own failure (clearing.jobs), a job that could not be queued, and a
    job found dead or stale (`import_batches_fail_lost_jobs`) all come here.

    Runs in its own transaction: it holds even when the job's work was rolled
    back. False when the batch had already finished (nothing changes then)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id, status__in=IMPORT_BUSY).first()
        if batch is None:
            return False
        before = batch.status
        batch.status = ImportBatch.Status.FAILED
        batch.file_error = reason[:2000]
        batch.save(update_fields=["status", "file_error"])
        log_action(
            action=AuditLog.Action.TRANSITION, obj=batch, from_state=before, to_state=batch.status,
            message=f"结算明细文件 {batch.filename} 处理失败：{reason}"[:500], username="系统（后台任务）",
        )
    return True


def import_batches_fail_lost_jobs(*, batch_id: int | None = None) -> int:
    """Busy batches whose job has failed without finishing them (never queued: the
    broker was down; or marked failed as dead or stale) fail with the job's reason.
    One query when there is none (the import pages call it on every visit)."""
    from core.models import Job

    stuck = ImportBatch.objects.filter(status__in=IMPORT_BUSY, job__status=Job.Status.FAILED)
    if batch_id is not None:
        stuck = stuck.filter(pk=batch_id)
    failed = 0
    for pk, error in stuck.values_list("pk", "job__error"):
        failed += import_batch_fail(batch_id=pk, reason=error or IMPORT_JOB_LOST)
    return failed


def import_batch_apply_report(*, batch: ImportBatch, report, commit: bool) -> ImportBatch:
    """Store what the importer found on the batch."""
    from clearing.importers import ImportReport

    assert isinstance(report, ImportReport)
    now = timezone.now()
    batch.encoding = report.encoding
    batch.row_count = report.rows
    batch.error_count = report.error_count
    batch.file_error = report.file_error
    batch.errors = [error.as_json() for error in report.sorted_errors()[:2000]]
    batch.summary = report.summary_json()
    batch.preview = report.preview
    batch.seconds = round(report.seconds, 3)
    batch.inserted_count = report.inserted
    batch.skipped_count = report.skipped
    if commit:
        batch.status = ImportBatch.Status.IMPORTED if report.committed else ImportBatch.Status.REJECTED
        batch.imported_at = now if report.committed else None
    else:
        batch.status = ImportBatch.Status.CHECKED if report.ok else ImportBatch.Status.REJECTED
        batch.checked_at = now
    batch.save()
    if commit and report.committed:  # the import has committed: refresh the monitoring aggregates of its months
        from monitoring.services import summary_after_import

        summary_after_import(periods=[period for period, data in report.periods.items() if data.get("inserted")])
    return batch
