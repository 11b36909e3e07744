"""The pure benefit calculation: plain values in, every step out."""

from datetime import date
from decimal import Decimal

import pytest

from reimbursement.policy import (
    FIRST_PAY,
    Adjustment,
    BenefitInput,
    CalculationError,
    RuleTerms,
    YearTerms,
    benefit_years,
    calculate_benefit,
    stay_days,
)

D = Decimal
EMPLOYEE_L3 = RuleTerms(deductible=D("1000.00"), ratio=D("85"), yearly_cap=D("300000.00"), label="职工·住院·三级")


def case(in_scope="10000.00", out="0.00", *, terms=EMPLOYEE_L3, adjustment=None, used=("0", "0"), **extra):
    in_scope = D(in_scope)
    out = D(out)
    year = YearTerms(
        year=2026,
        terms=terms,
        adjustment=adjustment or Adjustment(),
        deductible_used_before=D(used[0]),
        fund_used_before=D(used[1]),
        reduction_outside_critical_illness=extra.pop("outside_critical", False),
    )
    return BenefitInput(
        total_amount=in_scope + out,
        in_scope_amount=in_scope,
        self_funded_amount=out,
        years=(year,),
        **extra,
    )


def titles(result):
    return [step.title for step in result.steps]


def test_plain_case_deductible_then_ratio():
    result = calculate_benefit(case("10000.00", "2000.00"))
    assert result.deductible_applied == D("1000.00")
    assert result.fund_payment == D("7650.00")  # (10000 - 1000) × 85 %
    assert result.personal_payment == D("4350.00")
    assert result.fund_payment + result.personal_payment == result.total_amount
    assert titles(result) == ["费用构成", "适用政策", "起付标准", "支付比例", "按比例计算", "最高支付限额", "基金支付合计", "个人现金支付"]


def test_deductible_partly_met_by_an_earlier_claim():
    result = calculate_benefit(case("10000.00", used=("600.00", "0")))
    year = result.years[0]
    assert year.deductible_used_before == D("600.00")
    assert year.deductible_applied == D("400.00")
    assert result.fund_payment == D("8160.00")  # (10000 - 400) × 85 %
    step = next(s for s in result.steps if s.title == "起付标准")
    assert "已累计 600.00" in step.detail and "尚余 400.00" in step.detail


def test_deductible_fully_met_earlier_applies_nothing():
    result = calculate_benefit(case("10000.00", used=("1500.00", "0")))
    assert result.deductible_applied == D("0.00")
    assert result.fund_payment == D("8500.00")


def test_in_scope_amount_below_the_deductible_pays_nothing():
    result = calculate_benefit(case("700.00", "300.00"))
    assert result.deductible_applied == D("700.00")
    assert result.fund_payment == D("0.00")
    assert result.personal_payment == D("1000.00")


def test_cap_reached_limits_the_fund_payment():
    result = calculate_benefit(case("30000.00", used=("1000.00", "290000.00")))
    year = result.years[0]
    assert year.fund_before_cap == D("25500.00")
    assert year.cap_remaining == D("10000.00")
    assert year.cap_applied
    assert result.fund_payment == D("10000.00")
    assert result.personal_payment == D("20000.00")
    step = next(s for s in result.steps if s.title == "最高支付限额")
    assert "超过余额" in step.detail and "已支付 290,000.00" in step.detail


def test_cap_already_exhausted_pays_nothing():
    result = calculate_benefit(case("5000.00", used=("1000.00", "300000.00")))
    assert result.fund_payment == D("0.00")


@pytest.mark.parametrize(
    ("points", "reason", "fund"),
    [
        (D("0"), "长期异地居住人员在备案地就医", D("7650.00")),
        (D("10"), "跨省异地转诊人员", D("6750.00")),  # 9000 × 75 %
        (D("10"), "跨省异地急诊抢救人员", D("6750.00")),
        (D("20"), "非急诊且未转诊的其他临时外出就医人员", D("5850.00")),  # 9000 × 65 %
        (D("5"), "省内转诊到设区市外就医", D("7200.00")),  # 9000 × 80 %
        (D("20"), "未按规定办理备案", D("5850.00")),
    ],
)
def test_each_ratio_reduction_with_its_reason(points, reason, fund):
    result = calculate_benefit(case("10000.00", adjustment=Adjustment(reduction_points=points, reason=reason)))
    assert result.fund_payment == fund
    year = result.years[0]
    assert year.reduction_points == points
    assert year.effective_ratio == D("85") - points
    step = next(s for s in result.steps if s.title == "支付比例")
    assert reason in step.detail
    if points:
        assert f"降低 {points.normalize():f} 个百分点" in step.detail


def test_reduction_larger_than_the_ratio_stops_at_zero():
    low = RuleTerms(deductible=D("0"), ratio=D("15"), yearly_cap=D("1000"))
    result = calculate_benefit(case("500.00", terms=low, adjustment=Adjustment(reduction_points=D("20"))))
    assert result.years[0].effective_ratio == D("0")
    assert result.fund_payment == D("0.00")


def test_first_pay_share_mode_takes_the_share_before_the_deductible():
    # 江西 before 2026-02-01: 10 % 个人先行自付 for a referral, no ratio reduction.
    adjustment = Adjustment(mode=FIRST_PAY, reduction_points=D("10"), first_pay_percent=D("10"), reason="转外就医")
    result = calculate_benefit(case("10000.00", adjustment=adjustment))
    year = result.years[0]
    assert year.first_pay_amount == D("1000.00")
    assert year.effective_ratio == D("85")  # points are ignored in first-pay mode
    assert result.fund_payment == D("6800.00")  # (10000 - 1000 - 1000) × 85 %
    assert result.first_pay_amount == D("1000.00")
    assert "个人先行自付" in titles(result)


def test_reduced_part_is_kept_out_of_the_residents_critical_illness_deductible():
    resident = RuleTerms(deductible=D("1200"), ratio=D("65"), yearly_cap=D("250000"))
    adjustment = Adjustment(reduction_points=D("20"), reason="其他临时外出就医")
    result = calculate_benefit(
        case("11200.00", terms=resident, adjustment=adjustment, outside_critical=True, insurance_type="390")
    )
    year = result.years[0]
    assert result.fund_payment == D("4500.00")  # 10000 × 45 %
    assert year.reduced_amount == D("2000.00")  # 10000 × 20 points
    assert year.critical_illness_excluded == D("2000.00")
    assert "大病保险" in titles(result)


def test_employees_have_no_critical_illness_exclusion():
    result = calculate_benefit(
        case("10000.00", adjustment=Adjustment(reduction_points=D("20")), outside_critical=True, insurance_type="310")
    )
    assert result.years[0].critical_illness_excluded == D("0.00")
    assert "大病保险" not in titles(result)


def test_non_designated_institution_fund_pays_nothing():
    result = calculate_benefit(case("10000.00", "500.00", designated=False))
    assert not result.paid
    assert result.fund_payment == D("0.00")
    assert result.personal_payment == D("10500.00")
    assert "非定点医疗机构" in titles(result)
    assert "第十九条" in result.steps[1].detail


def test_emergency_in_non_designated_institution_is_paid():
    adjustment = Adjustment(reduction_points=D("10"), reason="异地急诊抢救人员")
    result = calculate_benefit(case("10000.00", designated=False, emergency=True, adjustment=adjustment))
    assert result.paid
    assert result.fund_payment == D("6750.00")


def test_emergency_in_province_keeps_the_full_ratio():
    # 江苏 第十九条: emergency care nearby is not reduced.
    result = calculate_benefit(case("2000.00", emergency=True, adjustment=Adjustment(reason="省内急诊抢救")))
    assert result.fund_payment == D("850.00")


def test_rounding_is_half_up_to_the_cent():
    terms = RuleTerms(deductible=D("0"), ratio=D("85"), yearly_cap=D("100000"))
    result = calculate_benefit(case("100.01", terms=terms))  # 85.0085 -> 85.01
    assert result.fund_payment == D("85.01")
    result = calculate_benefit(case("100.03", terms=terms))  # 85.0255 -> 85.03
    assert result.fund_payment == D("85.03")


def test_split_by_days_across_a_year_end():
    # Admitted 2025-12-28, discharged 2026-01-05: 4 days in 2025, 4 in 2026.
    years = benefit_years(date(2025, 12, 28), date(2026, 1, 5), split_by_days=True)
    assert [(y, d) for y, d, _ in years] == [(2025, 4), (2026, 4)]
    old = YearTerms(year=2025, days=4, terms=EMPLOYEE_L3, deductible_used_before=D("1000.00"))
    new = YearTerms(year=2026, days=4, terms=EMPLOYEE_L3)
    result = calculate_benefit(
        BenefitInput(total_amount=D("10000.01"), in_scope_amount=D("10000.01"), years=(old, new))
    )
    first, second = result.years
    assert first.in_scope_amount == D("5000.01")  # 5000.005 rounded half up
    assert second.in_scope_amount == D("5000.00")  # the rest, so the parts add up to the cent
    assert first.deductible_applied == D("0.00")  # 2025's deductible was already met
    assert second.deductible_applied == D("1000.00")  # 2026 starts afresh
    assert result.fund_payment == first.fund_payment + second.fund_payment
    assert "跨年度住院按天数分割" in titles(result)


def test_whole_settlement_uses_the_discharge_year_only():
    years = benefit_years(date(2025, 12, 28), date(2026, 1, 5), split_by_days=False)
    assert years == [(2026, None, date(2026, 1, 5))]


def test_stay_days_counts_admission_not_discharge():
    assert stay_days(date(2026, 3, 2), date(2026, 3, 10)) == 8
    assert stay_days(date(2026, 3, 2), date(2026, 3, 2)) == 1


def test_unbalanced_fee_breakdown_is_refused():
    bad = BenefitInput(
        total_amount=D("1000.00"),
        in_scope_amount=D("900.00"),
        self_funded_amount=D("99.99"),
        years=(YearTerms(year=2026, terms=EMPLOYEE_L3),),
    )
    with pytest.raises(CalculationError, match="费用构成不平衡.*相差 0.01"):
        calculate_benefit(bad)


def test_negative_and_sub_cent_amounts_are_refused():
    with pytest.raises(CalculationError, match="不能为负数"):
        calculate_benefit(case("-1.00"))
    with pytest.raises(CalculationError, match="两位小数"):
        calculate_benefit(case("10.001"))


def test_result_snapshot_is_json_ready():
    import json

    data = calculate_benefit(case("10000.00")).as_json()
    json.dumps(data)
    assert data["fund_payment"] == "7650.00"
    assert data["steps"][0]["title"] == "费用构成"
