"""The 退费与违规扣款 page: the province officer enters them, a city sees its own (第四十五、五十三条)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clearing.models import ClearingAdjustment
from core.models import Role

pytestmark = pytest.mark.django_db


def test_officer_enters_a_refund_and_a_deduction_on_the_page_article_45_53(client, clearing_officer, cleared_february):
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:adjustment_refund"), {
        "settlement_id": "F1", "refund_type": "after_clearing", "amount": "12.30", "refunded_on": "2026-04-02", "reason": "退药",
    }, follow=True)
    assert "已登记清算后退费 12.30 元，计入2026年03月清算" in response.content.decode()
    response = client.post(reverse("clearing:adjustment_deduction"), {
        "settlement_id": "F1", "amount": "5.00", "basis": "稽核：重复收费", "source_ref": "JH-9",
    }, follow=True)
    page = response.content.decode()
    assert "已登记违规费用扣款 5.00 元" in page and "稽核：重复收费" in page and "JH-9" in page
    assert ClearingAdjustment.objects.count() == 2


def test_a_refused_refund_shows_why_and_writes_nothing(client, clearing_officer, cleared_february):
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:adjustment_refund"), {
        "settlement_id": "F1", "refund_type": "separate", "amount": "5000.00", "refunded_on": "2026-04-02", "reason": "退药",
    }, follow=True)
    assert "超过该笔结算尚可退的基金支付" in response.content.decode()
    assert not ClearingAdjustment.objects.exists()


def test_city_staff_see_only_their_regions_adjustments_and_cannot_enter_them(client, make_staff, clearing_officer, cleared_february):
    from clearing import adjustments

    adjustments.deduction_create(insured_region="320100", treatment_region="320200", insurance_type="310", amount="1.00",
                                 basis="稽核", source_ref="NJ-1", by=clearing_officer)
    adjustments.deduction_create(insured_region="320300", treatment_region="320400", insurance_type="310", amount="2.00",
                                 basis="稽核", source_ref="XZ-1", by=clearing_officer)
    finance = make_staff("finance_nj2", Role.FINANCE, "320100")
    client.force_login(finance)
    page = client.get(reverse("clearing:adjustment_list")).content.decode()
    assert "NJ-1" in page and "XZ-1" not in page and "登记退费" not in page
    response = client.post(reverse("clearing:adjustment_deduction"), {"settlement_id": "F1", "amount": "1", "basis": "x", "source_ref": "y"})
    assert response.status_code == 403
    assert ClearingAdjustment.objects.count() == 2


def test_the_months_page_lists_its_adjustments_apart_article_45(client, clearing_officer, cleared_february):
    from datetime import date

    from clearing import adjustments

    adjustments.refund_create(settlement_id="F1", amount="12.30", refund_type="cross_year", refunded_on=date(2026, 4, 2),
                              reason="跨年退药", by=clearing_officer)
    client.force_login(clearing_officer)
    page = client.get(reverse("clearing:period_detail", args=["2026-03"])).content.decode()
    assert 'id="adjustments"' in page and "跨年退费" in page and "-12.30" in page and "跨年退药" in page
    assert 'id="adjustments"' not in client.get(reverse("clearing:period_detail", args=["2026-02"])).content.decode()


def test_a_file_of_refunds_and_deductions_is_all_or_nothing_article_45_53(client, clearing_officer, cleared_february):
    from django.core.files.uploadedfile import SimpleUploadedFile

    header = "kind,settlement_id,refund_type,amount,date,reason,source_ref,insured_region,treatment_region,insurance_type"
    good = [header, "refund,F1,after_clearing,10.00,2026-04-02,退药,,,,", "deduction,,,5.00,,稽核,JH-1,320100,320200,310"]
    client.force_login(clearing_officer)
    bad = SimpleUploadedFile("bad.csv", "\n".join([*good, "refund,F1,separate,9999.00,2026-04-02,退药,,,,"]).encode(), "text/csv")
    page = client.post(reverse("clearing:adjustment_import"), {"file": bad}, follow=True).content.decode()
    assert "未导入任何数据" in page and "第4行：退费金额" in page
    assert not ClearingAdjustment.objects.exists()
    upload = SimpleUploadedFile("good.csv", "\n".join(good).encode(), "text/csv")
    page = client.post(reverse("clearing:adjustment_import"), {"file": upload}, follow=True).content.decode()
    assert "已导入 2 条退费/扣款" in page
    assert sorted(ClearingAdjustment.objects.values_list("kind", "period__period")) == [("deduction", "2026-03"), ("refund", "2026-03")]
