"""Reduction caps per province and situation, as data by effective date (domain.md §3
table), read through core.jurisdictions.rules_for; a city's value above its cap is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.forms.models import inlineformset_factory

from core.jurisdictions import rules_for
from reimbursement.admin import SituationAdjustmentFormSet
from reimbursement.caps import reduction_cap_problem
from reimbursement.models import PolicyVersion, SituationAdjustment

D = Decimal


@pytest.mark.parametrize(
    ("region", "on", "scope", "situation", "cap"),
    [
        ("320100", date(2026, 3, 1), "intra_province", "referral", D("5")),
        ("320100", date(2026, 3, 1), "cross_province", "referral", D("5")),  # 第二条: cross-province too
        ("320100", date(2026, 3, 1), "cross_province", "emergency", D("0")),
        ("320100", date(2026, 3, 1), "cross_province", "unfiled", D("20")),
        ("360700", date(2026, 1, 31), "cross_province", "referral", None),  # 先行自付 until 2026-01-31
        ("360700", date(2026, 2, 1), "cross_province", "referral", D("10")),
        ("360700", date(2026, 2, 1), "cross_province", "other_temporary", D("20")),
        ("650100", date(2026, 3, 1), "cross_province", "emergency", D("10")),
        ("650100", date(2026, 3, 1), "cross_province", "other_temporary", D("20")),
        ("650100", date(2026, 3, 1), "intra_province", "referral", None),
    ],
)
def test_caps_are_the_provinces_rules_in_force_on_the_day(region, on, scope, situation, cap):
    assert rules_for(region, on=on).reduction_cap(scope, situation).points == cap


@pytest.mark.parametrize(
    ("region", "situation", "points", "article"),
    [
        ("320100", "emergency", D("10"), "第十九条"),
        ("320100", "referral", D("10"), "第十八条"),
        ("650100", "referral", D("15"), "新医保发〔2022〕39号"),
        ("650100", "other_temporary", D("25"), "新医保发〔2022〕39号"),
    ],
)
def test_a_value_above_the_cap_is_refused_with_the_article(region, situation, points, article):
    problem = reduction_cap_problem(
        region=region, on=date(2026, 3, 1), scope="cross_province", situation=situation, points=points
    )
    assert article in problem and "超过本省规定" in problem
    assert reduction_cap_problem(
        region=region, on=date(2026, 3, 1), scope="cross_province", situation=situation, points=D("0")
    ) == ""


def _formset(policy, rows):
    FormSet = inlineformset_factory(
        PolicyVersion, SituationAdjustment, formset=SituationAdjustmentFormSet,
        fields=["scope", "situation", "reduction_points", "first_pay_percent", "basis"], extra=len(rows),
    )
    data = {"adjustments-TOTAL_FORMS": str(len(rows)), "adjustments-INITIAL_FORMS": "0"}
    for index, (scope, situation, points) in enumerate(rows):
        data.update({f"adjustments-{index}-scope": scope, f"adjustments-{index}-situation": situation,
                     f"adjustments-{index}-reduction_points": points, f"adjustments-{index}-first_pay_percent": "0"})
    return FormSet(data, instance=policy, prefix="adjustments")


@pytest.mark.django_db
@pytest.mark.parametrize(("region", "allowed", "refused"), [("320100", "5", "10"), ("650100", "10", "12")])
def test_the_policy_admin_refuses_a_referral_cut_above_the_cap(region, allowed, refused):
    policy = PolicyVersion(region_id=region, effective_from=date(2026, 3, 1), name="测试政策")
    assert _formset(policy, [("cross_province", "referral", allowed)]).is_valid()
    formset = _formset(policy, [("cross_province", "referral", refused)])
    assert not formset.is_valid()
    assert "超过本省规定" in str(formset.non_form_errors())
    assert SituationAdjustment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("province", ["320000", "650000"])
def test_demo_policies_stay_within_their_provinces_caps(settings, province):
    from reimbursement.demo import seed_policies

    settings.YIDI_HOME_PROVINCE = province
    seed_policies()
    rows = SituationAdjustment.objects.select_related("policy")
    assert rows.exists()
    for row in rows:
        assert not reduction_cap_problem(
            region=row.policy.region_id, on=row.policy.effective_from, scope=row.scope,
            situation=row.situation, points=row.reduction_points,
        ), (row.policy, row.scope, row.situation)
    if province == "320000":  # the old demo cut 10 points for 江苏's cross-province referrals and emergencies
        cross = dict(rows.filter(policy__region_id="320100", scope="cross_province").values_list("situation", "reduction_points"))
        assert (cross["referral"], cross["emergency"]) == (D("5"), D("0"))


@pytest.mark.parametrize("province", ["320000", "650000"])
def test_processing_limits_are_the_provinces_data_by_effective_date(settings, monkeypatch, province):
    import dataclasses

    from core import jurisdictions
    from reimbursement.deadlines import processing_days

    settings.YIDI_HOME_PROVINCE = province
    assert processing_days(care_type="outpatient", amount=D("1000.00"), on=date(2026, 3, 2)) == 5
    assert processing_days(care_type="inpatient", amount=D("1"), on=date(2026, 3, 2)) == 10
    assert processing_days(care_type="inpatient", amount=D("1"), special=True, on=date(2026, 3, 2)) == 20
    current = rules_for(province, on=date(2026, 3, 2))
    changed = dataclasses.replace(
        current, effective_from=date(2027, 1, 1),
        limits=jurisdictions.ProcessingLimits(small_amount=D("2000.00"), small_days=3, general_days=8, special_days=15),
    )
    monkeypatch.setattr(jurisdictions, "RULE_SETS", [*jurisdictions.RULE_SETS, changed])
    assert processing_days(care_type="outpatient", amount=D("1500.00"), on=date(2027, 1, 4)) == 3
    assert processing_days(care_type="outpatient", amount=D("1500.00"), on=date(2026, 12, 31)) == 10
