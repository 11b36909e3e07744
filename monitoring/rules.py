"""Indicator arithmetic of 运行监测 (domain.md §5, §7): plain functions over
Decimal values, no database. Every rounding is half up (四舍五入); growth is
computed from the unrounded averages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

ZERO = Decimal("0")
CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")
#: 国 21号 二: a fund that can pay fewer than this many months warns.
PAYABLE_MONTHS_WARNING = Decimal("6")


def half_up(value: Decimal, places: Decimal) -> Decimal:
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)  # never "-0.0000"


def _exact_div(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        return Decimal(numerator) / Decimal(denominator)


# --- The indicators ----------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Visits and sums of a region, direction and period (any grouping)."""

    visits: int = 0
    total: Decimal = ZERO
    fund: Decimal = ZERO

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.visits + other.visits, self.total + other.total, self.fund + other.fund)

    @property
    def avg_cost(self) -> Decimal | None:
        """次均费用 = 总费用 ÷ 人次 (unrounded); None without visits."""
        return _exact_div(self.total, self.visits) if self.visits else None

    @property
    def fund_ratio(self) -> Decimal | None:
        """报销比例 = 基金支付 ÷ 总费用 (unrounded); None when nothing was spent."""
        return _exact_div(self.fund, self.total) if self.total else None


def growth(current: Totals, previous: Totals | None) -> Decimal | None:
    """涨幅 of 次均费用: current average ÷ previous average − 1, from the unrounded
    averages; None when either period has no visits (or the earlier average is 0)."""
    if previous is None or not current.visits or not previous.visits or not previous.total:
        return None
    with localcontext() as context:
        context.prec = 60
        return (current.total * previous.visits) / (previous.total * current.visits) - 1


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """A rate part ÷ whole (unrounded); None when the whole is zero."""
    return _exact_div(Decimal(part), Decimal(whole)) if whole else None


def direct_settlement_rate(direct: int, manual: int) -> Decimal | None:
    """直接结算率 = 直接结算人次 ÷ (直接结算人次 + 零星报销件数)."""
    return share(direct, direct + manual)


def payable_months(balance: Decimal, monthly_expenditure: Decimal) -> Decimal | None:
    """基金累计结余可支付月数, one decimal."""
    if not monthly_expenditure or monthly_expenditure <= 0:
        return None
    return half_up(_exact_div(balance, monthly_expenditure), TENTH)


# --- Text as the JSON and the pages print it ----------------------------------------


def money_text(value: Decimal) -> str:
    return f"{half_up(Decimal(value), CENT):.2f}"


def ratio_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{half_up(value, RATIO):.4f}"


def percent_text(value: Decimal | None, places: int = 2) -> str:
    """0.123456 -> "12.35%"; None -> "—"."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return f"{half_up(value * HUNDRED, quantum):.{places}f}%"


def signed_percent_text(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    text = percent_text(value, places)
    return text if text.startswith("-") or half_up(value * HUNDRED, Decimal(1).scaleb(-places)) == 0 else f"+{text}"


def indicator_json(current: Totals, previous: Totals | None, year_ago: Totals | None) -> dict:
    """One region's entry of `monitoring_report --json` (domain.md §7)."""
    avg = current.avg_cost
    ratio = current.fund_ratio
    return {
        "visits": current.visits,
        "total": money_text(current.total),
        "fund": money_text(current.fund),
        "avg_cost": money_text(avg if avg is not None else ZERO),
        "fund_ratio": ratio_text(ratio if ratio is not None else ZERO),
        "avg_cost_mom": ratio_text(growth(current, previous)),
        "avg_cost_yoy": ratio_text(growth(current, year_ago)),
    }


# --- Periods: a month, a quarter or a year --------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def month_code(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return month_code(index // 12, index % 12 + 1)


def months_ending(period: str, count: int) -> list[str]:
    """`count` months up to and including `period`, oldest first."""
    return [add_months(period, -back) for back in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class PeriodSpec:
    """A reporting period: its months, and the periods it is compared with."""

    kind: str  # month / quarter / year
    code: str  # 2026-03, 2026Q1, 2026
    months: tuple[str, ...]
    label: str
    previous: PeriodSpec | None = field(default=None, compare=False)
    year_ago: PeriodSpec | None = field(default=None, compare=False)

    @property
    def last_month(self) -> str:
        return self.months[-1]

    @property
    def year(self) -> int:
        return int(self.months[0][:4])


def _month_spec(year: int, month: int) -> PeriodSpec:
    return PeriodSpec("month", month_code(year, month), (month_code(year, month),), f"{year}年{month}月")


def _quarter_spec(year: int, quarter: int) -> PeriodSpec:
    months = tuple(month_code(year, 3 * (quarter - 1) + offset) for offset in (1, 2, 3))
    return PeriodSpec("quarter", f"{year}Q{quarter}", months, f"{year}年第{'一二三四'[quarter - 1]}季度")


def _year_spec(year: int) -> PeriodSpec:
    return PeriodSpec("year", f"{year}", tuple(month_code(year, m) for m in range(1, 13)), f"{year}年")


def parse_period(text: str) -> PeriodSpec:
    """"2026-03", "2026Q1" or "2026", with the periods it is compared with:
    环比 the month/quarter before (none for a year), 同比 the same period last year."""
    text = (text or "").strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
        spec = _month_spec(year, month)
        return PeriodSpec(spec.kind, spec.code, spec.months, spec.label, _month_spec(prev_year, prev_month), _month_spec(year - 1, month))
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        prev = _quarter_spec(year, quarter - 1) if quarter > 1 else _quarter_spec(year - 1, 4)
        spec = _quarter_spec(year, quarter)
        return PeriodSpec(spec.kind, spec.code, spec.months, spec.label, prev, _quarter_spec(year - 1, quarter))
    if match := _YEAR.match(text):
        year = int(match[1])
        spec = _year_spec(year)
        return PeriodSpec(spec.kind, spec.code, spec.months, spec.label, None, _year_spec(year - 1))
    raise ValueError(f"所属期“{text}”格式不对：月份写 YYYY-MM（如 2026-03），季度写 YYYYQn（如 2026Q1），年度写 YYYY。")


# --- Thresholds and flags --------------------------------------------------------------

#: Indicators whose warning fires above the line; the others fire below it.
CEILINGS = {"avg_cost_mom", "avg_cost_yoy", "advance_usage"}
PERCENT_INDICATORS = {"avg_cost_mom", "avg_cost_yoy", "fund_ratio", "direct_rate", "advance_usage"}

REASONS = {
    "avg_cost_mom": "次均费用环比{verb}{value}，超过预警线{line}",
    "avg_cost_yoy": "次均费用同比{verb}{value}，超过预警线{line}",
    "fund_ratio": "报销比例{value}，低于下限{line}",
    "direct_rate": "直接结算率{value}，低于下限{line}",
    "advance_usage": "预付金使用率{value}，超过预警线{line}",
    "payable_months": "基金累计结余可支付{value}，少于{line}",
}


@dataclass(frozen=True)
class Flag:
    region: str
    direction: str  # outflow / inflow / "" for the region as a whole
    indicator: str
    value: Decimal
    line: Decimal
    reason: str


def breaches(indicator: str, value: Decimal | None, line: Decimal) -> bool:
    """Whether `value` (a fraction for percentages, months for the fund) crosses
    the line (a percent for percentages)."""
    if value is None:
        return False
    limit = line / HUNDRED if indicator in PERCENT_INDICATORS else line
    return value > limit if indicator in CEILINGS else value < limit


def flag_reason(indicator: str, value: Decimal, line: Decimal) -> str:
    if indicator in PERCENT_INDICATORS:
        shown = percent_text(abs(value) if indicator in ("avg_cost_mom", "avg_cost_yoy") else value, 1)
        line_text = f"{half_up(line, TENTH):.1f}%"
    else:
        shown = f"{half_up(value, TENTH):.1f}个月"
        line_text = f"{half_up(line, TENTH):.1f}个月"
    verb = "上升" if value >= 0 else "下降"
    return REASONS[indicator].format(verb=verb, value=shown, line=line_text)


def effective_lines(lines: list[tuple[str, str, str, Decimal]], region: str, province: str) -> dict[tuple[str, str], Decimal]:
    """(indicator, direction) -> line for `region`: its own lines, else the
    province's. `lines` are (region, indicator, direction, value) of active thresholds."""
    chosen: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for owner, indicator, direction, value in lines:
        if owner not in (region, province):
            continue
        rank = 1 if owner == region else 0
        key = (indicator, direction)
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, value)
    return {key: value for key, (_rank, value) in chosen.items()}


def evaluate(region: str, values: dict[tuple[str, str], Decimal | None], lines: dict[tuple[str, str], Decimal]) -> list[Flag]:
    """Flags of one region: `values` maps (indicator, direction) to the indicator
    (direction "" for region-wide ones such as 可支付月数); a line with direction
    "both" applies to each direction."""
    flags = []
    for (indicator, direction), value in values.items():
        line = lines.get((indicator, direction))
        if line is None:
            line = lines.get((indicator, "both"))
        if line is None or not breaches(indicator, value, line):
            continue
        flags.append(Flag(region, direction, indicator, value, line, flag_reason(indicator, value, line)))
    return flags
