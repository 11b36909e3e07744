"""From the database to the pure calculation: policy versions, rule lines,
situation adjustments and what a person's earlier claims already used.

`reimbursement.policy.calculate_benefit` stays a pure function; this module
only gathers its plain inputs (used by the claim service and the 试算 page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from core.errors import DomainError
from core.jurisdictions import rules_for
from core.models import InsuranceType
from reimbursement.models import (
    AdjustmentSituation,
    BenefitRule,
    BenefitUsage,
    CareType,
    Claim,
    HospitalLevel,
    PolicyVersion,
    Scope,
    SituationAdjustment,
)
from reimbursement.policy import (
    FIRST_PAY,
    Adjustment,
    BenefitInput,
    BenefitResult,
    CalculationError,
    RuleTerms,
    YearTerms,
    benefit_years,
    calculate_benefit,
)

ZERO = Decimal("0.00")

#: Claims whose use of the deductible and cap counts for later claims: decided and not reversed.
COUNTED_STATUSES = (Claim.Status.APPROVED, Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID)


@dataclass(frozen=True)
class BenefitCase:
    """A case described by plain values (a claim, or what the 试算 page was given)."""

    region_code: str
    insurance_type: str
    care_type: str
    hospital_level: str
    designated: bool
    emergency: bool
    scope: str
    adjustment_situation: str
    admission_date: date
    discharge_date: date
    total_amount: Decimal
    in_scope_amount: Decimal
    class_b_self_pay: Decimal = ZERO
    over_limit_self_pay: Decimal = ZERO
    self_funded_amount: Decimal = ZERO


@dataclass(frozen=True)
class Calculation:
    result: BenefitResult
    policies: tuple[PolicyVersion, ...]
    usage: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def policy(self) -> PolicyVersion:
        """The version in force on the discharge (or visit) date."""
        return self.policies[-1]

    def snapshot(self) -> dict:
        data = self.result.as_json()
        data["policies"] = [
            {"id": policy.pk, "name": policy.name, "effective_from": policy.effective_from.isoformat()}
            for policy in self.policies
        ]
        return data


def policy_in_force(region_code: str, on_date: date) -> PolicyVersion:
    policy = PolicyVersion.objects.in_force(region_code, on_date)
    if policy is None:
        from core.models import Region

        name = Region.objects.filter(code=region_code).values_list("name", flat=True).first() or region_code
        raise DomainError(
            f"{name}没有在 {on_date:%Y-%m-%d} 生效的待遇政策版本，无法计算待遇：请系统管理员在“待遇政策版本”中录入。",
            code="no_policy",
        )
    return policy


def _rule_label(policy: PolicyVersion, insurance_type: str, care_type: str, level: str, note: str = "") -> str:
    return (
        f"{policy.name}（{policy.effective_from:%Y-%m-%d}起）"
        f"{InsuranceType(insurance_type).label}·{CareType(care_type).label}·{HospitalLevel(level).label}{note}"
    )


def rule_terms(policy: PolicyVersion, *, insurance_type: str, care_type: str, hospital_level: str) -> RuleTerms:
    rules = {
        rule.hospital_level: rule
        for rule in BenefitRule.objects.filter(policy=policy, insurance_type=insurance_type, care_type=care_type)
    }
    rule = rules.get(hospital_level)
    note = ""
    if rule is None and hospital_level == HospitalLevel.UNRATED and HospitalLevel.LEVEL_1 in rules:
        rule = rules[HospitalLevel.LEVEL_1]
        note = "（未定级机构按一级标准）"
    if rule is None:
        raise DomainError(
            f"政策“{policy}”没有{InsuranceType(insurance_type).label}·{CareType(care_type).label}·"
            f"{HospitalLevel(hospital_level).label}医疗机构的待遇标准，无法计算：请系统管理员补充。",
            code="no_rule",
        )
    return RuleTerms(
        deductible=rule.deductible,
        ratio=rule.ratio,
        yearly_cap=rule.yearly_cap,
        label=_rule_label(policy, insurance_type, care_type, hospital_level, note),
    )


def adjustment_for(policy: PolicyVersion, *, scope: str, situation: str) -> Adjustment:
    row = SituationAdjustment.objects.filter(policy=policy, scope=scope, situation=situation).first()
    who = f"{Scope(scope).label}·{AdjustmentSituation(situation).label}"
    if row is None:
        return Adjustment(mode=policy.adjustment_mode, reason=f"{who}，本政策未规定降低或先行自付")
    reason = who + (f"，{row.basis}" if row.basis else "")
    return Adjustment(
        mode=policy.adjustment_mode,
        reduction_points=row.reduction_points,
        first_pay_percent=row.first_pay_percent,
        reason=reason,
    )


def usage_before(*, person_id: int, year: int, care_type: str, exclude_claim_id: int | None = None) -> tuple[Decimal, Decimal]:
    """What the person's decided claims of `year` used of the deductible and the cap."""
    rows = BenefitUsage.objects.filter(
        claim__person_id=person_id, year=year, care_type=care_type, claim__status__in=COUNTED_STATUSES
    )
    if exclude_claim_id is not None:
        rows = rows.exclude(claim_id=exclude_claim_id)
    totals = rows.aggregate(deductible=Sum("deductible_applied"), fund=Sum("fund_payment"))
    return totals["deductible"] or ZERO, totals["fund"] or ZERO


def calculate_case(
    case: BenefitCase,
    *,
    person_id: int | None = None,
    exclude_claim_id: int | None = None,
    usage_override: dict[int, tuple[Decimal, Decimal]] | None = None,
) -> Calculation:
    """Gather the terms for `case` and run the pure calculation.

    Earlier usage comes from the person's decided claims (`person_id`), or is
    given directly (`usage_override`, the 试算 page's “此前已用” fields).
    """
    final_policy = policy_in_force(case.region_code, case.discharge_date)
    split = final_policy.cross_year_mode == PolicyVersion.CrossYearMode.SPLIT_BY_DAYS and case.care_type in (
        CareType.INPATIENT,
        CareType.MATERNITY,
    )
    try:
        years = benefit_years(case.admission_date, case.discharge_date, split_by_days=split)
    except CalculationError as exc:
        raise DomainError(exc.message, code="calculation") from None
    terms: list[YearTerms] = []
    policies: list[PolicyVersion] = []
    usage: dict[int, tuple[Decimal, Decimal]] = {}
    for year, days, reference in years:
        policy = final_policy if reference == case.discharge_date else policy_in_force(case.region_code, reference)
        if usage_override is not None:
            used = usage_override.get(year, (ZERO, ZERO))
        elif person_id is not None:
            used = usage_before(person_id=person_id, year=year, care_type=case.care_type, exclude_claim_id=exclude_claim_id)
        else:
            used = (ZERO, ZERO)
        usage[year] = used
        policies.append(policy)
        terms.append(
            YearTerms(
                year=year,
                days=days,
                terms=rule_terms(
                    policy,
                    insurance_type=case.insurance_type,
                    care_type=case.care_type,
                    hospital_level=case.hospital_level,
                ),
                adjustment=adjustment_for(policy, scope=case.scope, situation=case.adjustment_situation),
                deductible_used_before=used[0],
                fund_used_before=used[1],
                reduction_outside_critical_illness=policy.reduction_outside_critical_illness
                and policy.adjustment_mode != FIRST_PAY,
            )
        )
    benefit_input = BenefitInput(
        total_amount=case.total_amount,
        in_scope_amount=case.in_scope_amount,
        class_b_self_pay=case.class_b_self_pay,
        over_limit_self_pay=case.over_limit_self_pay,
        self_funded_amount=case.self_funded_amount,
        designated=case.designated,
        emergency=case.emergency,
        insurance_type=case.insurance_type,
        years=tuple(terms),
        rules=rules_for(case.region_code, on=case.discharge_date),
    )
    try:
        result = calculate_benefit(benefit_input)
    except CalculationError as exc:
        raise DomainError(exc.message, code="calculation") from None
    return Calculation(result=result, policies=tuple(policies), usage=usage)


def case_for_claim(claim: Claim) -> BenefitCase:
    return BenefitCase(
        region_code=claim.region_id,
        insurance_type=claim.insurance_type,
        care_type=claim.care_type,
        hospital_level=claim.hospital_level,
        designated=claim.designated,
        emergency=claim.is_emergency,
        scope=claim.scope,
        adjustment_situation=claim.adjustment_situation,
        admission_date=claim.admission_date,
        discharge_date=claim.discharge_date,
        total_amount=claim.total_amount,
        in_scope_amount=claim.in_scope_amount,
        class_b_self_pay=claim.class_b_self_pay,
        over_limit_self_pay=claim.over_limit_self_pay,
        self_funded_amount=claim.self_funded_amount,
    )


def calculate_claim(claim: Claim) -> Calculation:
    return calculate_case(case_for_claim(claim), person_id=claim.person_id, exclude_claim_id=claim.pk)
