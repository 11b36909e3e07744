"""A clearing month's life: created by imports (demo data give way to real ones),
data collection closed or reopened, settled when all is paid, closed."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clearing import rules
from clearing.models import (
    DEMO_ID_PREFIX,
    AdvanceEntry,
    ClearingPeriod,
    ClearingResult,
    EmergencyIncrease,
    ForeignAdvanceEntry,
    ImportBatch,
    PaymentDue,
    Settlement,
    Transfer,
)
from clearing.services.common import SUM_FIELD, ZERO, _log
from core.errors import DomainError
from core.money import quantize_yuan


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
