"""The yearly advances (预付金): policy, intra- and cross-province amounts, carry-over,
the national allotments, and their notices 附件2–5."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clearing import advance_formulas, rules
from clearing.models import (
    AdvanceEntry,
    AdvancePolicy,
    AdvanceYear,
    ClearingPeriod,
    ClearingResult,
    CrossAdvance,
    CrossAllotment,
    EmergencyIncreaseLine,
    IntraAdvance,
    PaymentDue,
    Scope,
)
from clearing.services.common import ZERO, _log, home_cities, home_city_codes, notice_key
from core import safe_files
from core.errors import DomainError
from core.jobs import start_job
from core.jurisdictions import rules_for
from core.models import AuditLog, Region
from core.reference import home_province_code
from core.validators import MAX_WAN_YUAN
from core.workdays import add_working_days


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
