"""Three-party reconciliation (三方对账; 江苏 第四十一–四十三条, 第四十七条(二)).

Each day the treatment city, the provincial system and the insured region reconcile
the day's direct settlements; by the 3rd of each month all of last month. Only
reconciled records enter the clearing, uploaded by the 20th. Here: import the
results the systems report (daily or monthly, per city), show the mismatches per
city and day, record corrections (冲正) with who and why, tell per city whether last
month was fully reconciled by the 3rd, and warn when a month's data is closed with
records still unreconciled.

Import format (CSV/XLSX, header row, column order free): ``kind`` (daily/monthly,
optional, default daily), ``date`` (YYYY-MM-DD; for monthly the month's last day or
``YYYY-MM``), ``region`` (city code), ``scope`` (intra/cross), ``treatment_count``,
``treatment_amount``, ``province_count``, ``province_amount``, ``insured_count``,
``insured_amount``. A bad row is reported with its row number and nothing is written.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from clearing import rules
from clearing.models import ReconciliationCorrection, ReconciliationResult
from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog, Region
from core.reference import home_province_code

COLUMNS = ("date", "region", "scope", "treatment_count", "treatment_amount", "province_count", "province_amount",
           "insured_count", "insured_amount")
#: 第四十三条: “每月3日前完成上月所有异地就医结算费用对账”.
MONTHLY_DUE_DAY = 3


# --- Pure rules ----------------------------------------------------------------------------


def is_matched(counts: tuple[int, int, int], amounts: tuple[Decimal, Decimal, Decimal]) -> bool:
    """The three parties agree on the number of settlements and the fund amount."""
    return len(set(counts)) == 1 and len(set(amounts)) == 1


def monthly_due(period: str) -> date:
    """The 3rd of the month after `period` (第四十三条)."""
    year, month = rules.add_months(*rules.parse_period(period), 1)
    return date(year, month, MONTHLY_DUE_DAY)


# --- Import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    replaced: int = 0
    errors: list[str] = field(default_factory=list)


def _parse_row(number: int, row: dict[str, str], cities: dict[str, Region]) -> dict:
    missing = [name for name in COLUMNS if not row.get(name)]
    if missing:
        raise DomainError(f"第{number}行：缺少{'、'.join(missing)}。")
    kind = (row.get("kind") or "daily").strip().lower()
    if kind not in ReconciliationResult.Kind.values:
        raise DomainError(f"第{number}行：对账类型“{kind}”应为 daily 或 monthly。")
    raw_date = row["date"].strip()
    try:
        if kind == "monthly" and len(raw_date) == 7:
            year, month = rules.parse_period(raw_date)
            day = date(year, month, calendar.monthrange(year, month)[1])
        else:
            day = date.fromisoformat(raw_date)
    except (ValueError, DomainError):
        raise DomainError(f"第{number}行：日期“{raw_date}”无效，应为 YYYY-MM-DD。") from None
    if day > timezone.localdate():
        raise DomainError(f"第{number}行：对账日期 {day} 晚于今天。")
    region = cities.get(row["region"].strip())
    if region is None:
        raise DomainError(f"第{number}行：地区代码“{row['region']}”不是本省的设区市。")
    scope = row["scope"].strip().lower()
    if scope not in ReconciliationResult.Scope.values:
        raise DomainError(f"第{number}行：范围“{scope}”应为 intra（省内）或 cross（跨省）。")
    values = {}
    for name in ("treatment", "province", "insured"):
        try:
            count = int(row[f"{name}_count"])
            amount = Decimal(row[f"{name}_amount"].replace(",", ""))
        except (ValueError, InvalidOperation):
            raise DomainError(f"第{number}行：{name}_count / {name}_amount 不是有效的数字。") from None
        if count < 0 or not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise DomainError(f"第{number}行：{name} 的笔数不能为负，金额最多两位小数。")
        values[f"{name}_count"], values[f"{name}_amount"] = count, amount
    return {"kind": kind, "recon_date": day, "period": rules.period_of(day.year, day.month), "region": region,
            "scope": scope, **values}


def reconciliation_import(*, rows: list[dict[str, str]], filename: str, by) -> ImportReport:
    """Store the results of a file; a result for the same city, day, scope and kind
    replaces the earlier one (the systems re-run a day after a correction). All or nothing."""
    cities = {region.code: region for region in Region.objects.cities_of(home_province_code())}
    report = ImportReport(rows=len(rows))
    parsed = []
    for number, row in enumerate(rows, start=2):
        try:
            parsed.append(_parse_row(number, row, cities))
        except DomainError as exc:
            report.errors.append(exc.message)
    if not rows:
        report.errors.append("文件中没有数据行。")
    if report.errors:
        return report
    with transaction.atomic():
        for values in parsed:
            matched = is_matched(
                (values["treatment_count"], values["province_count"], values["insured_count"]),
                (values["treatment_amount"], values["province_amount"], values["insured_amount"]),
            )
            _result, created = ReconciliationResult.objects.update_or_create(
                kind=values["kind"], scope=values["scope"], region=values["region"], recon_date=values["recon_date"],
                defaults={**values, "matched": matched, "source_file": filename[:255], "imported_by": by},
            )
            report.created += created
            report.replaced += not created
        log_action(action=AuditLog.Action.CREATE, user=by, message=(
            f"导入三方对账结果 {filename}：{report.rows} 行（新增 {report.created}，更新 {report.replaced}）"))
    return report


# --- 冲正 --------------------------------------------------------------------------------------


def reconciliation_correct(*, result: ReconciliationResult, reason: str, corrected_on: date, by) -> ReconciliationCorrection:
    """Record how a mismatch was put right (冲正), with who and why."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写冲正原因及处理情况。")
    if corrected_on > timezone.localdate():
        raise DomainError("冲正日期不能晚于今天。")
    if corrected_on < result.recon_date:
        raise DomainError(f"冲正日期不能早于对账日期 {result.recon_date:%Y-%m-%d}。")
    with transaction.atomic():
        locked = ReconciliationResult.objects.select_for_update().get(pk=result.pk)
        if locked.matched:
            raise DomainError("该日对账三方一致，无需冲正。")
        if locked.corrections.exists():
            raise DomainError("该条不符已登记冲正。")
        correction = ReconciliationCorrection.objects.create(result=locked, corrected_on=corrected_on, reason=reason, corrected_by=by)
        log_action(action=AuditLog.Action.TRANSITION, user=by, obj=locked, from_state="mismatched", to_state="corrected",
                   message=f"对账不符冲正（{corrected_on:%Y-%m-%d}）：{reason}")
    return correction


# --- Selectors ---------------------------------------------------------------------------------


def _open(queryset):
    corrected = ReconciliationCorrection.objects.filter(result=OuterRef("pk"))
    return queryset.filter(matched=False).exclude(Exists(corrected))


def mismatches(*, period: str, user=None):
    """The month's results that disagree, per city and day, with their correction if any."""
    queryset = ReconciliationResult.objects.filter(period=period, matched=False)
    if user is not None:
        queryset = queryset.for_user(user)
    return queryset.select_related("region").prefetch_related("corrections__corrected_by").order_by(
        "recon_date", "region__sort_order", "scope"
    )


@dataclass
class CityStatus:
    region: Region
    days: int  # days of the month with a daily result
    month_days: int
    mismatched: int
    open: int  # mismatches without a correction today
    late_corrections: int  # corrected after the 3rd
    last_import: object
    monthly_matched: bool | None  # the monthly result, None when none was imported

    @property
    def reconciled_by_due(self) -> bool:
        """第四十三条: every day of the month reconciled and nothing left open by the 3rd."""
        return self.days >= self.month_days and self.open == 0 and self.late_corrections == 0 and self.monthly_matched is not False


def city_statuses(*, period: str, user=None) -> list[CityStatus]:
    """Per city: was `period` fully reconciled by the 3rd of the next month? One query."""
    due = monthly_due(period)
    year, month = rules.parse_period(period)
    month_days = calendar.monthrange(year, month)[1]
    corrected = ReconciliationCorrection.objects.filter(result=OuterRef("pk"))
    late = ReconciliationCorrection.objects.filter(result=OuterRef("pk"), corrected_on__gt=due)
    results = ReconciliationResult.objects.filter(period=period)
    if user is not None:
        results = results.for_user(user)
    rows = (
        results.annotate(corrected=Exists(corrected), late=Exists(late))
        .order_by()
        .values("region_id")
        .annotate(
            days=Count("recon_date", filter=Q(kind="daily"), distinct=True),
            mismatched=Count("pk", filter=Q(matched=False)),
            open=Count("pk", filter=Q(matched=False, corrected=False)),
            late_corrections=Count("pk", filter=Q(matched=False, late=True)),
            monthly=Count("pk", filter=Q(kind="monthly")),
            monthly_bad=Count("pk", filter=Q(kind="monthly", matched=False, corrected=False)),
            last_import=Max("imported_at"),
        )
    )
    by_region = {row["region_id"]: row for row in rows}
    cities = Region.objects.cities_of(home_province_code())
    if user is not None and not user.sees_all_regions:
        cities = cities.filter(code=user.region_code)
    statuses = []
    for city in cities:
        row = by_region.get(city.code, {})
        monthly = row.get("monthly", 0)
        statuses.append(CityStatus(
            region=city, days=row.get("days", 0), month_days=month_days, mismatched=row.get("mismatched", 0),
            open=row.get("open", 0), late_corrections=row.get("late_corrections", 0), last_import=row.get("last_import"),
            monthly_matched=None if not monthly else row.get("monthly_bad", 0) == 0,
        ))
    return statuses


def unreconciled_by_city(period: str) -> dict[str, int]:
    """Open mismatches of the month per city (the warning when its data is closed on the 20th)."""
    rows = _open(ReconciliationResult.objects.filter(period=period)).order_by().values("region_id").annotate(n=Count("pk"))
    return {row["region_id"]: row["n"] for row in rows}
