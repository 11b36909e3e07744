"""Gathering the terms from the policy tables: versions by date, the 江西 switch, missing data."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import DomainError
from reimbursement.benefits import BenefitCase, calculate_case
from reimbursement.models import BenefitRule, PolicyVersion
from reimbursement.tests.factories import make_policy

D = Decimal
pytestmark = pytest.mark.django_db

FIRST_PAY = {"referral": D("10"), "emergency": D("10"), "other_temporary": D("20"), "unfiled": D("20")}


@pytest.fixture
def ganzhou():
    """A 江西-style region: 个人先行自付 until 2026-01-31, ratio reductions from 2026-02-01."""
    old = make_policy("360700", date(2024, 1, 1), mode="first_pay", first_pay=FIRST_PAY,
                      cross={key: D("0") for key in FIRST_PAY} | {"long_term": D("0")})
    new = make_policy("360700", date(2026, 2, 1), mode="ratio_reduction", reduction_outside_critical_illness=True)
    return old, new


def case(**changes):
    values = dict(region_code="360700", insurance_type="390", care_type="inpatient", hospital_level="3", designated=True,
                  emergency=False, scope="cross_province", adjustment_situation="other_temporary",
                  admission_date=date(2026, 1, 20), discharge_date=date(2026, 1, 31), total_amount=D("21200.00"),
                  in_scope_amount=D("21200.00"))
    values.update(changes)
    return BenefitCase(**values)


def test_jiangxi_switch_on_1_february_2026(ganzhou):
    old, new = ganzhou
    before = calculate_case(case())
    assert before.policy == old
    year = before.result.years[0]
    assert year.first_pay_amount == D("4240.00")  # 20 % 个人先行自付
    assert year.effective_ratio == D("65")  # no reduction in first-pay mode
    assert before.result.fund_payment == D("10244.00")  # (21200 − 4240 − 1200) × 65 %
    after = calculate_case(case(discharge_date=date(2026, 2, 1)))
    assert after.policy == new
    year = after.result.years[0]
    assert year.first_pay_amount == D("0.00")
    assert year.effective_ratio == D("45")  # 65 − 20 points
    assert after.result.fund_payment == D("9000.00")  # (21200 − 1200) × 45 %
    assert year.critical_illness_excluded == D("4000.00")  # residents: kept out of the 大病 deductible


def test_referral_under_both_jiangxi_rules(ganzhou):
    before = calculate_case(case(adjustment_situation="referral")).result
    after = calculate_case(case(adjustment_situation="referral", discharge_date=date(2026, 2, 2))).result
    assert before.first_pay_amount == D("2120.00") and before.years[0].effective_ratio == D("65")
    assert after.first_pay_amount == D("0.00") and after.years[0].effective_ratio == D("55")


def test_no_policy_in_force_is_a_clear_refusal():
    make_policy("320100", date(2026, 6, 1))
    with pytest.raises(DomainError, match="南京市没有在 2026-03-10 生效的待遇政策版本"):
        calculate_case(case(region_code="320100", discharge_date=date(2026, 3, 10)))


def test_inactive_version_is_skipped():
    older = make_policy("320100", date(2024, 1, 1))
    newer = make_policy("320100", date(2026, 1, 1))
    PolicyVersion.objects.filter(pk=newer.pk).update(is_active=False)
    assert calculate_case(case(region_code="320100", discharge_date=date(2026, 3, 10))).policy == older


def test_missing_rule_line_is_a_clear_refusal():
    policy = make_policy("320100", date(2024, 1, 1))
    BenefitRule.objects.filter(policy=policy, insurance_type="390", care_type="inpatient", hospital_level="2").delete()
    with pytest.raises(DomainError, match="城乡居民基本医疗保险·住院·二级医疗机构的待遇标准"):
        calculate_case(case(region_code="320100", hospital_level="2"))


def test_unrated_institution_uses_the_level_1_line_and_says_so():
    make_policy("320100", date(2024, 1, 1))
    result = calculate_case(case(region_code="320100", hospital_level="0")).result
    assert "未定级机构按一级标准" in result.steps[1].detail
    assert result.years[0].base_ratio == D("85")


def test_situation_without_a_row_is_not_reduced_and_says_so():
    policy = make_policy("320100", date(2024, 1, 1))
    policy.adjustments.filter(scope="cross_province", situation="student").delete()
    result = calculate_case(case(region_code="320100", adjustment_situation="student")).result
    assert result.years[0].reduction_points == D("0")
    assert "本政策未规定降低或先行自付" in result.years[0].reduction_reason
