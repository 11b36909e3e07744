"""下达 a month's clearing notices: lock the results, create the payments due and
the province's first payouts, start the job that renders 附件10–13."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from clearing import rules
from clearing.models import ClearingPeriod, PaymentDue
from clearing.services.common import ZERO, _log, home_cities, home_city_codes, notice_key
from clearing.services.periods import _maybe_settle
from core.errors import DomainError
from core.jobs import start_job
from core.models import AuditLog, Region
from core.reference import home_province_code
from core.workdays import add_working_days


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
