"""How the advances are used (预付金的使用) and the province's own payment deadlines.

- 第三十条(二): as soon as a month's clearing is issued, the province pays the
  net-receiver cities from the intra-province advance before the net payers' money
  arrives; the advance is topped up when it does (services.transfer_record).
- 第三十一条(三): advances other provinces keep in our finance account (外省预付金)
  pay our cities' cross-province receivables from that province until its clearing
  money arrives, then are topped up.
- 第四十八条(二)3: province finance pays other provinces' clearing money by the 25th.
- 第三十一条(一): the province pays the cross-province advance out before the end of February.

The formulas that size the advances are not here (they are per-province rule data).
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from clearing import rules
from clearing.models import AdvanceEntry, ClearingPeriod, CrossAdvance, ForeignAdvanceEntry, PaymentDue
from core.errors import DomainError
from core.jurisdictions import rules_for
from core.models import AuditLog, Region
from core.money import format_yuan, quantize_yuan

ZERO = Decimal("0.00")

#: 第四十八条(二)3: “省财政部门归集后，应于每月25日前将应付清算费用划拨至外省省级财政专户”.
CROSS_PAYOUT_DAY = 25


# --- Pure rules ------------------------------------------------------------------------


def cross_payout_due(city_due: date) -> date:
    """The 25th by which province finance pays other provinces (第四十八条(二)3): the first
    25th on or after the day the cities' money is due at the province."""
    if city_due.day <= CROSS_PAYOUT_DAY:
        return city_due.replace(day=CROSS_PAYOUT_DAY)
    year, month = (city_due.year + 1, 1) if city_due.month == 12 else (city_due.year, city_due.month + 1)
    return date(year, month, CROSS_PAYOUT_DAY)


def cross_advance_payout_due(year: int) -> date:
    """第三十一条(一): “于每年2月底前将本年应付的跨省预付金拨付至外省省级财政专户”."""
    return date(year, 2, calendar.monthrange(year, 2)[1])


def emergency_split_weights(costs: dict[str, Decimal], patients: dict[str, int]) -> dict[str, Decimal]:
    """附件6 “按照你单位在就医省的就医人数及费用情况”: each city's weight is its share of the
    patients (人次 settled there) plus its share of the costs, equally."""
    total_cost = sum(costs.values(), Decimal(0))
    total_patients = sum(patients.values())
    weights = {}
    for code in set(costs) | set(patients):
        weight = Decimal(0)
        if total_cost > 0:
            weight += Decimal(costs.get(code, 0)) / total_cost
        if total_patients > 0:
            weight += Decimal(patients.get(code, 0)) / Decimal(total_patients)
        weights[code] = weight
    return weights


# --- The province's payments to other provinces ------------------------------------------


def province_payouts_create(period: ClearingPeriod) -> list[PaymentDue]:
    """At issue: what the province pays each other province for the month (the sum of the
    cities' 附件12 lines towards it), due by the 25th (第四十八条(二)3)."""
    totals: dict[str, Decimal] = {}
    for payment in PaymentDue.objects.filter(period=period, kind=PaymentDue.Kind.CROSS_PAYABLE):
        for province, amount in (payment.breakdown or {}).items():
            totals[province] = totals.get(province, ZERO) + Decimal(amount)
    due = cross_payout_due(period.payment_due)
    regions = Region.objects.in_bulk(list(totals))
    rows = [
        PaymentDue(
            kind=PaymentDue.Kind.CROSS_PAYOUT, period=period, year=period.year, region=regions[code], amount=amount,
            due_on=due, notice_key=f"clearing:{period.period}:annex11",
        )
        for code, amount in sorted(totals.items())
        if amount > 0
    ]
    return PaymentDue.objects.bulk_create(rows)


def cross_advance_payouts_create(year: int) -> list[PaymentDue]:
    """At issue of 附件4/5: the cross-province advance the province pays each other
    province, due before the end of February (第三十一条(一))."""
    totals = (
        CrossAdvance.objects.filter(year=year, actual_amount__gt=0)
        .order_by()
        .values("province_id")
        .annotate(total=Sum("actual_amount"))
    )
    regions = Region.objects.in_bulk([row["province_id"] for row in totals])
    due = cross_advance_payout_due(year)
    rows = [
        PaymentDue(
            kind=PaymentDue.Kind.CROSS_ADVANCE_PAYOUT, year=year, region=regions[row["province_id"]],
            amount=Decimal(row["total"]) * 10000, due_on=due, notice_key=f"clearing:{year}:annex04",
        )
        for row in totals
    ]
    return PaymentDue.objects.bulk_create(rows)


# --- 第三十条(二): the intra-province advance pays the receivers at once ---------------------


def _province_pays(payment: PaymentDue, amount: Decimal, *, on: date, by, note: str) -> None:
    from clearing.services import transfer_record

    transfer_record(payment=payment, amount=amount, transferred_on=on, by=by, voucher_no="预付金先行支付", note=note)


def intra_advance_pay_receivers(*, period: ClearingPeriod, by, on: date) -> Decimal:
    """第三十条(二): “在差出设区市清算费用未上解到位前，使用省内预付金先行支付差进设区市应收的清算费用”.

    Each net payer's advance covers its payable (a USAGE entry, topped up when its money
    arrives); what the advances cover is paid out to the net receivers right away, split
    by their amounts to the cent. Returns the amount paid out."""
    covered = ZERO
    for payment in PaymentDue.objects.filter(period=period, kind=PaymentDue.Kind.INTRA_NET_PAYABLE).select_related("region"):
        balance = _intra_balance(payment.year, payment.region_id)
        take = min(payment.outstanding - payment.advance_outstanding, max(balance, ZERO))
        if take <= 0:
            continue
        AdvanceEntry.objects.create(
            year=payment.year, scope=AdvanceEntry.Scope.INTRA, region=payment.region, kind=AdvanceEntry.Kind.USAGE,
            amount=-take, entry_date=on, payment=payment, recorded_by=by if getattr(by, "pk", None) else None,
            note=f"{period.label}清算生成，{payment.region.short_name}清算费用上解前先行支付差进设区市（第三十条(二)）",
        )
        payment.advanced_amount += take
        payment.save(update_fields=["advanced_amount"])
        covered += take
    if covered <= 0:
        return ZERO
    receivers = {
        payment.pk: payment for payment in PaymentDue.objects.filter(period=period, kind=PaymentDue.Kind.INTRA_NET_RECEIVABLE)
    }
    weights = {pk: payment.amount for pk, payment in receivers.items()}
    total_due = sum(weights.values(), ZERO)
    shares = rules.split_cents_by_weights(min(covered, total_due), weights)
    for pk, share in shares.items():
        if share > 0:
            _province_pays(receivers[pk], share, on=on, by=by, note=f"省内预付金先行支付{rules_for(None).cited('intra_advance_use')}")
    return covered


def _intra_balance(year: int, region: str) -> Decimal:
    # quantized: SQLite sums its decimal column in floating point
    return quantize_yuan(
        AdvanceEntry.objects.filter(year=year, scope=AdvanceEntry.Scope.INTRA, region_id=region).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )


# --- 第三十一条(三): other provinces' advances (外省预付金) ------------------------------------


def foreign_advance_balance(*, year: int, province: str) -> Decimal:
    return quantize_yuan(ForeignAdvanceEntry.objects.filter(year=year, province_id=province).aggregate(total=Sum("amount"))["total"] or ZERO)


def foreign_advance_receive(*, year: int, province: Region, amount: Decimal, on: date, by) -> ForeignAdvanceEntry:
    """An advance another province paid into our finance account (外省预付金到账)."""
    from clearing.services.common import _log

    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("外省预付金到账金额必须大于零，最多两位小数。")
    if on > timezone.localdate():
        raise DomainError("到账日期不能晚于今天。")
    if province.level != Region.Level.PROVINCE or province.code == _home():
        raise DomainError("外省预付金只能来自其他省份。")
    with transaction.atomic():
        entry = ForeignAdvanceEntry.objects.create(
            year=year, province=province, kind=ForeignAdvanceEntry.Kind.RECEIVED, amount=amount, entry_date=on,
            recorded_by=by, note=f"{province.short_name}{year}年跨省预付金到账",
        )
        _log(entry, by, message=f"登记{province.short_name}预付金到账 {format_yuan(amount)} 元", action=AuditLog.Action.CREATE)
    return entry


def _home() -> str:
    from core.reference import home_province_code

    return home_province_code()


def cross_receivables_cover(*, period: ClearingPeriod, by, on: date) -> Decimal:
    """第三十一条(三): at issue, each other province's advance held here pays our cities'
    receivables from that province (附件13 lines) as far as it goes."""
    paid = ZERO
    payments = PaymentDue.objects.filter(period=period, kind=PaymentDue.Kind.CROSS_RECEIVABLE).select_related("region")
    for payment in payments.order_by("region__sort_order"):
        taken = ZERO
        for province, part in sorted((payment.breakdown or {}).items()):
            take = min(Decimal(part), max(foreign_advance_balance(year=period.year, province=province), ZERO))
            if take <= 0:
                continue
            ForeignAdvanceEntry.objects.create(
                year=period.year, province_id=province, kind=ForeignAdvanceEntry.Kind.USAGE, amount=-take, entry_date=on,
                period=period, payment=payment, recorded_by=by if getattr(by, "pk", None) else None,
                note=f"{period.label}外省清算费用未到位，先行支付{payment.region.short_name}应收"
                f"{rules_for(None).cited('cross_advance_use')}",
            )
            taken += take
        if taken > 0:
            _province_pays(payment, taken, on=on, by=by, note=f"外省预付金先行支付{rules_for(None).cited('cross_advance_use')}")
            paid += taken
    return paid


def foreign_clearing_receive(*, period: ClearingPeriod, province: Region, amount: Decimal, on: date, by) -> Decimal:
    """Another province's clearing money for the month arrived: top up its advance by what
    was used for the month (第三十一条(三) “收到外省拨付的清算费用后，补足已使用的预付金”).
    Returns the amount topped up; the rest pays what is still open through finance."""
    from clearing.services.common import _log

    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("到账金额必须大于零，最多两位小数。")
    if on > timezone.localdate():
        raise DomainError("到账日期不能晚于今天。")
    with transaction.atomic():
        ClearingPeriod.objects.select_for_update().get(pk=period.pk)
        open_use = -quantize_yuan(
            ForeignAdvanceEntry.objects.filter(
                period=period, province=province, kind__in=[ForeignAdvanceEntry.Kind.USAGE, ForeignAdvanceEntry.Kind.TOP_UP]
            ).aggregate(total=Sum("amount"))["total"]
            or ZERO
        )
        top_up = min(amount, max(open_use, ZERO))
        if top_up > 0:
            ForeignAdvanceEntry.objects.create(
                year=period.year, province=province, kind=ForeignAdvanceEntry.Kind.TOP_UP, amount=top_up, entry_date=on,
                period=period, recorded_by=by, note=f"收到{province.short_name}{period.label}清算费用，补足已使用的预付金",
            )
        _log(period, by, action=AuditLog.Action.CHANGE,
             message=f"{province.short_name}{period.label}清算费用到账 {format_yuan(amount)} 元，补足外省预付金 {format_yuan(top_up)} 元")
    return top_up


# --- Selectors -----------------------------------------------------------------------------


def ledger_totals(year: int) -> dict[str, Decimal]:
    """Every advance ledger of a year summed: what the cities' own advances and the
    other provinces' advances hold, and what of them is out (used, not yet topped up)."""
    own = AdvanceEntry.objects.filter(year=year).aggregate(
        balance=Sum("amount"),
        used=Sum("amount", filter=Q(kind=AdvanceEntry.Kind.USAGE)),
        topped=Sum("amount", filter=Q(kind=AdvanceEntry.Kind.TOP_UP)),
        paid_in=Sum("amount", filter=Q(kind__in=[AdvanceEntry.Kind.CONTRIBUTION, AdvanceEntry.Kind.EMERGENCY, AdvanceEntry.Kind.CARRY_IN])),
    )
    foreign = ForeignAdvanceEntry.objects.filter(year=year).aggregate(
        balance=Sum("amount"),
        used=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.USAGE)),
        topped=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.TOP_UP)),
        paid_in=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.RECEIVED)),
    )
    return {
        **{f"own_{key}": quantize_yuan(value or ZERO) for key, value in own.items()},
        **{f"foreign_{key}": quantize_yuan(value or ZERO) for key, value in foreign.items()},
    }


def foreign_advance_summary(year: int) -> list[dict]:
    """Per other province: its advance received, used, topped up and the balance held here."""
    rows = (
        ForeignAdvanceEntry.objects.filter(year=year)
        .order_by()
        .values("province_id")
        .annotate(
            received=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.RECEIVED)),
            used=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.USAGE)),
            topped=Sum("amount", filter=Q(kind=ForeignAdvanceEntry.Kind.TOP_UP)),
            balance=Sum("amount"),
        )
    )
    names = dict(Region.objects.filter(code__in=[row["province_id"] for row in rows]).values_list("code", "name"))
    return [
        {"code": row["province_id"], "name": names.get(row["province_id"], row["province_id"]),
         **{key: quantize_yuan(row[key] or ZERO) for key in ("received", "used", "topped", "balance")}}
        for row in sorted(rows, key=lambda row: row["province_id"])
    ]
