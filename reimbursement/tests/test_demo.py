from datetime import date
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from core.workdays import is_working_day
from reimbursement.models import Claim, PolicyVersion
from reimbursement.selectors import DeadlineWindow

pytestmark = pytest.mark.django_db


def test_seed_demo_covers_every_status_and_is_idempotent():
    call_command("seed_demo", "--quiet", stdout=StringIO())
    from reimbursement import demo

    out = StringIO()
    counts = Claim.objects.count(), PolicyVersion.objects.count()
    demo.seed(stdout=out)
    assert (Claim.objects.count(), PolicyVersion.objects.count()) == counts
    assert "演示申请未能生成" not in out.getvalue()
    for region in ("320100", "320200"):
        statuses = set(Claim.objects.filter(region_id=region).values_list("status", flat=True))
        expected = {"incomplete", "accepted", "submitted", "approved", "payment_notified", "paid", "rejected"}
        assert expected <= statuses, (region, expected - statuses)
    assert Claim.objects.filter(status="cancelled").exists()
    window = DeadlineWindow.for_today()
    open_claims = Claim.objects.filter(status__in=Claim.CLOCK_STATUSES)
    assert open_claims.filter(due_on__lt=window.today).exists()  # overdue
    if is_working_day(window.today):
        assert open_claims.filter(due_on=window.today).exists()  # due today
    assert open_claims.filter(due_on__gt=window.today, due_on__lte=window.soon_limit).exists()
    assert Claim.objects.exclude(return_reason="").exists() and Claim.objects.filter(special=True).exists()
    # 13 江苏 cities, 南京's 2026 version, and 赣州 before and after its 2026-02-01 switch.
    assert PolicyVersion.objects.filter(region__parent_id="320000").values("region").distinct().count() == 13
    ganzhou = list(PolicyVersion.objects.filter(region_id="360700").order_by("effective_from"))
    assert [p.adjustment_mode for p in ganzhou] == ["first_pay", "ratio_reduction"]
    assert ganzhou[1].effective_from.isoformat() == "2026-02-01"


def test_demo_right_after_national_day_has_claims_due_today(monkeypatch):
    """The demo is built relative to today; around long holidays working days stretch further back."""
    from datetime import date

    from django.utils import timezone

    today = date(2026, 10, 9)  # the second working day after the National Day holidays
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    out = StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    assert "演示申请未能生成" not in out.getvalue()
    assert Claim.objects.filter(status__in=Claim.CLOCK_STATUSES, due_on=today).count() >= 2
    assert len(set(Claim.objects.values_list("status", flat=True))) == len(Claim.Status)


def test_ganzhou_demo_policies_carry_jiangxi_rules_not_jiangsu_ones():
    """赣医保发〔2025〕17号 concerns 跨省 only: 赣州's 省内 rows are its own (no reduction), and the
    pre-2026-02-01 个人先行自付 applies to 跨省 care only."""
    from reimbursement import demo
    from reimbursement.models import SituationAdjustment

    call_command("seed_demo", "--quiet", stdout=StringIO())
    old, new = PolicyVersion.objects.filter(region_id="360700").order_by("effective_from")
    rows = SituationAdjustment.objects.filter(policy__region_id="360700")
    assert not rows.filter(basis__contains="江苏").exists()
    for policy in (old, new):
        intra = policy.adjustments.filter(scope="intra_province")
        assert intra.count() == 8
        assert {(row.reduction_points, row.first_pay_percent) for row in intra} == {(D("0"), D("0"))}
        assert all(row.basis.startswith("参保地规定") for row in intra)
    old_cross = {row.situation: row for row in old.adjustments.filter(scope="cross_province")}
    assert old_cross["other_temporary"].first_pay_percent == D("20") and old_cross["emergency"].first_pay_percent == D("10")
    assert all("赣府厅发〔2020〕35号" in row.basis for row in old_cross.values())
    new_cross = {row.situation: row for row in new.adjustments.filter(scope="cross_province")}
    assert new_cross["referral"].reduction_points == D("10") and new_cross["other_temporary"].reduction_points == D("20")
    assert all("赣医保发〔2025〕17号" in row.basis for row in new_cross.values())
    assert {row.first_pay_percent for row in new_cross.values()} == {D("0")}

    # A database seeded by the earlier demo (江苏 rules on 赣州, first-pay on both scopes) is corrected …
    wrong = old.adjustments.get(scope="intra_province", situation="emergency")
    SituationAdjustment.objects.filter(pk=wrong.pk).update(
        reduction_points=D("0"), first_pay_percent=D("10"), basis="江苏省异地就医经办服务规程（2023）：第十九条")
    demo.seed(stdout=StringIO())
    wrong.refresh_from_db()
    assert (wrong.first_pay_percent, wrong.basis.startswith("参保地规定")) == (D("0"), True)
    # … and seeding again changes nothing, history included.
    history = SituationAdjustment.history.count()
    demo.seed(stdout=StringIO())
    assert SituationAdjustment.history.count() == history


def test_ganzhou_intra_province_emergency_pays_without_first_pay(client):
    """The trial calculation for a 赣州 resident treated elsewhere in 江西 before the switch."""
    from decimal import Decimal

    from reimbursement.benefits import BenefitCase, calculate_case

    call_command("seed_demo", "--quiet", stdout=StringIO())
    case = BenefitCase(region_code="360700", insurance_type="390", care_type="inpatient", hospital_level="3",
                       designated=True, emergency=True, scope="intra_province", adjustment_situation="emergency",
                       admission_date=date(2026, 1, 10), discharge_date=date(2026, 1, 20),
                       total_amount=Decimal("10000.00"), in_scope_amount=Decimal("10000.00"))
    result = calculate_case(case).result
    assert result.first_pay_amount == Decimal("0.00")
