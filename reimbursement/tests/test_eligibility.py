from dataclasses import replace
from datetime import date

import pytest

from reimbursement.eligibility import EligibilityFacts, assess, suggest_situation

BASE = EligibilityFacts(
    situation="filed_not_settled",
    filing_status="filed",
    filing_person_type="long_term_resident",
    filing_message="已备案",
    care_type="inpatient",
    rescue=False,
    insurance_type="310",
    insured_region="320100",
    treatment_region="110000",
    treatment_region_name="北京市",
    institution_name="北京测试医院",
    designated=True,
    admission_date=date(2026, 3, 2),
    discharge_date=date(2026, 3, 10),
    settlement_failure="not_networked",
)


def test_filed_long_term_resident_is_eligible_at_full_ratio():
    result = assess(BASE)
    assert result.eligible
    assert result.scope == "cross_province"
    assert result.adjustment_situation == "long_term"


def test_same_place_is_not_out_of_area():
    result = assess(replace(BASE, treatment_region="320100", treatment_region_name="南京市"))
    assert not result.eligible
    assert "不属于异地就医" in result.message


def test_non_designated_institution_is_refused_unless_emergency():
    refused = assess(replace(BASE, designated=False))
    assert not refused.eligible and "第十九条" in refused.message
    allowed = assess(replace(BASE, designated=False, situation="emergency_unfiled", care_type="emergency", filing_status="deemed_filed", filing_person_type=None))
    assert allowed.eligible and allowed.adjustment_situation == "emergency"


def test_filed_not_settled_needs_a_valid_filing_and_a_reason():
    result = assess(replace(BASE, filing_status="not_filed", filing_person_type=None, filing_message="未备案：没有有效备案", settlement_failure=""))
    assert not result.eligible
    assert "没有有效的异地就医备案（未备案：没有有效备案）" in result.message
    assert "未能直接结算的原因" in result.message


def test_emergency_situation_needs_emergency_care():
    result = assess(replace(BASE, situation="emergency_unfiled", filing_status="not_filed", filing_person_type=None))
    assert not result.eligible and "急诊或抢救" in result.message
    rescue = assess(replace(BASE, situation="emergency_unfiled", filing_status="deemed_filed", filing_person_type=None, rescue=True))
    assert rescue.eligible and rescue.adjustment_situation == "emergency"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"insurance_type": "310"}, "城乡居民"),
        ({"admission_date": date(2026, 4, 2), "discharge_date": date(2026, 4, 5)}, "不在寒暑假期间"),
    ],
)
def test_student_vacation_rules(changes, message):
    ok = replace(BASE, situation="student_vacation", filing_status="not_filed", filing_person_type=None, insurance_type="390",
                 admission_date=date(2026, 7, 20), discharge_date=date(2026, 7, 25))
    assert assess(ok).eligible and assess(ok).adjustment_situation == "student"
    result = assess(replace(ok, **changes))
    assert not result.eligible and message in result.message


def test_maternity_needs_maternity_care_at_a_designated_institution():
    ok = replace(BASE, situation="maternity", care_type="maternity", filing_status="not_filed", filing_person_type=None)
    assert assess(ok).eligible and assess(ok).adjustment_situation == "maternity"
    assert "生育" in assess(replace(ok, care_type="inpatient")).message


def test_other_case_must_be_one_the_region_published():
    ok = replace(BASE, situation="other_allowed", filing_status="not_filed", filing_person_type=None, other_case_given=True)
    assert assess(ok).eligible
    assert "其他可以零星报销的情形" in assess(replace(ok, other_case_given=False)).message


def test_retroactive_needs_a_late_filing_made_after_a_self_paid_discharge():
    ok = replace(BASE, situation="retroactive", filing_status="late_filed", filing_person_type="other_temporary", filing_allows_manual=True)
    result = assess(ok)
    assert result.eligible and result.adjustment_situation == "other_temporary"
    assert "出院后补办" in assess(replace(ok, filing_status="not_filed")).message
    assert "出院自费结算后补办" in assess(replace(ok, filing_allows_manual=False)).message


def test_adjustment_situation_by_filing_type_and_scope():
    assert assess(replace(BASE, filing_person_type="referral")).adjustment_situation == "referral"
    assert assess(replace(BASE, filing_person_type="other_temporary")).adjustment_situation == "other_temporary"
    intra = assess(replace(BASE, treatment_region="320500", treatment_region_name="苏州市", filing_person_type="referral"))
    assert intra.scope == "intra_province" and intra.adjustment_situation == "referral"
    unfiled = replace(BASE, situation="emergency_unfiled", care_type="inpatient", filing_status="not_filed", filing_person_type=None)
    assert assess(unfiled).adjustment_situation == "unfiled"


def test_suggested_situation_follows_the_filing_query():
    assert suggest_situation(filing_status="filed", care_type="inpatient", rescue=False, insurance_type="310", admission_date=None) == "filed_not_settled"
    assert suggest_situation(filing_status="late_filed", care_type="inpatient", rescue=False, insurance_type="310", admission_date=None) == "retroactive"
    assert suggest_situation(filing_status="deemed_filed", care_type="emergency", rescue=False, insurance_type="310", admission_date=None) == "emergency_unfiled"
    assert suggest_situation(filing_status="not_filed", care_type="maternity", rescue=False, insurance_type="310", admission_date=None) == "maternity"


# --- 江苏 第十八条: going without a filing, and 补办 in time -------------------------------------


def test_other_allowed_case_without_a_filing_is_paid_as_unfiled():
    facts = replace(BASE, situation="other_allowed", filing_status="not_filed", filing_person_type=None,
                    other_case_given=True)
    result = assess(facts)
    assert result.eligible and result.adjustment_situation == "unfiled"
    assert "未按参保地规定办理异地就医备案" in result.note and "第十八条" in result.note


def test_student_and_maternity_cases_need_no_filing_and_keep_their_own_situation():
    student = replace(BASE, situation="student_vacation", filing_status="not_filed", filing_person_type=None,
                      insurance_type="390", admission_date=date(2026, 7, 20), discharge_date=date(2026, 7, 25))
    maternity = replace(BASE, situation="maternity", care_type="maternity", filing_status="not_filed",
                        filing_person_type=None)
    assert assess(student).adjustment_situation == "student"
    assert assess(maternity).adjustment_situation == "maternity"


RETRO = replace(BASE, situation="retroactive", filing_status="late_filed", filing_person_type="other_temporary",
                filing_allows_manual=True, filing_applied_on=date(2026, 5, 10),
                retroactive_limit=date(2026, 6, 10), retroactive_limit_text="出院后3个月")


def test_retroactive_filing_within_the_regional_limit_restores_normal_benefits():
    result = assess(RETRO)
    assert result.eligible and result.adjustment_situation == "other_temporary"
    assert "在参保地规定时限内" in result.note and "2026-06-10" in result.note
    # the last day of the limit still counts
    assert assess(replace(RETRO, filing_applied_on=date(2026, 6, 10))).adjustment_situation == "other_temporary"


def test_retroactive_filing_after_the_regional_limit_is_paid_as_unfiled():
    result = assess(replace(RETRO, filing_applied_on=date(2026, 6, 11)))
    assert result.eligible and result.adjustment_situation == "unfiled"
    assert "超过参保地规定的补办时限（出院后3个月，2026-06-10 前）" in result.note
    # a long-term filing made too late is still a late filing
    late_long_term = replace(RETRO, filing_person_type="long_term_resident", filing_applied_on=date(2026, 7, 1))
    assert assess(late_long_term).adjustment_situation == "unfiled"
    # emergency care is never reduced for a missing filing (第十九条)
    late_rescue = replace(RETRO, rescue=True, filing_applied_on=date(2026, 7, 1))
    assert assess(late_rescue).adjustment_situation == "emergency"


# --- Student vacations as regional data ---------------------------------------------------------


def test_vacation_periods_come_from_the_facts_with_months_1_2_7_8_by_default():
    from reimbursement.eligibility import default_vacation_periods

    periods = default_vacation_periods(2026)
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 1, 1), date(2026, 2, 28)), (date(2026, 7, 1), date(2026, 8, 31))]
    student = replace(BASE, situation="student_vacation", filing_status="not_filed", filing_person_type=None,
                      insurance_type="390", admission_date=date(2026, 6, 28), discharge_date=date(2026, 7, 2))
    assert not assess(student).eligible  # 28 June: not in July
    from reimbursement.eligibility import VacationPeriod

    early_summer = (VacationPeriod("暑假", date(2026, 6, 27), date(2026, 8, 31)),)
    assert assess(replace(student, vacation_periods=early_summer)).eligible
    refused = assess(replace(student, admission_date=date(2026, 6, 20), discharge_date=date(2026, 6, 22),
                             vacation_periods=early_summer))
    assert not refused.eligible
    assert "不在寒暑假期间（暑假 2026-06-27 至 2026-08-31）" in refused.message
