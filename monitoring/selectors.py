"""Reads of 运行监测, all from the per-period aggregates (never the raw
settlement records) with a constant number of queries per page. They read from the
read replica when one is configured (DATABASE_REPLICA_URL, core.db_routers).

Directions (domain.md §5): outflow (差出) — a region's insured treated elsewhere,
grouped by 参保地; inflow (差进) — others treated in the region, grouped by 就医地.
The province is the sum of its cities.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from core.db_routers import replica_reads
from core.models import Region
from core.reference import home_province_code
from monitoring import rules
from monitoring.models import (
    CounterpartSummary,
    FundBalance,
    InstitutionSummary,
    RegionSummary,
    SummaryBuild,
    Threshold,
)
from monitoring.rules import Totals

OUTFLOW, INFLOW = "outflow", "inflow"
DIRECTIONS = {OUTFLOW: "差出（本地参保人员异地就医）", INFLOW: "差进（外地参保人员在本地就医）"}
REGION_FIELD = {OUTFLOW: "insured_region", INFLOW: "treatment_region"}
INSURANCE_TYPES = (("310", "职工"), ("390", "居民"))
CARE_TYPES = (("inpatient", "住院"), ("outpatient", "门诊"), ("chronic", "门慢特"))
CARE_LABELS = dict(CARE_TYPES)
INSURANCE_LABELS = dict(INSURANCE_TYPES)


def _totals(row: dict) -> Totals:
    return Totals(int(row["v"] or 0), row["t"] or rules.ZERO, row["f"] or rules.ZERO)


def _sums(**extra):
    return {"v": Sum("visits"), "t": Sum("total_amount"), "f": Sum("fund_amount"), **extra}


@replica_reads()
def home_cities() -> list[Region]:
    """The cities of the deployment's province, from the Region table."""
    return list(Region.objects.cities_of(home_province_code()).order_by("sort_order", "code"))


@replica_reads()
def region_names() -> dict[str, str]:
    return dict(Region.objects.values_list("code", "short_name"))


# --- monitoring_report --json (domain.md §7) -------------------------------------------


@replica_reads()
def report_json(period: str) -> dict:
    """Every city of the home province and the province key, both directions, from
    the per-region aggregates of the month, the month before and a year before."""
    spec = rules.parse_period(period)
    if spec.kind != "month":
        raise ValueError("monitoring_report --period 须为月份 YYYY-MM。")
    province = home_province_code()
    codes = [*(city.code for city in home_cities()), province]
    months = {"current": spec.code, "previous": spec.previous.code, "year_ago": spec.year_ago.code}
    found: dict[tuple[str, str, str], Totals] = {}
    rows = (
        RegionSummary.objects.filter(period__in=months.values(), region__in=codes)
        .values("period", "direction", "region").annotate(**_sums()).order_by()
    )
    for row in rows:
        found[(row["direction"], row["period"], row["region"])] = _totals(row)
    document: dict = {"period": spec.code}
    for direction in (OUTFLOW, INFLOW):
        document[direction] = {
            code: rules.indicator_json(*(found.get((direction, months[key], code), Totals()) for key in ("current", "previous", "year_ago")))
            for code in codes
        }
    return document


# --- Region figures: the key indicators of a region for a period ------------------------


def _month_bounds(months: tuple[str, ...]) -> tuple[date, date]:
    first, last = months[0], months[-1]
    year, month = int(last[:4]), int(last[5:7])
    return date(int(first[:4]), int(first[5:7]), 1), date(year, month, calendar.monthrange(year, month)[1])


@replica_reads()
def deductions_by_region(months: tuple[str, ...], direction: str, cities: list[str]) -> dict[str, Decimal] | None:
    """审核扣款 per region and direction over `months`, for 审核扣款率 = 扣款 ÷ 总费用.

    None while the portal holds no deduction records (the pages then show “—”
    with the reason). Deductions (第五十三条) count in the clearing month they land in, against
    the insured region (outflow) or the treatment region (inflow); the province sums its cities."""
    from clearing.adjustments import deduction_totals
    from clearing.models import ClearingAdjustment

    if not ClearingAdjustment.objects.filter(kind=ClearingAdjustment.Kind.DEDUCTION).exists():
        return None
    by = "insured_region" if direction == OUTFLOW else "treatment_region"
    wanted = set(cities)
    totals: dict[str, Decimal] = {}
    for month in months:
        for code, amount in deduction_totals(period=month, by=by).items():
            city = code if code in wanted else f"{code[:4]}00"
            if city in wanted:
                totals[city] = totals.get(city, rules.ZERO) + abs(amount)
    if cities:
        province = f"{cities[0][:2]}0000"
        totals[province] = sum(totals.values(), rules.ZERO)
    return totals


@dataclass
class RegionFigures:
    code: str
    name: str
    months: int
    outflow: dict[str, Totals] = field(default_factory=dict)  # current / previous / year_ago
    inflow: dict[str, Totals] = field(default_factory=dict)
    cross_out_fund: Decimal = rules.ZERO  # fund of our insured treated in other provinces, this period
    manual_out: int = 0
    manual_in: int = 0
    advance: Decimal | None = None  # this year's cross-province advance, 元
    balance: FundBalance | None = None
    deducted: dict[str, Decimal] | None = None
    flags: list[rules.Flag] = field(default_factory=list)

    def totals(self, direction: str, which: str = "current") -> Totals:
        return getattr(self, direction).get(which, Totals())

    def growth(self, direction: str, which: str) -> Decimal | None:
        return rules.growth(self.totals(direction), getattr(self, direction).get(which))

    def direct_rate(self, direction: str) -> Decimal | None:
        manual = self.manual_out if direction == OUTFLOW else self.manual_in
        return rules.direct_settlement_rate(self.totals(direction).visits, manual)

    def deduction_rate(self, direction: str) -> Decimal | None:
        if self.deducted is None:
            return None
        return rules.share(self.deducted.get(direction, rules.ZERO), self.totals(direction).total)

    @property
    def advance_usage(self) -> Decimal | None:
        """预付金使用率: the (monthly average) cross-province fund spending ÷ this year's advance."""
        if not self.advance:
            return None
        return rules.share(self.cross_out_fund / self.months, self.advance)

    @property
    def payable_months(self) -> Decimal | None:
        if self.balance is None:
            return None
        return rules.payable_months(self.balance.balance, self.balance.monthly_expenditure)

    def indicator_values(self) -> dict[tuple[str, str], Decimal | None]:
        values: dict[tuple[str, str], Decimal | None] = {}
        for direction in (OUTFLOW, INFLOW):
            values[("avg_cost_mom", direction)] = self.growth(direction, "previous")
            values[("avg_cost_yoy", direction)] = self.growth(direction, "year_ago")
            values[("fund_ratio", direction)] = self.totals(direction).fund_ratio
            values[("direct_rate", direction)] = self.direct_rate(direction)
        values[("advance_usage", "")] = self.advance_usage
        values[("payable_months", "")] = self.payable_months
        return values

    def flag_for(self, indicator: str, direction: str = "") -> rules.Flag | None:
        return next((flag for flag in self.flags if flag.indicator == indicator and flag.direction == direction), None)


def _period_keys(spec: rules.PeriodSpec) -> dict[str, str]:
    """month -> current / previous / year_ago."""
    keys = {month: "current" for month in spec.months}
    for name in ("previous", "year_ago"):
        other = getattr(spec, name)
        if other is not None:
            keys.update({month: name for month in other.months})
    return keys


@replica_reads()
def active_lines() -> list[tuple[str, str, str, Decimal]]:
    return list(Threshold.objects.filter(active=True).values_list("region_id", "indicator", "direction", "value"))


@replica_reads()
def region_figures(spec: rules.PeriodSpec, codes: list[str] | None = None) -> dict[str, RegionFigures]:
    """The figures of each city (and the province, their sum) for a period, with
    their flags. A constant number of queries whatever the number of cities."""
    province = home_province_code()
    cities = home_cities()
    city_codes = [city.code for city in cities]
    names = {city.code: city.short_name for city in cities}
    names[province] = Region.objects.filter(code=province).values_list("short_name", flat=True).first() or province
    wanted = codes or [*city_codes, province]
    keys = _period_keys(spec)
    figures = {code: RegionFigures(code, names.get(code, code), len(spec.months)) for code in [*city_codes, province]}
    rows = (
        RegionSummary.objects.filter(period__in=list(keys), region__in=list(figures))
        .values("period", "direction", "region").annotate(**_sums(cross=Sum("fund_amount", filter=Q(cross_province=True)))).order_by()
    )
    for row in rows:
        which = keys[row["period"]]
        item = figures[row["region"]]
        block = getattr(item, row["direction"])
        block[which] = block.get(which, Totals()) + _totals(row)
        if row["direction"] == OUTFLOW and which == "current":
            item.cross_out_fund += row["cross"] or rules.ZERO
    _add_manual_claims(spec, figures, city_codes, province)
    _add_advances(spec, figures, province)
    _add_balances(spec, figures, province)
    for direction in (OUTFLOW, INFLOW):
        deducted = deductions_by_region(spec.months, direction, city_codes)
        if deducted is not None:
            for code, amount in deducted.items():
                if code in figures:
                    figures[code].deducted = {**(figures[code].deducted or {}), direction: amount}
    lines = active_lines()
    for code, item in figures.items():
        item.flags = rules.evaluate(code, item.indicator_values(), rules.effective_lines(lines, code, province))
    return {code: figures[code] for code in wanted if code in figures}


def _add_manual_claims(spec, figures, city_codes, province) -> None:
    from reimbursement.models import Claim

    start, end = _month_bounds(spec.months)
    claims = Claim.objects.filter(discharge_date__range=(start, end)).exclude(status=Claim.Status.CANCELLED)
    for code, count in claims.filter(region_id__in=city_codes).values_list("region_id").annotate(n=Count("pk")).values_list("region_id", "n"):
        figures[code].manual_out += count
        figures[province].manual_out += count
    for code, count in (
        claims.filter(treatment_region_id__in=city_codes).values_list("treatment_region_id")
        .annotate(n=Count("pk")).values_list("treatment_region_id", "n")
    ):
        figures[code].manual_in += count
        figures[province].manual_in += count


def _add_advances(spec, figures, province) -> None:
    from clearing.models import CrossAdvance, EmergencyIncreaseLine

    wan: dict[str, int] = defaultdict(int)
    for code, amount in CrossAdvance.objects.filter(year=spec.year).values_list("region_id", "approved_amount"):
        wan[code] += amount
    for code, amount in EmergencyIncreaseLine.objects.filter(increase__year=spec.year).values_list("region_id", "amount"):
        wan[code] += amount
    for code, amount in wan.items():
        if code in figures and amount:
            figures[code].advance = Decimal(amount) * 10000
    total = sum(amount for code, amount in wan.items() if code in figures and code != province)
    if total:
        figures[province].advance = Decimal(total) * 10000


def _add_balances(spec, figures, province) -> None:
    """The latest balance entered up to the period's last month, per region."""
    for record in FundBalance.objects.filter(period__lte=spec.last_month).select_related("region").order_by("region_id", "-period"):
        item = figures.get(record.region_id)
        if item is not None and item.balance is None:
            item.balance = record


# --- Breakdowns, trends and rankings of one region ---------------------------------------


@dataclass
class BreakdownRow:
    label: str
    current: Totals
    previous: Totals | None
    year_ago: Totals | None
    level: int = 0  # 0 detail, 1 subtotal, 2 total

    @property
    def mom(self) -> Decimal | None:
        return rules.growth(self.current, self.previous)

    @property
    def yoy(self) -> Decimal | None:
        return rules.growth(self.current, self.year_ago)


@replica_reads()
def breakdown(spec: rules.PeriodSpec, code: str, direction: str) -> list[BreakdownRow]:
    """职工/居民 × 住院/门诊/门慢特 with subtotals and a total: one query."""
    keys = _period_keys(spec)
    cells: dict[tuple[str, str, str], Totals] = defaultdict(Totals)
    rows = (
        RegionSummary.objects.filter(direction=direction, region=code, period__in=list(keys))
        .values("period", "insurance_type", "care_type").annotate(**_sums()).order_by()
    )
    for row in rows:
        key = (keys[row["period"]], row["insurance_type"], row["care_type"])
        cells[key] = cells[key] + _totals(row)

    def pick(which: str, insurance: str | None, care: str | None) -> Totals | None:
        if which != "current" and getattr(spec, which) is None:
            return None
        result = Totals()
        for (w, ins, ct), value in cells.items():
            if w == which and (insurance is None or ins == insurance) and (care is None or ct == care):
                result = result + value
        return result

    def row(label: str, insurance: str | None, care: str | None, level: int) -> BreakdownRow:
        return BreakdownRow(label, pick("current", insurance, care), pick("previous", insurance, care), pick("year_ago", insurance, care), level)

    result = []
    for insurance, insurance_label in INSURANCE_TYPES:
        for care, care_label in CARE_TYPES:
            result.append(row(f"{insurance_label} · {care_label}", insurance, care, 0))
        result.append(row(f"{insurance_label}小计", insurance, None, 1))
    for care, care_label in CARE_TYPES:
        result.append(row(f"{care_label}合计（职工+居民）", None, care, 1))
    result.append(row("合计", None, None, 2))
    return result


@replica_reads()
def trend(code: str, months: list[str]) -> dict[str, list]:
    """Monthly visits, totals and averages of both directions over `months`: one query."""
    found: dict[tuple[str, str], Totals] = {
        (row["direction"], row["period"]): _totals(row)
        for row in RegionSummary.objects.filter(region=code, period__in=months)
        .values("direction", "period").annotate(**_sums()).order_by()
    }
    data: dict[str, list] = {"labels": months}
    for direction in (OUTFLOW, INFLOW):
        series = [found.get((direction, month), Totals()) for month in months]
        data[f"{direction}_visits"] = [item.visits for item in series]
        data[f"{direction}_total"] = [float(item.total) for item in series]
        data[f"{direction}_fund"] = [float(item.fund) for item in series]
        data[f"{direction}_avg"] = [float(rules.half_up(item.avg_cost, rules.CENT)) if item.avg_cost is not None else None for item in series]
        data[f"{direction}_ratio"] = [
            float(rules.half_up(item.fund_ratio * 100, rules.CENT)) if item.fund_ratio is not None else None for item in series
        ]
    return data


@dataclass
class RankRow:
    code: str
    label: str
    totals: Totals


@replica_reads()
def top_places(spec: rules.PeriodSpec, code: str, direction: str, limit: int = 10) -> list[RankRow]:
    """Outflow: where the region's insured were treated (就医地: provinces and cities);
    inflow: where the patients treated in the region are insured (参保地). One query."""
    rows = (
        CounterpartSummary.objects.filter(direction=direction, region=code, period__in=spec.months)
        .values("counterpart").annotate(**_sums()).order_by("-t", "counterpart")[:limit]
    )
    names = region_names()
    return [RankRow(row["counterpart"], names.get(row["counterpart"], row["counterpart"]), _totals(row)) for row in rows]


@replica_reads()
def top_institutions(spec: rules.PeriodSpec, code: str, direction: str, limit: int = 10) -> list[RankRow]:
    """定点医药机构 by total cost: where the region's insured went (outflow), or the
    region's own institutions (inflow). One query on the region's own ranking rows."""
    rows = (
        InstitutionSummary.objects.filter(direction=direction, region=code, period__in=spec.months)
        .values("institution", "treatment_region").annotate(**_sums()).order_by("-t", "institution")[:limit]
    )
    names = region_names()
    return [
        RankRow(row["treatment_region"], f"{row['institution']}（{names.get(row['treatment_region'], row['treatment_region'])}）", _totals(row))
        for row in rows
    ]


@replica_reads()
def latest_period() -> str | None:
    """The latest month whose aggregates hold any records."""
    return SummaryBuild.objects.filter(settlement_count__gt=0).order_by("-period").values_list("period", flat=True).first()


@replica_reads()
def periods_with_data() -> list[str]:
    return list(SummaryBuild.objects.filter(settlement_count__gt=0).order_by("-period").values_list("period", flat=True))
