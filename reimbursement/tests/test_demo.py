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
