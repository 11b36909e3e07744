"""Clearing arithmetic and calendar as plain functions over plain values.

No database here: the monthly clearing folds the database's GROUP BY result
(a few hundred cells, never the settlement rows) into the intra-province
balance and the cross-province matrices; the advance formulas and the usage
rate are the rules of 江苏 第二十九–三十二条 and 新疆 四(一).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.money import yuan_to_wanyuan

ZERO = Decimal("0.00")
EMPLOYEE = "310"
RESIDENT = "390"

#: 第四十九条: clearing may be delayed at most two months.
MAX_LATE_MONTHS = 2
#: 第三十一条(二): the emergency increase may start at a usage rate of 90 % and above.
EMERGENCY_THRESHOLD = Decimal("0.90")
#: 第四十七、四十八条: net payers pay within 10 working days of the stamp date.
PAYMENT_WORKING_DAYS = 10
#: 第三十条: the intra-province advance is paid within 10 working days.
INTRA_ADVANCE_WORKING_DAYS = 10
#: 第三十一条: city → finance bureau in 5 working days, finance → province in 5.
CROSS_ADVANCE_WORKING_DAYS = 10
DATA_DUE_DAY = 20
CLEARING_DUE_DAY = 28

SCOPE_INTRA = "intra"
SCOPE_CROSS_OUT = "cross_out"
SCOPE_CROSS_IN = "cross_in"


# --- Periods and the calendar -----------------------------------------------------


#: The years a clearing period can belong to: the dates derived from a period (deadlines a
#: year ahead) must stay within what the calendar and Python's dates can hold.
FIRST_YEAR = 2000
LAST_YEAR = 2099


def parse_period(value: str) -> tuple[int, int]:
    """'2026-03' -> (2026, 3); ValueError for anything else."""
    if len(value) != 7 or value[4] != "-" or not (value[:4].isdigit() and value[5:].isdigit()):
        raise ValueError(f"清算所属期“{value}”格式不正确，应为 YYYY-MM（如 2026-03）")
    year, month = int(value[:4]), int(value[5:])
    if not 1 <= month <= 12:
        raise ValueError(f"清算所属期“{value}”不是有效月份")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"清算所属期“{value}”超出可办理的年份范围（{FIRST_YEAR}–{LAST_YEAR}年），请核对")
    return year, month


def valid_year(value, default: int) -> int:
    """A year typed into a page's filter, or `default` when it is none (text, 99999)."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR:
        return int(text)
    return default


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def next_month(period: str) -> str:
    return period_of(*add_months(*parse_period(period), 1))


def previous_month(period: str) -> str:
    return period_of(*add_months(*parse_period(period), -1))


def period_start(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, 1)


def period_end(period: str) -> date:
    year, month = add_months(*parse_period(period), 1)
    return date.fromordinal(date(year, month, 1).toordinal() - 1)


def data_due(period: str) -> date:
    """Cities upload the month's reconciled settlements by the 20th of the next month."""
    year, month = add_months(*parse_period(period), 1)
    return date(year, month, DATA_DUE_DAY)


def clearing_due(period: str) -> date:
    """The province generates the month's clearing by the 28th of the next month."""
    year, month = add_months(*parse_period(period), 1)
    return date(year, month, CLEARING_DUE_DAY)


def latest_clearing_date(period: str) -> date:
    """第四十九条: clearing may be delayed at most two months."""
    year, month = add_months(*parse_period(period), 1 + MAX_LATE_MONTHS)
    return date(year, month, CLEARING_DUE_DAY)


def year_close_due(year: int) -> date:
    """第四十九条: a year's settlements are cleared by the end of Q1 of the next year."""
    return date(year + 1, 3, 31)


def late_months(settled_on: date, period: str) -> int:
    """How many months after the settlement's own month it is declared (0 = on time;
    negative = a period before the settlement happened)."""
    year, month = parse_period(period)
    return (year * 12 + month) - (settled_on.year * 12 + settled_on.month)


def months_of_year(year: int) -> list[str]:
    return [period_of(year, month) for month in range(1, 13)]


def months_between(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, both included ([] when last < first)."""
    months = []
    while first <= last:
        months.append(first)
        first = next_month(first)
    return months


# --- Regions and the fold ----------------------------------------------------------


def province_of(code: str) -> str:
    return f"{code[:2]}0000"


@dataclass(frozen=True)
class Areas:
    """Our province and its cities: enough to say where a settlement belongs."""

    home_province: str
    cities: tuple[str, ...]

    def area_of(self, code: str) -> str:
        """A city of ours stays itself; anything else folds into its province."""
        return code if code in self.cities else province_of(code)

    def scope_of(self, insured_area: str, treatment_area: str) -> str | None:
        insured_home = insured_area in self.cities
        treatment_home = treatment_area in self.cities
        if insured_home and treatment_home:
            return SCOPE_INTRA if insured_area != treatment_area else None
        if insured_home:
            return SCOPE_CROSS_OUT
        if treatment_home:
            return SCOPE_CROSS_IN
        return None


@dataclass
class Amounts:
    employee: Decimal = ZERO
    resident: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.employee + self.resident

    def add(self, other: Amounts) -> None:
        self.employee += other.employee
        self.resident += other.resident

    def __neg__(self) -> Amounts:
        return Amounts(-self.employee, -self.resident)

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(self.employee - other.employee, self.resident - other.resident)

    def is_zero(self) -> bool:
        return self.employee == 0 and self.resident == 0

    def as_json(self) -> dict[str, str]:
        return {"employee": money_text(self.employee), "resident": money_text(self.resident), "total": money_text(self.total)}


@dataclass
class Cell:
    scope: str
    insured_area: str
    treatment_area: str
    amounts: Amounts = field(default_factory=Amounts)
    count: int = 0


def fold_cells(aggregates: Iterable[Mapping], areas: Areas) -> dict[tuple[str, str], Cell]:
    """Fold the GROUP BY (insured_region, treatment_region) rows into clearing
    cells: other provinces' city codes join their province. Rows outside the
    province's clearing (which the importer refuses) are ignored."""
    cells: dict[tuple[str, str], Cell] = {}
    for row in aggregates:
        insured = areas.area_of(row["insured_region"])
        treatment = areas.area_of(row["treatment_region"])
        scope = areas.scope_of(insured, treatment)
        if scope is None:
            continue
        cell = cells.get((insured, treatment))
        if cell is None:
            cell = cells[(insured, treatment)] = Cell(scope, insured, treatment)
        cell.amounts.add(Amounts(row["employee"] or ZERO, row["resident"] or ZERO))
        cell.count += row["count"]
    return cells


@dataclass
class CityPosition:
    """附件10 row: what a city's hospitals advanced for others (receivable), what
    others advanced for its insured (payable), and the difference."""

    city: str
    receivable: Amounts = field(default_factory=Amounts)
    payable: Amounts = field(default_factory=Amounts)

    @property
    def net(self) -> Amounts:
        return self.receivable - self.payable


def intra_positions(cells: Iterable[Cell], cities: Iterable[str]) -> dict[str, CityPosition]:
    positions = {city: CityPosition(city) for city in cities}
    for cell in cells:
        if cell.scope != SCOPE_INTRA:
            continue
        positions[cell.treatment_area].receivable.add(cell.amounts)
        positions[cell.insured_area].payable.add(cell.amounts)
    return positions


def cross_matrices(cells: Iterable[Cell]) -> dict[str, dict[str, dict[str, Amounts]]]:
    """{"payable": {city: {province: Amounts}}, "receivable": {city: {province: Amounts}}}."""
    payable: dict[str, dict[str, Amounts]] = {}
    receivable: dict[str, dict[str, Amounts]] = {}
    for cell in cells:
        if cell.scope == SCOPE_CROSS_OUT:
            payable.setdefault(cell.insured_area, {}).setdefault(cell.treatment_area, Amounts()).add(cell.amounts)
        elif cell.scope == SCOPE_CROSS_IN:
            receivable.setdefault(cell.treatment_area, {}).setdefault(cell.insured_area, Amounts()).add(cell.amounts)
    return {"payable": payable, "receivable": receivable}


def money_text(value: Decimal) -> str:
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount == 0:
        amount = abs(amount)  # never "-0.00"
    return f"{amount:.2f}"


def clearing_document(period: str, cells: Iterable[Cell], cities: list[str]) -> dict:
    """The shape `run_clearing --json` prints (domain.md §7)."""
    cells = list(cells)
    positions = intra_positions(cells, cities)
    matrices = cross_matrices(cells)

    def block(matrix: dict[str, dict[str, Amounts]]) -> dict:
        return {
            city: {province: amounts.as_json() for province, amounts in sorted(row.items()) if amounts.total != 0}
            for city, row in sorted(matrix.items())
            if any(amounts.total != 0 for amounts in row.values())
        }

    return {
        "period": period,
        "intra_province": {
            city: {
                "receivable": positions[city].receivable.as_json(),
                "payable": positions[city].payable.as_json(),
                "net": positions[city].net.as_json(),
            }
            for city in cities
        },
        "cross_province": {"payable": block(matrices["payable"]), "receivable": block(matrices["receivable"])},
    }


# --- Advances ----------------------------------------------------------------------

METHOD_NET_OUTFLOW_SHARE = "net_outflow_share"
# 新疆's 2 × last-Q4 monthly average is a cross-province formula: clearing.advance_formulas.


def advance_formula_text(method: str, factor: Decimal) -> str:
    percent = (Decimal(factor) * 100).normalize()
    return f"本年核定额度计算公式为：上年省内跨市就医直接结算基金支出差出额乘以{percent:f}%（以万元为单位，不保留小数）。"


def net_outflow(monthly_nets: Iterable[Decimal]) -> Decimal:
    """A city's outflow (差出额) over some months: what it paid out on balance,
    zero for a city that received more than it paid."""
    total = sum((Decimal(value) for value in monthly_nets), ZERO)
    return -total if total < 0 else ZERO


def intra_advance_amount(*, method: str, factor: Decimal, year_net: Decimal) -> tuple[Decimal, int]:
    """(basis in yuan, advance in whole 万元 rounded half up): 江苏 第二十九条, basis = last
    year's net outflow, advance = basis × 20 % (the factor is the province's rule-set value)."""
    basis = net_outflow([year_net])
    return basis, yuan_to_wanyuan(basis * Decimal(factor))


def split_by_weights(total: int, weights: Mapping[str, Decimal]) -> dict[str, int]:
    """Split whole 万元 over keys in proportion to `weights`, so the parts add up
    to `total` exactly: round down, then hand the remaining 万元 to the largest
    remainders (ties: larger weight first, then key order)."""
    positive = {key: Decimal(weight) for key, weight in weights.items() if Decimal(weight) > 0}
    result = {key: 0 for key in weights}
    if total == 0:
        return result
    weight_sum = sum(positive.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("没有可用于分摊的占比数据")
    sign = 1 if total > 0 else -1
    magnitude = abs(total)
    exact = {key: Decimal(magnitude) * weight / weight_sum for key, weight in positive.items()}
    floors = {key: int(value) for key, value in exact.items()}
    left = magnitude - sum(floors.values())
    order = sorted(positive, key=lambda key: (-(exact[key] - floors[key]), -positive[key], key))
    for key in order[:left]:
        floors[key] += 1
    for key, value in floors.items():
        result[key] = sign * value
    return result


def split_cents_by_weights(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split a yuan amount to the cent in proportion to `weights` (sum kept exact)."""
    cents = int((Decimal(amount) * 100).to_integral_value(rounding=ROUND_HALF_UP))
    parts = split_by_weights(cents, weights)
    return {key: Decimal(value) / 100 for key, value in parts.items()}


def shares(weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    total = sum((Decimal(value) for value in weights.values()), Decimal(0))
    if total <= 0:
        return {key: Decimal(0) for key in weights}
    return {key: (Decimal(value) / total).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP) for key, value in weights.items()}


def usage_rate(monthly_amount: Decimal, advance_wanyuan: int | Decimal) -> Decimal | None:
    """预付金使用率 = 月度清算资金 ÷ 预付金 (第三十一条(二)); None without an advance."""
    advance = Decimal(advance_wanyuan) * 10000
    if advance <= 0:
        return None
    return Decimal(monthly_amount) / advance


def needs_emergency_increase(rate: Decimal | None) -> bool:
    """At 90 % and above the emergency increase may start (“达到90%及以上”)."""
    return rate is not None and rate >= EMERGENCY_THRESHOLD


def percent_text(rate: Decimal | None) -> str:
    if rate is None:
        return "—"
    return f"{(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
