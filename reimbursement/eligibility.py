"""Whether a claim may be reimbursed manually, and which ratio situation applies.

The six situations (江苏规程 第二十六条 plus 补办, domain.md §3):
(1) filed but could not settle directly; (2) not filed, emergency treatment
nearby; (3) insured students at home during the winter/summer vacation;
(4) maternity care away from home; (5) other cases the region allows;
(6) retroactive filing (补办) after a self-paid discharge (新疆 (四), 江苏 第十八条).

A pure function over plain values: the caller supplies the filing query result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.jurisdictions import RuleSet, rules_for

# filings.selectors.FilingStatus values
FILED = "filed"
DEEMED_FILED = "deemed_filed"
LATE_FILED = "late_filed"
NOT_FILED = "not_filed"

LONG_TERM_PERSON_TYPES = {"retired_resettled", "long_term_resident", "posted_worker"}

#: When a region has published no vacation calendar for a year: January–February and July–August.
DEFAULT_VACATION_MONTHS = ((1, 2, "寒假"), (7, 8, "暑假"))


@dataclass(frozen=True)
class VacationPeriod:
    """A winter or summer vacation of the students insured in a region (reference data)."""

    name: str
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.name} {self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def _month_end(year: int, month: int) -> date:
    return (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)


def default_vacation_periods(year: int) -> tuple[VacationPeriod, ...]:
    return tuple(
        VacationPeriod(name, date(year, first, 1), _month_end(year, last)) for first, last, name in DEFAULT_VACATION_MONTHS
    )


def in_vacation(day: date, periods: tuple[VacationPeriod, ...] | None) -> bool:
    periods = default_vacation_periods(day.year) if periods is None else periods
    return any(day in period for period in periods)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return min(day.replace(day=1, year=year, month=month) + timedelta(days=day.day - 1), _month_end(year, month))


@dataclass(frozen=True)
class EligibilityFacts:
    situation: str
    filing_status: str
    filing_person_type: str | None
    filing_message: str
    care_type: str
    rescue: bool
    insurance_type: str
    insured_region: str
    treatment_region: str
    treatment_region_name: str
    institution_name: str
    designated: bool
    admission_date: date
    discharge_date: date
    settlement_failure: str = ""
    other_case_given: bool = False
    filing_allows_manual: bool = False  # a 补办 filing made after a self-paid discharge
    filing_applied_on: date | None = None  # when the filing was applied for (a 补办: after the care)
    # 江苏 第十八条: a 补办 made by this day (the region's time limit after discharge) restores normal benefits.
    retroactive_limit: date | None = None
    retroactive_limit_text: str = ""  # e.g. "出院后3个月"
    # The region's student vacations in the admission year; None: the default months.
    vacation_periods: tuple[VacationPeriod, ...] | None = None


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]
    scope: str  # intra_province / cross_province
    adjustment_situation: str
    note: str

    @property
    def message(self) -> str:
        return "；".join(self.reasons)


def scope_of(insured_region: str, treatment_region: str) -> str:
    return "intra_province" if insured_region[:2] == treatment_region[:2] else "cross_province"


def late_beyond_limit(facts: EligibilityFacts) -> bool:
    """A 补办 filing made after the region's time limit (江苏 第十八条)."""
    return bool(
        facts.filing_status == LATE_FILED
        and facts.retroactive_limit is not None
        and facts.filing_applied_on is not None
        and facts.filing_applied_on > facts.retroactive_limit
    )


def adjustment_situation_for(facts: EligibilityFacts) -> str:
    """The ratio situation.

    Emergency care is never reduced for a missing filing (第十九条). A 补办 filing made
    after the region's time limit counts as going without a filing (第十八条: −20 points
    at most); made in time, the filing's person type applies as if filed. Then a
    long-term filing (full ratio), emergency/rescue, the filing's person type. Without
    a filing, student-vacation and maternity care are grounds of their own (第二十六条
    (三)(四), no filing required); any other case is care without the filing the
    region requires: `unfiled`.
    """
    emergency = facts.care_type == "emergency" or facts.rescue
    if late_beyond_limit(facts):
        return "emergency" if emergency else "unfiled"
    has_filing = facts.filing_status in {FILED, LATE_FILED, DEEMED_FILED} and facts.filing_person_type
    person_type = facts.filing_person_type if has_filing else None
    if person_type in LONG_TERM_PERSON_TYPES:
        return "long_term"
    if emergency or person_type == "emergency" or facts.filing_status == DEEMED_FILED:
        return "emergency"
    if person_type == "referral":
        return "referral"
    if person_type == "other_temporary":
        return "other_temporary"
    if facts.situation == "student_vacation":
        return "student"
    if facts.situation == "maternity":
        return "maternity"
    return "unfiled"


def _rules(facts: EligibilityFacts) -> RuleSet:
    """The insured region's province rules on the day of discharge: the articles messages cite."""
    return rules_for(facts.insured_region, on=facts.discharge_date)


def _unfiled_text(facts: EligibilityFacts, rules: RuleSet) -> str:
    """"（第十八条，降幅不超过20个百分点）" from the province's article and cap; "" without either."""
    cap = rules.reduction_cap(scope_of(facts.insured_region, facts.treatment_region), "unfiled")
    article = rules.article("unfiled")
    parts = [article] if article else []
    if article and cap.points is not None:
        parts.append(f"降幅不超过{cap.points.normalize():f}个百分点")
    return f"（{'，'.join(parts)}）" if parts else ""


def adjustment_note(facts: EligibilityFacts, adjustment: str) -> str:
    """Why this ratio situation (shown on the claim)."""
    rules = _rules(facts)
    limit = facts.retroactive_limit
    within = f"（{facts.retroactive_limit_text}，{limit:%Y-%m-%d} 前）" if limit else ""
    if facts.filing_status == LATE_FILED and limit is not None and facts.filing_applied_on is not None:
        if late_beyond_limit(facts):
            text = (
                f"补办备案日期 {facts.filing_applied_on:%Y-%m-%d} 超过参保地规定的补办时限{within}，"
                f"按未按规定办理备案直接异地就医处理{rules.cited('unfiled')}"
            )
            return text + (_emergency_not_reduced(facts, rules) if adjustment == "emergency" else "")
        return (
            f"补办备案日期 {facts.filing_applied_on:%Y-%m-%d} 在参保地规定时限内{within}，"
            f"零星报销待遇按照参保地规定执行{rules.cited('unfiled')}"
        )
    if adjustment == "unfiled":
        return f"未按参保地规定办理异地就医备案直接异地就医，支付比例按参保地规定降低{_unfiled_text(facts, rules)}"
    return ""


def _emergency_not_reduced(facts: EligibilityFacts, rules: RuleSet) -> str:
    """"；急诊抢救不降低支付比例（第十九条）" where the province's cap for emergencies is 0."""
    cap = rules.reduction_cap(scope_of(facts.insured_region, facts.treatment_region), "emergency")
    if cap.points is None or cap.points != 0:
        return ""
    return f"；急诊抢救不降低支付比例{rules.cited('emergency_not_reduced')}"


def assess(facts: EligibilityFacts) -> Eligibility:
    reasons: list[str] = []
    emergency = facts.care_type == "emergency" or facts.rescue
    if facts.treatment_region == facts.insured_region:
        reasons.append(
            f"就医地（{facts.treatment_region_name}）与参保地相同，不属于异地就医，请按参保地本地就医规定办理。"
        )
    if not facts.designated and not emergency:
        reasons.append(
            f"“{facts.institution_name}”不是定点医疗机构：除急诊、抢救外，在非定点医疗机构就医发生的费用医保基金不予支付"
            f"{_rules(facts).cited('non_designated')}。"
        )

    situation = facts.situation
    if situation == "filed_not_settled":
        if facts.filing_status != FILED:
            reasons.append(
                f"就医时没有有效的异地就医备案（{facts.filing_message or '未查到备案'}），"
                "不能按“已备案，未能直接结算”办理。"
            )
        if not facts.settlement_failure:
            reasons.append("请选择未能直接结算的原因（如就医机构未联网、社会保障卡未激活）。")
    elif situation == "emergency_unfiled":
        if not emergency:
            reasons.append("“未备案，急诊抢救就近就医”只适用于急诊或抢救费用：请选择急诊费用类型或勾选“抢救”。")
    elif situation == "student_vacation":
        if facts.insurance_type != "390":
            reasons.append("“参保学生寒暑假回原籍就医”只适用于参加城乡居民基本医疗保险的学生。")
        if not in_vacation(facts.admission_date, facts.vacation_periods):
            periods = facts.vacation_periods
            if periods is None:
                periods = default_vacation_periods(facts.admission_date.year)
            listed = "；".join(str(period) for period in periods) or "参保地未规定"
            reasons.append(
                f"就医日期 {facts.admission_date:%Y-%m-%d} 不在寒暑假期间（{listed}），不能按参保学生寒暑假就医报销。"
            )
    elif situation == "maternity":
        if facts.care_type != "maternity":
            reasons.append("“异地生育”情形的费用类型应为生育。")
        if not facts.designated:
            reasons.append(f"异地生育费用须发生在就医地定点医疗机构{_rules(facts).cited('maternity_designated')}。")
    elif situation == "other_allowed":
        if not facts.other_case_given:
            reasons.append("请选择参保地规定的其他可以零星报销的情形；参保地没有公布的情形不能受理。")
    elif situation == "retroactive":
        if facts.filing_status != LATE_FILED:
            reasons.append(
                f"没有查到出院后补办的异地就医备案（{facts.filing_message or '未查到备案'}）："
                "请先补办备案，再按补办情形申请零星报销。"
            )
        elif not facts.filing_allows_manual:
            reasons.append(
                "该补办备案不是“出院自费结算后补办”（出院前补办的应由医疗机构直接结算），不能按补办情形申请零星报销。"
            )
    else:
        reasons.append(f"未知的报销情形：{situation!r}。")

    scope = scope_of(facts.insured_region, facts.treatment_region)
    adjustment = adjustment_situation_for(facts)
    note = adjustment_note(facts, adjustment)
    return Eligibility(
        eligible=not reasons, reasons=tuple(reasons), scope=scope, adjustment_situation=adjustment, note=note
    )


def suggest_situation(
    *,
    filing_status: str,
    care_type: str,
    rescue: bool,
    insurance_type: str,
    admission_date: date | None,
    vacation_periods: tuple[VacationPeriod, ...] | None = None,
) -> str:
    """What the counter would usually pick, given the filing query (the clerk can change it)."""
    if care_type == "maternity":
        return "maternity"
    if filing_status == FILED:
        return "filed_not_settled"
    if filing_status == LATE_FILED:
        return "retroactive"
    if care_type == "emergency" or rescue or filing_status == DEEMED_FILED:
        return "emergency_unfiled"
    if insurance_type == "390" and admission_date and in_vacation(admission_date, vacation_periods):
        return "student_vacation"
    return "other_allowed"
