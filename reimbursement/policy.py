"""Benefit calculation for manual reimbursement: a pure function over plain values.

The insured region's policy decides the deductible (起付标准), the payment ratio
and the yearly cap (最高支付限额); the treatment place's catalogue decided what
is in scope (统筹基金支付范围内费用), which arrives here as an amount (江苏规程
第十五条, 新疆 二(一)).

Fund payment = (in-scope amount − the part of the yearly deductible still unmet)
× ratio, limited by what is left of the yearly cap; the person pays the rest.
Temporary out-of-area care is paid less, either by a ratio reduction in
percentage points (national 医保发〔2024〕21号, 江西 from 2026-02-01, 江苏 第十八条)
or, under the older 江西 rules, by a personal first-pay share (个人先行自付)
taken off the in-scope amount before the deductible. Care in a non-designated
institution is not paid except emergencies and rescue (江苏 第十九条).

A hospital stay across a year end is settled on its discharge date as one
claim, or split by days between the two years (第四十四条): the caller decides
which years apply (see `benefit_years`) and passes one `YearTerms` per year.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.jurisdictions import RuleSet, rules_for
from core.money import format_yuan

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")

RATIO_REDUCTION = "ratio_reduction"
FIRST_PAY = "first_pay"


class CalculationError(ValueError):
    """Input the calculation cannot work with; the message says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _yuan(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _pct(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return f"{text}%"


def _points(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


@dataclass(frozen=True)
class RuleTerms:
    """Deductible, ratio (percent) and yearly cap of one policy line."""

    deductible: Decimal
    ratio: Decimal
    yearly_cap: Decimal
    label: str = ""  # e.g. "南京市2026年政策（2026-01-01起）职工·住院·三级"


@dataclass(frozen=True)
class Adjustment:
    """How this situation is paid less: reduction points or a first-pay share."""

    mode: str = RATIO_REDUCTION
    reduction_points: Decimal = ZERO
    first_pay_percent: Decimal = ZERO
    reason: str = ""  # e.g. "跨省异地转诊人员（医保发〔2024〕21号）"


@dataclass(frozen=True)
class YearTerms:
    """One benefit year's terms and what the person's earlier claims that year already used."""

    year: int
    terms: RuleTerms
    adjustment: Adjustment = field(default_factory=Adjustment)
    days: int | None = None  # stay days falling in this year (split mode)
    deductible_used_before: Decimal = ZERO
    fund_used_before: Decimal = ZERO
    reduction_outside_critical_illness: bool = False


@dataclass(frozen=True)
class BenefitInput:
    total_amount: Decimal
    in_scope_amount: Decimal
    class_b_self_pay: Decimal = ZERO
    over_limit_self_pay: Decimal = ZERO
    self_funded_amount: Decimal = ZERO
    designated: bool = True
    emergency: bool = False
    insurance_type: str = "310"
    years: tuple[YearTerms, ...] = ()
    rules: RuleSet | None = None  # the insured region's province rules: the articles the steps cite


@dataclass(frozen=True)
class Step:
    title: str
    detail: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class YearResult:
    year: int
    days: int | None
    in_scope_amount: Decimal
    first_pay_amount: Decimal
    deductible: Decimal
    deductible_used_before: Decimal
    deductible_applied: Decimal
    base_ratio: Decimal
    reduction_points: Decimal
    reduction_reason: str
    effective_ratio: Decimal
    fund_before_cap: Decimal
    yearly_cap: Decimal
    fund_used_before: Decimal
    cap_remaining: Decimal
    cap_applied: bool
    fund_payment: Decimal
    reduced_amount: Decimal  # what the ratio reduction took off the fund payment
    critical_illness_excluded: Decimal  # reduced part kept out of the residents' 大病 deductible


@dataclass(frozen=True)
class BenefitResult:
    total_amount: Decimal
    in_scope_amount: Decimal
    out_of_scope_amount: Decimal  # 乙类先行自付 + 超限价自付 + 自费
    first_pay_amount: Decimal
    deductible_applied: Decimal
    fund_payment: Decimal
    personal_payment: Decimal
    paid: bool  # False: the fund pays nothing (non-designated institution)
    years: tuple[YearResult, ...]
    steps: tuple[Step, ...]

    def as_json(self) -> dict:
        """A JSON-safe snapshot (amounts as strings) kept on the claim."""

        def convert(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dict):
                return {key: convert(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return [convert(item) for item in value]
            return value

        return convert(asdict(self))


def stay_days(admission: date, discharge: date) -> int:
    """住院天数, counting the admission day but not the discharge day; a same-day stay is one day."""
    return max(1, (discharge - admission).days)


def benefit_years(admission: date, discharge: date, *, split_by_days: bool) -> list[tuple[int, int | None, date]]:
    """The benefit years a stay is settled in: (year, days in that year or None, reference date).

    Whole settlement (or a stay within one year): one entry, the discharge year,
    its terms taken on the discharge date. Split by days: one entry per year,
    each year's terms taken on that year's last day of the stay.
    """
    if discharge < admission:
        raise CalculationError("出院日期不能早于入院日期。")
    if not split_by_days or admission.year == discharge.year:
        return [(discharge.year, None, discharge)]
    result: list[tuple[int, int | None, date]] = []
    for year in range(admission.year, discharge.year + 1):
        start = max(admission, date(year, 1, 1))
        if year < discharge.year:
            end_exclusive = date(year + 1, 1, 1)
            days = (end_exclusive - start).days
            reference = date(year, 12, 31)
        else:
            days = (discharge - start).days
            reference = discharge
        if days > 0:
            result.append((year, days, reference))
    if not result:  # discharged on 1 January after admission on 31 December
        return [(discharge.year, None, discharge)]
    return result


def _check_amounts(inp: BenefitInput) -> None:
    names = {
        "total_amount": "总费用",
        "in_scope_amount": "统筹基金支付范围内费用",
        "class_b_self_pay": "乙类先行自付费用",
        "over_limit_self_pay": "超限价自付费用",
        "self_funded_amount": "自费费用",
    }
    for attribute, label in names.items():
        value = getattr(inp, attribute)
        if not isinstance(value, Decimal):
            raise CalculationError(f"{label}应为 Decimal 金额。")
        if value < 0:
            raise CalculationError(f"{label}不能为负数。")
        if _yuan(value) != value:
            raise CalculationError(f"{label}最多保留两位小数（分）。")
    parts = inp.in_scope_amount + inp.class_b_self_pay + inp.over_limit_self_pay + inp.self_funded_amount
    if parts != inp.total_amount:
        raise CalculationError(
            f"费用构成不平衡：总费用 {format_yuan(inp.total_amount)} 元，而统筹基金支付范围内费用、乙类先行自付、"
            f"超限价自付与自费费用之和为 {format_yuan(parts)} 元（相差 {format_yuan(inp.total_amount - parts)} 元）。"
        )
    if not inp.years:
        raise CalculationError("没有适用的待遇年度。")
    for terms in inp.years:
        rule = terms.terms
        if not (ZERO <= rule.ratio <= HUNDRED):
            raise CalculationError(f"支付比例 {rule.ratio} 不在 0–100% 之间。")
        if rule.deductible < 0 or rule.yearly_cap < 0:
            raise CalculationError("起付标准和最高支付限额不能为负数。")
        if terms.deductible_used_before < 0 or terms.fund_used_before < 0:
            raise CalculationError("此前累计金额不能为负数。")
    if len(inp.years) > 1 and any(terms.days is None or terms.days <= 0 for terms in inp.years):
        raise CalculationError("按天数分割时每个年度都需要住院天数。")


def _split_in_scope(inp: BenefitInput) -> list[Decimal]:
    if len(inp.years) == 1:
        return [inp.in_scope_amount]
    total_days = sum(terms.days for terms in inp.years)
    shares: list[Decimal] = []
    remaining = inp.in_scope_amount
    for index, terms in enumerate(inp.years):
        if index == len(inp.years) - 1:
            shares.append(remaining)
        else:
            share = _yuan(inp.in_scope_amount * terms.days / total_days)
            shares.append(share)
            remaining -= share
    return shares


def calculate_benefit(inp: BenefitInput) -> BenefitResult:
    """Fund payment, personal payment and every step, from plain values."""
    _check_amounts(inp)
    rules = inp.rules or rules_for(None)
    steps: list[Step] = []
    out_of_scope = inp.class_b_self_pay + inp.over_limit_self_pay + inp.self_funded_amount
    steps.append(
        Step(
            "费用构成",
            f"总费用 {format_yuan(inp.total_amount)} = 统筹基金支付范围内费用 {format_yuan(inp.in_scope_amount)}"
            f" + 乙类先行自付 {format_yuan(inp.class_b_self_pay)} + 超限价自付 {format_yuan(inp.over_limit_self_pay)}"
            f" + 自费 {format_yuan(inp.self_funded_amount)}；统筹范围外 {format_yuan(out_of_scope)} 元由个人负担。",
            inp.in_scope_amount,
        )
    )

    if not inp.designated and not inp.emergency:
        steps.append(
            Step(
                "非定点医疗机构",
                f"在非定点医疗机构就医发生的费用（急诊、抢救除外），医疗保障基金不予支付{rules.cited('non_designated')}。",
                ZERO,
            )
        )
        steps.append(Step("基金支付合计", "基金支付 0.00 元。", ZERO))
        steps.append(Step("个人现金支付", f"总费用 {format_yuan(inp.total_amount)} 全部由个人支付。", inp.total_amount))
        return BenefitResult(
            total_amount=inp.total_amount,
            in_scope_amount=inp.in_scope_amount,
            out_of_scope_amount=out_of_scope,
            first_pay_amount=ZERO,
            deductible_applied=ZERO,
            fund_payment=ZERO,
            personal_payment=inp.total_amount,
            paid=False,
            years=(),
            steps=tuple(steps),
        )
    if not inp.designated:
        steps.append(
            Step("非定点医疗机构", f"急诊、抢救发生在非定点医疗机构的费用，按规定纳入基金支付{rules.cited('non_designated')}。")
        )

    shares = _split_in_scope(inp)
    if len(inp.years) > 1:
        total_days = sum(terms.days for terms in inp.years)
        parts = "；".join(
            f"{terms.year}年 {terms.days} 天：{format_yuan(share)} 元" for terms, share in zip(inp.years, shares, strict=True)
        )
        steps.append(
            Step(
                "跨年度住院按天数分割",
                f"住院共 {total_days} 天，统筹基金支付范围内费用按日均费用分割到两个年度{rules.cited('year_split')}：{parts}。",
            )
        )

    year_results: list[YearResult] = []
    for terms, in_scope in zip(inp.years, shares, strict=True):
        year_results.append(_calculate_year(terms, in_scope, inp.insurance_type, steps, several=len(inp.years) > 1))

    fund = sum((result.fund_payment for result in year_results), ZERO)
    personal = inp.total_amount - fund
    first_pay = sum((result.first_pay_amount for result in year_results), ZERO)
    deductible = sum((result.deductible_applied for result in year_results), ZERO)
    steps.append(
        Step(
            "基金支付合计",
            " + ".join(f"{format_yuan(result.fund_payment)}" for result in year_results)
            + f" = {format_yuan(fund)} 元。"
            if len(year_results) > 1
            else f"基金支付 {format_yuan(fund)} 元。",
            fund,
        )
    )
    steps.append(
        Step(
            "个人现金支付",
            f"总费用 {format_yuan(inp.total_amount)} − 基金支付 {format_yuan(fund)} = {format_yuan(personal)} 元"
            f"（其中统筹范围外 {format_yuan(out_of_scope)}，起付标准 {format_yuan(deductible)}"
            + (f"，个人先行自付 {format_yuan(first_pay)}" if first_pay else "")
            + f"，范围内个人按比例负担（含超出限额部分）{format_yuan(personal - out_of_scope - deductible - first_pay)}）。",
            personal,
        )
    )
    return BenefitResult(
        total_amount=inp.total_amount,
        in_scope_amount=inp.in_scope_amount,
        out_of_scope_amount=out_of_scope,
        first_pay_amount=first_pay,
        deductible_applied=deductible,
        fund_payment=fund,
        personal_payment=personal,
        paid=True,
        years=tuple(year_results),
        steps=tuple(steps),
    )


def _calculate_year(terms: YearTerms, in_scope: Decimal, insurance_type: str, steps: list[Step], *, several: bool) -> YearResult:
    rule = terms.terms
    prefix = f"{terms.year}年 · " if several else ""
    steps.append(
        Step(
            f"{prefix}适用政策",
            f"{rule.label or '参保地政策'}：年度起付标准 {format_yuan(rule.deductible)} 元，支付比例 {_pct(rule.ratio)}，"
            f"年度最高支付限额 {format_yuan(rule.yearly_cap)} 元。",
        )
    )
    adjustment = terms.adjustment

    first_pay = ZERO
    if adjustment.mode == FIRST_PAY and adjustment.first_pay_percent > 0:
        first_pay = _yuan(in_scope * adjustment.first_pay_percent / HUNDRED)
        steps.append(
            Step(
                f"{prefix}个人先行自付",
                f"{adjustment.reason or '临时外出就医'}：统筹基金支付范围内费用 {format_yuan(in_scope)} × "
                f"{_pct(adjustment.first_pay_percent)} = {format_yuan(first_pay)} 元先由个人自付，"
                f"其余 {format_yuan(in_scope - first_pay)} 元按参保地比例计算。",
                first_pay,
            )
        )
    elif adjustment.mode == FIRST_PAY:
        steps.append(Step(f"{prefix}个人先行自付", f"{adjustment.reason or '本情形'}不设个人先行自付。", ZERO))
    base = in_scope - first_pay

    deductible_left = max(ZERO, rule.deductible - terms.deductible_used_before)
    deductible_applied = min(base, deductible_left)
    steps.append(
        Step(
            f"{prefix}起付标准",
            f"年度起付标准 {format_yuan(rule.deductible)} 元，本年度此前各笔报销已累计 {format_yuan(terms.deductible_used_before)} 元，"
            f"尚余 {format_yuan(deductible_left)} 元；本次计入起付标准 {format_yuan(deductible_applied)} 元。",
            deductible_applied,
        )
    )
    payable_base = base - deductible_applied

    points = adjustment.reduction_points if adjustment.mode == RATIO_REDUCTION else ZERO
    effective_ratio = max(ZERO, rule.ratio - points)
    if adjustment.mode == RATIO_REDUCTION and points > 0:
        ratio_text = (
            f"参保地支付比例 {_pct(rule.ratio)} − 降低 {_points(points)} 个百分点"
            f"（{adjustment.reason or '临时外出就医'}）= {_pct(effective_ratio)}。"
        )
    elif adjustment.mode == RATIO_REDUCTION:
        ratio_text = f"参保地支付比例 {_pct(rule.ratio)}，不降低（{adjustment.reason or '按参保地同级医疗机构比例'}）。"
    else:
        ratio_text = f"参保地支付比例 {_pct(rule.ratio)}（个人先行自付方式，不另降低比例）。"
    steps.append(Step(f"{prefix}支付比例", ratio_text, effective_ratio))

    fund_before_cap = _yuan(payable_base * effective_ratio / HUNDRED)
    steps.append(
        Step(
            f"{prefix}按比例计算",
            f"（{format_yuan(base)} − 起付标准 {format_yuan(deductible_applied)}）× {_pct(effective_ratio)} = {format_yuan(fund_before_cap)} 元。",
            fund_before_cap,
        )
    )

    cap_remaining = max(ZERO, rule.yearly_cap - terms.fund_used_before)
    fund = min(fund_before_cap, cap_remaining)
    cap_applied = fund < fund_before_cap
    steps.append(
        Step(
            f"{prefix}最高支付限额",
            f"年度最高支付限额 {format_yuan(rule.yearly_cap)} 元，本年度此前已支付 {format_yuan(terms.fund_used_before)} 元，"
            f"尚余 {format_yuan(cap_remaining)} 元；"
            + (
                f"按比例计算的 {format_yuan(fund_before_cap)} 元超过余额，本次基金支付以余额 {format_yuan(fund)} 元为限。"
                if cap_applied
                else f"本次基金支付 {format_yuan(fund)} 元，未超过限额。"
            ),
            fund,
        )
    )

    reduced = ZERO
    excluded = ZERO
    if adjustment.mode == RATIO_REDUCTION and points > 0:
        reduced = _yuan(payable_base * (rule.ratio - effective_ratio) / HUNDRED)
        if terms.reduction_outside_critical_illness and insurance_type == "390":
            excluded = reduced
            steps.append(
                Step(
                    f"{prefix}大病保险",
                    f"支付比例降幅部分 {format_yuan(reduced)} 元不纳入居民医保大病保险起付线计算和支付范围（参保地政策规定）。",
                    excluded,
                )
            )
    return YearResult(
        year=terms.year,
        days=terms.days,
        in_scope_amount=in_scope,
        first_pay_amount=first_pay,
        deductible=rule.deductible,
        deductible_used_before=terms.deductible_used_before,
        deductible_applied=deductible_applied,
        base_ratio=rule.ratio,
        reduction_points=points,
        reduction_reason=adjustment.reason,
        effective_ratio=effective_ratio,
        fund_before_cap=fund_before_cap,
        yearly_cap=rule.yearly_cap,
        fund_used_before=terms.fund_used_before,
        cap_remaining=cap_remaining,
        cap_applied=cap_applied,
        fund_payment=fund,
        reduced_amount=reduced,
        critical_illness_excluded=excluded,
    )
