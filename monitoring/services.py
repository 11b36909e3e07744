"""State changes of 运行监测: rebuilding a period's aggregates, thresholds, fund
balances and the analysis report job. Keyword-only, one per change, audited."""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from clearing.models import Settlement
from core.audit import log_action
from core.errors import DomainError
from core.jobs import start_job
from core.models import AuditLog, Region
from core.reference import home_province_code
from monitoring import rules
from monitoring.models import FundBalance, InstitutionSummary, PeriodSummary, SummaryBuild, Threshold

_KEYS = "period, insured_region, treatment_region, insurance_type, care_type"


def summary_rebuild(*, periods: Iterable[str]) -> dict[str, int]:
    """Replace the aggregates of each period from its settlement records.

    One set-based INSERT … SELECT … GROUP BY reads the period's records once
    (into the institution grain); the coarse table is grouped from that, never
    from the records again. Returns period -> number of records summarised."""
    done = {}
    settlement = Settlement._meta.db_table
    fine = InstitutionSummary._meta.db_table
    coarse = PeriodSummary._meta.db_table
    for period in sorted(set(periods)):
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {coarse} WHERE period = %s", [period])
            cursor.execute(f"DELETE FROM {fine} WHERE period = %s", [period])
            cursor.execute(
                f"INSERT INTO {fine} ({_KEYS}, institution, visits, total_amount, fund_amount) "
                f"SELECT {_KEYS}, institution, COUNT(*), SUM(total_amount), SUM(fund_amount) FROM {settlement} "
                f"WHERE period = %s GROUP BY {_KEYS}, institution",
                [period],
            )
            cursor.execute(
                f"INSERT INTO {coarse} ({_KEYS}, visits, total_amount, fund_amount) "
                f"SELECT {_KEYS}, SUM(visits), SUM(total_amount), SUM(fund_amount) FROM {fine} "
                f"WHERE period = %s GROUP BY {_KEYS}",
                [period],
            )
            cursor.execute(f"SELECT COALESCE(SUM(visits), 0), COUNT(*) FROM {coarse} WHERE period = %s", [period])
            count, rows = cursor.fetchone()
            SummaryBuild.objects.update_or_create(
                period=period,
                defaults={
                    "settlement_count": int(count),
                    "row_count": int(rows),
                    "seconds": round(time.monotonic() - started, 3),
                    "built_at": timezone.now(),
                },
            )
        done[period] = int(count)
    return done


def summary_after_import(*, periods: Iterable[str]) -> None:
    """Called once an import has committed: rebuild the months it touched."""
    periods = [period for period in periods if period]
    if periods:
        summary_rebuild(periods=periods)


def summary_ensure(*, periods: Iterable[str]) -> list[str]:
    """Rebuild the periods whose aggregates are missing or no longer match the
    number of records (records brought in some other way than an import).
    Counting uses the period index only. Returns the periods rebuilt."""
    periods = sorted(set(periods))
    counts = dict(
        Settlement.objects.filter(period__in=periods).values_list("period").annotate(n=Count("pk")).values_list("period", "n")
    )
    built = dict(SummaryBuild.objects.filter(period__in=periods).values_list("period", "settlement_count"))
    stale = [period for period in periods if built.get(period) != counts.get(period, 0)]
    if stale:
        summary_rebuild(periods=stale)
    return stale


def summary_ensure_all() -> list[str]:
    """Every period with records (seed_demo; the periods are few)."""
    periods = set(Settlement.objects.values_list("period", flat=True).distinct())
    periods |= set(SummaryBuild.objects.values_list("period", flat=True))
    return summary_ensure(periods=periods)


# --- Thresholds and fund balances ------------------------------------------------------


def _may_manage(by, region: Region) -> None:
    if by is None:
        return
    if not (by.sees_all_regions or by.region_code == region.code):
        raise DomainError("只能为本地区设定预警值或录入基金结余。")


def threshold_save(*, region: Region, indicator: str, direction: str, value: Decimal, active: bool = True, note: str = "", by) -> Threshold:
    _may_manage(by, region)
    if value is None or value < 0:
        raise DomainError("预警值不能为负数。")
    if indicator in rules.PERCENT_INDICATORS and indicator not in rules.CEILINGS and value > 100:
        raise DomainError("下限是百分数，不能超过 100。")
    with transaction.atomic():
        threshold, created = Threshold.objects.select_for_update().get_or_create(
            region=region, indicator=indicator, direction=direction,
            defaults={"value": value, "active": active, "note": note, "updated_by": by},
        )
        before = "" if created else f"{threshold.value}{'' if threshold.active else '（停用）'}"
        if not created:
            threshold.value, threshold.active, threshold.note, threshold.updated_by = value, active, note, by
            threshold.save()
        log_action(
            action=AuditLog.Action.CREATE if created else AuditLog.Action.CHANGE,
            user=by, username="" if by else "命令行", obj=threshold, from_state=before,
            to_state=f"{value}{'' if active else '（停用）'}",
            message=f"{'设定' if created else '修改'}监测预警值：{region.short_name} {threshold.get_indicator_display()} {threshold.get_direction_display()} {value}",
        )
    return threshold


def threshold_delete(*, threshold: Threshold, by) -> None:
    _may_manage(by, threshold.region)
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=threshold, from_state=str(threshold.value), to_state="已删除",
               message=f"删除监测预警值：{threshold}")
    threshold.delete()


def fund_balance_save(*, region: Region, period: str, balance: Decimal, monthly_expenditure: Decimal, note: str = "", by) -> FundBalance:
    _may_manage(by, region)
    try:
        spec = rules.parse_period(period)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    if spec.kind != "month":
        raise DomainError("基金结余按月末录入，所属期请写 YYYY-MM。")
    if balance < 0:
        raise DomainError("基金累计结余不能为负数。")
    if monthly_expenditure <= 0:
        raise DomainError("月均基金支出必须大于零，否则无法计算可支付月数。")
    with transaction.atomic():
        record, created = FundBalance.objects.select_for_update().get_or_create(
            region=region, period=period,
            defaults={"balance": balance, "monthly_expenditure": monthly_expenditure, "note": note, "entered_by": by},
        )
        before = "" if created else f"{record.balance}/{record.monthly_expenditure}"
        if not created:
            record.balance, record.monthly_expenditure, record.note, record.entered_by = balance, monthly_expenditure, note, by
            record.save()
        log_action(
            action=AuditLog.Action.CREATE if created else AuditLog.Action.CHANGE,
            user=by, username="" if by else "命令行", obj=record, from_state=before,
            to_state=f"{balance}/{monthly_expenditure}",
            message=f"录入基金累计结余：{region.short_name} {period} 结余 {balance} 元，月均支出 {monthly_expenditure} 元",
        )
    return record


# --- The analysis report ----------------------------------------------------------------


def report_start(*, period: str, by) -> Any:
    """Queue the 运行分析报告 of a month or a quarter (a background job)."""
    try:
        spec = rules.parse_period(period)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    if spec.kind == "year":
        raise DomainError("运行分析报告按月或按季度生成：请选择月份（YYYY-MM）或季度（YYYYQn）。")
    if not PeriodSummary.objects.filter(period__in=spec.months).exists():
        raise DomainError(f"{spec.label}没有结算数据，无法生成运行分析报告。")
    province = Region.objects.get(code=home_province_code())
    with transaction.atomic():
        log_action(action=AuditLog.Action.CREATE, user=by, username="" if by else "命令行",
                   message=f"生成{spec.label}异地就医直接结算运行分析报告")
        return start_job(
            kind="monitoring.render_report",
            title=f"生成{spec.label}异地就医直接结算运行分析报告",
            by=by, params={"period": spec.code}, region=province,
        )
