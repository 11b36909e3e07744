"""Demo data of the clearing, relative to today so it always looks current:

* every month from last January to four months ago: settlement records
  imported and cleared, closed as history brought over from the previous
  provincial system, with last year's advances (the basis of this year's);
* this year's advances: computed from last year's results, carried over,
  issued (附件2–5) and paid in;
* the last four months: three months ago settled (every payment in, one late
  and covered by the advance, then topped up), two months ago notices issued
  with one city overdue (the advance paid first) and an emergency increase
  (附件6) for a province whose usage rate passed 90 %, last month computed
  after data closed on the 20th, this month open and collecting;
* import batches in each state (imported, refused with row errors, checked
  and waiting for confirmation).

Idempotent: every step looks for what it would create first. Keep it quick:
only the two recent months and this year's advances render PDFs.

Real data win: demo records carry ids starting with DEMO- and their months are
marked is_demo. A real import into such a month removes the month's demo data
first (services.period_yield_demo); seed_demo then leaves that month alone.
"""

from __future__ import annotations

import calendar
import random
import tempfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db.models import Sum
from django.utils import timezone

from clearing import advance_ledger, rules, services
from clearing.importers import COLUMNS, ImportOptions, import_file
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
    ForeignAdvanceEntry,
    ImportBatch,
    IntraAdvance,
    PaymentDue,
    Settlement,
    Transfer,
)
from core import demo_cast
from core.audit import log_action
from core.jurisdictions import rules_for
from core.models import AuditLog, Region, User
from core.money import quantize_yuan
from core.reference import home_province_code
from core.workdays import add_working_days

JIANGSU_OTHER = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "330000", "330100",
    "340000", "340100", "350000", "360000", "360700", "370000", "410000", "420000", "430000", "440000", "440300",
    "450000", "460000", "460200", "500000", "510000", "510100", "520000", "530000", "610000", "620000", "650000",
]
JIANGSU_HOSPITALS = {
    "320100": ["南京鼓楼医院", "江苏省人民医院", "南京市第一医院"],
    "320200": ["无锡市人民医院", "无锡市第二人民医院"],
    "320300": ["徐州医科大学附属医院"],
    "320500": ["苏州大学附属第一医院"],
    "320600": ["南通大学附属医院"],
}


def _cities() -> list[str]:
    return list(
        Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").values_list("code", flat=True)
    )


def _other() -> tuple[list[str], list[int]]:
    """Other provinces' regions the demo's records go to and come from, weighted the way
    江苏's insured actually travel (上海, 浙江, 安徽 first); recast for another province."""
    cast = demo_cast.current()
    other = list(dict.fromkeys(cast.code(code) for code in JIANGSU_OTHER))
    return other, [3 if code[:2] in ("31", "33", "34") else 1 for code in other]


def _hospitals() -> dict[str, list[str]]:
    cast = demo_cast.current()
    return {
        cast.code(code): [cast.institution_name(name, code) for name in names]
        for code, names in JIANGSU_HOSPITALS.items()
    }


def seed(stdout=None) -> None:
    today = timezone.localdate()
    officer = User.objects.filter(username=demo_cast.current().username("clearing_jiangsu")).first()
    if officer is None:
        return
    formula = rules_for(home_province_code()).intra_advance
    AdvancePolicy.objects.get_or_create(
        province_id=home_province_code(), effective_year=2017,
        defaults={"method": formula.method, "factor": formula.factor},
    )
    last_year = today.year - 1
    recent = [rules.period_of(*rules.add_months(today.year, today.month, -back)) for back in (3, 2, 1, 0)]
    # Every month from last January up to the recent four: a continuous history.
    history = rules.months_between(rules.period_of(last_year, 1), rules.period_of(*rules.add_months(today.year, today.month, -4)))

    demo = {
        month
        for index, month in enumerate(history + recent)
        if _ensure_month(month, rows=600 if month in history else 800, seed=index, officer=officer)
    }
    real = [month for month in history + recent if month not in demo]
    if real and stdout:
        stdout.write(f"  clearing: {'、'.join(real)} 已有真实结算数据，演示数据不再写入或改动这些月份")
    for month in history:
        if month in demo:
            _close_as_history(month, officer)

    _last_year_advances(last_year, officer)
    _this_year_advances(today.year, officer, shortfall_period=recent[1])
    settled, issued, computed, current = recent
    if settled in demo:
        _settled_month(settled, officer)
    if issued in demo:
        _issued_month(issued, officer, today)
    if computed in demo:
        _computed_month(computed, officer)
    if current in demo:
        _import_batches(current, officer)
    _reconciliation(computed, officer, today)
    for month in demo:
        _plausible_times(month, today)
    if stdout:
        stdout.write(
            f"  clearing: {Settlement.objects.count()} 条结算明细，{ClearingPeriod.objects.count()} 个清算期，"
            f"{PaymentDue.objects.count()} 笔应付款项，{AdvanceEntry.objects.count()} 条预付金台账"
        )


# --- Settlement records ------------------------------------------------------------


def _rows(month: str, count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(f"yidi-demo-{month}-{seed}")
    year, number = rules.parse_period(month)
    last_day = rules.period_end(month).day
    today = timezone.localdate()
    if (year, number) == (today.year, today.month):
        last_day = today.day  # the month still running: nothing settled in the future
    rows = []
    cities = _cities()
    other, weights = _other()
    hospitals = _hospitals()
    for index in range(count):
        draw = rng.random()
        if draw < 0.55:
            insured, treatment = rng.sample(cities, 2)
        elif draw < 0.8:
            insured, treatment = rng.choice(cities), rng.choices(other, weights)[0]
        else:
            insured, treatment = rng.choices(other, weights)[0], rng.choice(cities)
        care = rng.choices(["inpatient", "outpatient", "chronic"], [5, 3, 2])[0]
        base = {"inpatient": 18000, "outpatient": 900, "chronic": 3500}[care]
        total = Decimal(int(rng.lognormvariate(0, 0.7) * base * 100)) / 100 + Decimal("50.00")
        fund = (total * Decimal(rng.randint(45, 88)) / 100).quantize(Decimal("0.01"))
        late = index % 97 == 0 and number > 1  # a few declared a month late
        settled_year, settled_month = rules.add_months(year, number, -1) if late else (year, number)
        settled_last = rules.period_end(rules.period_of(settled_year, settled_month)).day
        day = rng.randint(1, settled_last if late else last_day)
        hospital = rng.choice(hospitals.get(treatment, [f"{_region_name(treatment)}定点医院"]))
        rows.append(
            {
                "settlement_id": f"{DEMO_ID_PREFIX}{year}{number:02d}-{_code(treatment)}-{index:06d}",
                "period": month,
                "insured_region": insured,
                "treatment_region": treatment,
                "insurance_type": rng.choice(["310", "310", "390"]),
                "care_type": care,
                "settled_on": date(settled_year, settled_month, day).isoformat(),
                "total_amount": f"{total:.2f}",
                "fund_amount": f"{fund:.2f}",
                "institution": hospital,
            }
        )
    return rows


def _code(region: str) -> str:
    return region[:4]


_NAMES: dict[str, str] = {}


def _region_name(code: str) -> str:
    if not _NAMES:
        _NAMES.update(Region.objects.values_list("code", "short_name"))
    return _NAMES.get(code) or _NAMES.get(rules.province_of(code), "")


def _csv(rows: list[dict[str, str]]) -> str:
    lines = [",".join(COLUMNS)]
    lines += [",".join(row[column] for column in COLUMNS) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _ensure_month(month: str, *, rows: int, seed: int, officer) -> bool:
    """Import the month's demo records unless the month holds any; whether it is a demo month."""
    if Settlement.objects.filter(period=month).exists():
        return ClearingPeriod.objects.filter(period=month, is_demo=True).exists()
    text = _csv(_rows(month, rows, seed))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"settlements-{month}.csv"
        path.write_bytes(text.encode("gb18030"))
        report = import_file(path, options=ImportOptions())
        if not report.committed:  # pragma: no cover - the demo's own data are clean
            raise RuntimeError(report.text())
        batch = ImportBatch(
            source=ImportBatch.Source.DEMO, filename=path.name, size=path.stat().st_size, created_by=officer,
            region_id=home_province_code(), imported_by=officer,
        )
        batch.file.save(path.name, ContentFile(path.read_bytes()), save=False)
        services.import_batch_apply_report(batch=batch, report=report, commit=True)
    ClearingPeriod.objects.filter(period=month).update(is_demo=True)
    return True


def _close_as_history(month: str, officer) -> None:
    period = services.period_get_or_create(month)
    if period.status == ClearingPeriod.Status.CLOSED:
        return
    if period.is_editable:
        period = services.clearing_compute(period=period, by=officer)
    stamp = _stamp_date(month)
    ClearingPeriod.objects.filter(pk=period.pk).update(
        status=ClearingPeriod.Status.CLOSED, stamp_date=stamp, payment_due=add_working_days(stamp, 10).as_date(),
        closed_at=timezone.now(), closed_by=officer,
    )
    log_action(
        action=AuditLog.Action.TRANSITION, user=officer, obj=period, from_state=period.status, to_state="closed",
        message="历史清算数据由原省级异地就医系统迁移（通知书和付款记录保存在原系统）",
    )


def _plausible_times(month: str, today: date) -> None:
    """The demo runs every step today; date them as the clearing calendar would:
    data closed on the 20th, the clearing computed the working day before the
    notices were stamped, issued on the stamp date."""
    period = ClearingPeriod.objects.get(period=month)
    zone = timezone.get_current_timezone()

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=zone)

    changes = {}
    if period.data_closed_at and period.data_due < today:
        changes["data_closed_at"] = at(period.data_due, 17, 30)
    if period.computed_at:
        if period.stamp_date:
            changes["computed_at"] = at(add_working_days(period.stamp_date, -1).as_date(), 10, 15)
        elif period.data_due < today:
            changes["computed_at"] = at(min(add_working_days(period.data_due, 2).as_date(), today), 10, 15)
    if period.issued_at and period.stamp_date:
        changes["issued_at"] = at(period.stamp_date, 16, 0)
    if changes:
        ClearingPeriod.objects.filter(pk=period.pk).update(**changes)


def _stamp_date(month: str) -> date:
    """Notices are issued before the 28th of the next month: the last working day up to the 26th."""
    year, number = rules.add_months(*rules.parse_period(month), 1)
    day = date(year, number, 26)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


# --- Advances --------------------------------------------------------------------------


def _last_year_advances(year: int, officer) -> None:
    """Last year's figures (上年额度) and what the cities paid in, as migrated."""
    if IntraAdvance.objects.filter(year=year).exists():
        return
    cities = {region.code: region for region in Region.objects.cities_of(home_province_code())}
    nets = services.city_net_by_month(year)
    for code, region in cities.items():
        outflow = rules.net_outflow(nets.get(code, {}).values())
        amount = max(int(outflow * Decimal("0.18") / 10000), 0)
        IntraAdvance.objects.create(year=year, region=region, approved_amount=amount, actual_amount=amount, basis_amount=outflow)
        if amount:
            AdvanceEntry.objects.create(
                year=year, scope=AdvanceEntry.Scope.INTRA, region=region, kind=AdvanceEntry.Kind.CONTRIBUTION,
                amount=Decimal(amount) * 10000, entry_date=date(year, 2, 14), note="原系统迁移：上年省内预付金上解", recorded_by=officer,
            )
    weights = services.cross_weights(year)
    spending = _cross_spending_by_province(year)
    for province, total in spending.items():
        yearly = max(int(total / 6 / 10000), 3)  # about two months of spending (raised this year)
        parts = rules.split_by_weights(yearly, weights)
        for code, value in parts.items():
            if not value:
                continue
            CrossAdvance.objects.create(year=year, region=cities[code], province_id=province, approved_amount=value, actual_amount=value)
            AdvanceEntry.objects.create(
                year=year, scope=AdvanceEntry.Scope.CROSS, region=cities[code], province_id=province,
                kind=AdvanceEntry.Kind.CONTRIBUTION, amount=Decimal(value) * 10000, entry_date=date(year, 2, 20),
                note="原系统迁移：上年跨省预付金拨付", recorded_by=officer,
            )
    AdvanceYear.objects.get_or_create(year=year, defaults={"intra_issued_at": timezone.now(), "cross_issued_at": timezone.now()})


def _cross_spending_by_province(year: int) -> dict[str, Decimal]:
    rows = (
        ClearingResult.objects.filter(period__period__startswith=f"{year}-", scope="cross_out")
        .values("treatment_area")
        .annotate(total=Sum("employee_amount") + Sum("resident_amount"))
        .order_by()
    )
    return {row["treatment_area"]: row["total"] for row in rows}


def _this_year_advances(year: int, officer, *, shortfall_period: str) -> None:
    record = services.advance_year(year)
    if not record.carried_over_at:
        services.advances_carry_over(year=year, by=officer)
    if not record.intra_issued_at:
        services.intra_advances_compute(year=year, by=officer)
        services.advances_issue_notices(year=year, scope="intra", by=officer, stamp_date=_working_day(date(year, 2, 3)))
    if not CrossAllotment.objects.filter(year=year).exists():
        spending = _cross_spending_by_province(year - 1)
        # About half of last year's spending there (six months: the demo's few
        # records per province swing widely from month to month), at least 5 万元.
        amounts = {province: max(int(total / 2 / 10000), 5) for province, total in spending.items()}
        province, short = _shortfall(shortfall_period)
        if province:
            amounts[province] = short
        services.cross_allotments_save(year=year, amounts=amounts, by=officer, source=CrossAllotment.Source.DEMO)
    record.refresh_from_db()
    if not record.cross_issued_at:
        services.cross_advances_compute(year=year, by=officer)
        services.advances_issue_notices(year=year, scope="cross", by=officer, stamp_date=_working_day(date(year, 2, 4)))
    for payment in PaymentDue.objects.filter(
        year=year, period__isnull=True, kind__in=["intra_advance", "cross_advance", "cross_advance_payout"], status="due"
    ):
        _pay(payment, _payer(payment, officer), on=add_working_days(payment.due_on, -2).as_date())
    _foreign_advances(year, officer)


def _foreign_advances(year: int, officer) -> None:
    """外省预付金 (第三十一条(三)): the provinces whose insured were treated here last year paid in
    about a month of that (at least 1 万元) by the end of February."""
    if ForeignAdvanceEntry.objects.filter(year=year).exists():
        return
    rows = (
        ClearingResult.objects.filter(period__period__startswith=f"{year - 1}-", scope="cross_in")
        .values("insured_area")
        .annotate(total=Sum("employee_amount") + Sum("resident_amount"))
        .order_by("insured_area")
    )
    on = min(date(year, 2, 27), timezone.localdate())
    for row in rows:
        amount = Decimal(max(int(row["total"] / 12 / 10000), 1) * 10000)
        advance_ledger.foreign_advance_receive(
            year=year, province=Region.objects.get(code=row["insured_area"]), amount=amount, on=on, by=officer
        )


def _shortfall(month: str) -> tuple[str | None, int]:
    """A province whose advance is a little smaller than one month's spending
    there, so that month's usage rate passes 90 % and the emergency increase can
    start: the one our insured visited from the fewest cities (few 附件6 to render)."""
    rows = (
        Settlement.objects.filter(period=month, insured_region__in=_cities())
        .exclude(treatment_region__startswith=home_province_code()[:2])
        .values("treatment_region", "insured_region")
        .annotate(total=Sum("fund_amount"))
        .order_by()
    )
    spending: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        province = rules.province_of(row["treatment_region"])
        cities = spending.setdefault(province, {})
        cities[row["insured_region"]] = cities.get(row["insured_region"], Decimal(0)) + row["total"]
    candidates = sorted(
        (len(cities), province) for province, cities in spending.items() if len(cities) >= 2 and sum(cities.values()) > 20000
    )
    if not candidates:
        return None, 0
    province = candidates[0][1]
    return province, max(int(sum(spending[province].values()) / Decimal("1.05") / 10000), 1)


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _pay(payment: PaymentDue, by, *, on: date, amount: Decimal | None = None) -> None:
    on = min(on, timezone.localdate())
    payment.refresh_from_db()
    if payment.status == PaymentDue.Status.PAID:
        return  # paid at issue from an advance (第三十条(二), 第三十一条(三))
    amount = min(amount, payment.outstanding) if amount else None
    services.transfer_record(
        payment=payment, amount=amount or payment.outstanding, transferred_on=on, by=by,
        voucher_no=f"YH{on:%Y%m%d}{payment.pk:05d}",
    )


def _payer(payment: PaymentDue, officer):
    """City finance records what their city pays (南京, 无锡 have demo finance staff)."""
    if payment.city_pays:
        cast = demo_cast.current()
        username = {cast.code("320100"): cast.username("finance_nanjing"),
                    cast.code("320200"): cast.username("finance_wuxi")}.get(payment.region_id)
        if username:
            return User.objects.get(username=username)
    return officer


# --- The recent months -------------------------------------------------------------------


def _issue(month: str, officer) -> ClearingPeriod:
    period = services.period_get_or_create(month)
    if period.status == ClearingPeriod.Status.OPEN:
        period = services.period_close_data(period=period, by=officer)
    if period.is_editable:
        period = services.clearing_compute(period=period, by=officer)
    if period.status == ClearingPeriod.Status.COMPUTED:
        services.clearing_issue_notices(period=period, by=officer, stamp_date=_stamp_date(month))
    return ClearingPeriod.objects.get(pk=period.pk)


def _settled_month(month: str, officer) -> None:
    period = _issue(month, officer)
    if period.status != ClearingPeriod.Status.NOTICES_ISSUED:
        return
    payments = list(PaymentDue.objects.filter(period=period).select_related("region").order_by("region__sort_order", "kind"))
    late = next((p for p in payments if p.kind == "intra_payable" and _has_advance(p)), None)
    for payment in payments:
        if payment is late:
            _cover(payment, officer, on=payment.due_on + timedelta(days=1))
            _pay(payment, _payer(payment, officer), on=payment.due_on + timedelta(days=6))
        else:
            _pay(payment, _payer(payment, officer), on=add_working_days(payment.due_on, -2).as_date())
    # The other provinces' clearing money arrives: their advances used for the month are topped up.
    used = (
        ForeignAdvanceEntry.objects.filter(period=period, kind="usage")
        .values("province_id").annotate(total=Sum("amount")).order_by("province_id")
    )
    for row in used:
        advance_ledger.foreign_clearing_receive(
            period=period, province=Region.objects.get(code=row["province_id"]), amount=-quantize_yuan(row["total"]),
            on=min(add_working_days(period.payment_due, 3).as_date(), timezone.localdate()), by=officer,
        )


def _cover(payment: PaymentDue, officer, *, on: date) -> None:
    """The advance pays what is still open (an intra payable is covered at issue already)."""
    payment.refresh_from_db()
    if payment.outstanding - payment.advance_outstanding > 0:
        services.payment_cover_with_advance(payment=payment, by=officer, on=on)


def _has_advance(payment: PaymentDue) -> bool:
    scope = "intra" if payment.kind == "intra_payable" else "cross"
    return services.advance_balance(year=payment.year, scope=scope, region=payment.region_id) > payment.amount


def _issued_month(month: str, officer, today: date) -> None:
    period = _issue(month, officer)
    if period.status != ClearingPeriod.Status.NOTICES_ISSUED or _has_transfers(period):
        return
    payments = list(PaymentDue.objects.filter(period=period).select_related("region").order_by("region__sort_order", "kind"))
    demo_cities = (demo_cast.current().code("320100"), demo_cast.current().code("320200"))
    overdue = next((p for p in payments if p.kind == "intra_payable" and _has_advance(p) and p.region_id not in demo_cities), None)
    partly = next((p for p in payments if p.kind == "cross_payable" and p is not overdue and p.region_id != demo_cities[0]), None)
    for index, payment in enumerate(payments):
        if payment is overdue:
            if payment.due_on < today:
                _cover(payment, officer, on=min(payment.due_on + timedelta(days=1), today))
            continue
        if payment is partly:
            _pay(payment, _payer(payment, officer), on=payment.due_on - timedelta(days=1), amount=(payment.amount / 2).quantize(Decimal("0.01")))
            continue
        if index % 5 == 4 and not payment.city_pays:
            continue  # the province has not paid this one out yet
        _pay(payment, _payer(payment, officer), on=add_working_days(payment.due_on, -3).as_date())
    warned = [row for row in services.usage_by_province(period) if row.warning]
    row = warned[0] if warned else None
    if row and not EmergencyIncrease.objects.filter(basis_period=period).exists():
        province = Region.objects.get(code=row.key)
        stamp = min(add_working_days(period.stamp_date, 5).as_date(), today)
        increase = services.emergency_increase_create(period=period, province=province, amount=max(row.advance // 2, 3), by=officer, stamp_date=stamp)
        first = PaymentDue.objects.filter(kind="emergency_advance", notice_key__endswith=f":{increase.pk}").order_by("region__sort_order").first()
        if first is not None:
            _pay(first, _payer(first, officer), on=stamp + timedelta(days=3))


def _reconciliation(month: str, officer, today: date) -> None:
    """三方对账 of last month (第四十一–四十三条): every city every day, a few mismatches —
    南京's corrected by the 3rd, 徐州's still open, 常州 missing its last two days."""
    from clearing import reconciliation
    from clearing.models import ReconciliationResult

    if ReconciliationResult.objects.filter(period=month).exists():
        return
    year, number = rules.parse_period(month)
    last = min(calendar.monthrange(year, number)[1], (today - date(year, number, 1)).days + 1)
    random_ = random.Random(month)
    rows = []
    cast = demo_cast.current()
    mismatches = {(cast.code("320100"), 6), (cast.code("320300"), 17)}
    for code in services.home_city_codes():
        for day in range(1, last + 1 - (2 if code == cast.code("320400") else 0)):
            count = random_.randint(20, 60)
            amount = Decimal(random_.randint(100000, 900000)) / 100
            counts, amounts = (count, count, count), (amount, amount, amount)
            if (code, day) in mismatches:
                counts = (count, count, count - 1)
            rows.append({"kind": "daily", "date": f"{month}-{day:02d}", "region": code, "scope": "intra" if day % 2 else "cross",
                         "treatment_count": str(counts[0]), "treatment_amount": f"{amounts[0]:.2f}",
                         "province_count": str(counts[1]), "province_amount": f"{amounts[1]:.2f}",
                         "insured_count": str(counts[2]), "insured_amount": f"{amounts[2]:.2f}"})
    report = reconciliation.reconciliation_import(rows=rows, filename=f"demo-reconciliation-{month}.csv", by=officer)
    if report.errors:  # pragma: no cover - the demo's own rows
        return
    nanjing = ReconciliationResult.objects.filter(period=month, region_id=cast.code("320100"), matched=False).first()
    if nanjing is not None:
        reconciliation.reconciliation_correct(result=nanjing, reason="参保地系统漏传1笔，已补传并重新对账",
                                              corrected_on=min(nanjing.recon_date + timedelta(days=1), today), by=officer)


def _has_transfers(period: ClearingPeriod) -> bool:
    return Transfer.objects.filter(payment__period=period).exists()


def _computed_month(month: str, officer) -> None:
    period = services.period_get_or_create(month)
    if period.status == ClearingPeriod.Status.OPEN:
        period = services.period_close_data(period=period, by=officer)
    if period.status == ClearingPeriod.Status.DATA_CLOSED:
        services.clearing_compute(period=period, by=officer)


def _import_batches(month: str, officer) -> None:
    """This month's uploads: one refused with row errors, one checked and waiting."""
    if ImportBatch.objects.filter(source=ImportBatch.Source.UPLOAD).exists():
        return
    rows = _rows(month, 40, seed=99)
    for row in rows:
        row["settlement_id"] = row["settlement_id"].replace(DEMO_ID_PREFIX, "WX", 1)
    bad = [dict(row) for row in rows[:12]]
    bad[3]["fund_amount"] = f"{Decimal(bad[3]['total_amount']) + 100:.2f}"
    bad[7]["treatment_region"] = bad[7]["insured_region"] = demo_cast.current().code("320200")
    bad[9]["insured_region"] = "990000"
    bad[11]["settlement_id"] = bad[2]["settlement_id"]
    for name, data, user in (
        (demo_cast.current().text(f"无锡-{month}-第1次上传.csv"), bad, officer),
        (demo_cast.current().text(f"无锡-{month}-更正.csv"), rows, officer),
    ):
        path = Path(tempfile.mkdtemp()) / name
        path.write_bytes(_csv(data).encode("gb18030"))
        report = import_file(path, display_name=name, options=ImportOptions(dry_run=True))
        batch = ImportBatch(filename=name, size=path.stat().st_size, created_by=user, region_id=home_province_code(), source=ImportBatch.Source.UPLOAD)
        batch.file.save(name, ContentFile(path.read_bytes()), save=False)
        services.import_batch_apply_report(batch=batch, report=report, commit=False)
        log_action(action=AuditLog.Action.IMPORT, user=user, obj=batch, message=f"上传结算明细文件 {name}")
