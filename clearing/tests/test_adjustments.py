"""Refunds (隔笔退费, 跨年退费, 清算后退费; 江苏 第四十五条) and deductions of irregular costs
(违规费用扣款; 第四十六、五十三条) as negative lines in a later, open clearing month."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from clearing import adjustments, notices, selectors, services
from clearing.models import ClearingAdjustment, ClearingPeriod, ClearingResult
from core.errors import DomainError
from core.models import AuditLog

pytestmark = pytest.mark.django_db
D = Decimal


def text(content: bytes) -> str:
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def march_json() -> dict:
    march = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-03"), by=None)
    return selectors.clearing_json(march)


def test_refund_of_a_cleared_settlement_lands_in_the_next_open_month_article_45(cleared_february, clearing_officer):
    """第四十五条 清算后退费: the refund is a negative line in March; February is not touched."""
    before = list(ClearingResult.objects.filter(period=cleared_february).values_list("employee_amount", "resident_amount"))
    refund = adjustments.refund_create(settlement_id="F1", amount="120.50", refund_type="after_clearing",
                                       refunded_on=date(2026, 4, 2), reason="患者退药", by=clearing_officer)
    assert refund.period.period == "2026-03" and refund.original_period == "2026-02"
    assert (refund.insured_region, refund.treatment_region, refund.insurance_type) == ("320100", "320200", "310")
    assert list(ClearingResult.objects.filter(period=cleared_february).values_list("employee_amount", "resident_amount")) == before
    document = march_json()
    assert document["intra_province"]["320100"]["payable"]["employee"] == "379.50"  # 500.00 - 120.50
    assert document["intra_province"]["320200"]["receivable"]["total"] == "379.50"
    cell = ClearingResult.objects.get(period__period="2026-03", insured_area="320100", treatment_area="320200")
    assert (cell.adjustment_employee, cell.adjustment_count, cell.settlement_count) == (D("-120.50"), 1, 1)
    entry = AuditLog.objects.get(content_type__model="clearingadjustment", object_id=str(refund.pk))
    assert "清算后退费" in entry.message and "患者退药" in entry.message


def test_a_computed_open_month_is_marked_stale_when_an_adjustment_lands_article_45(cleared_february, clearing_officer):
    march = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-03"), by=clearing_officer)
    adjustments.refund_create(settlement_id="F1", amount="1.00", refund_type="separate", refunded_on=date(2026, 4, 2),
                              reason="隔笔退费", by=clearing_officer)
    march.refresh_from_db()
    assert march.results_stale


def test_a_cross_year_refund_with_no_open_month_opens_the_next_one_article_45(cleared_february, clearing_officer):
    """跨年退费: when every month is issued, the refund opens the month after the latest."""
    march = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-03"), by=clearing_officer)
    services.clearing_issue_notices(period=march, by=clearing_officer, stamp_date=date(2026, 4, 24))
    refund = adjustments.refund_create(settlement_id="F2", amount="400.00", refund_type="cross_year",
                                       refunded_on=date(2026, 4, 30), reason="跨年度退费", by=clearing_officer)
    assert refund.period.period == "2026-04" and refund.period.status == "open"
    document = selectors.clearing_json(services.clearing_compute(period=refund.period, by=None))
    assert document["cross_province"]["payable"]["320100"]["310000"] == {"employee": "0.00", "resident": "-400.00", "total": "-400.00"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"settlement_id": "NOPE"}, "结算流水号 NOPE 不存在"),
        ({"amount": "1000.01"}, "超过该笔结算尚可退的基金支付 1,000.00 元"),
        ({"amount": "0"}, "冲减金额必须大于零"),
        ({"amount": "1.234"}, "最多两位小数"),
        ({"amount": "abc"}, "不是有效的数字"),
        ({"refund_type": "other"}, "退费方式应为"),
        ({"reason": " "}, "请填写退费原因"),
    ],
)
def test_bad_refunds_are_refused_with_the_reason_and_write_nothing(cleared_february, clearing_officer, fields, message):
    values = {"settlement_id": "F1", "amount": "10.00", "refund_type": "separate", "reason": "退费", **fields}
    with pytest.raises(DomainError, match=message):
        adjustments.refund_create(**values, refunded_on=date(2026, 4, 2), by=clearing_officer)
    assert not ClearingAdjustment.objects.exists()
    assert not ClearingPeriod.objects.get(period="2026-03").results_stale


def test_refunds_of_one_settlement_never_exceed_its_fund_payment(cleared_february, clearing_officer):
    adjustments.refund_create(settlement_id="F1", amount="600.00", refund_type="separate", refunded_on=date(2026, 4, 2),
                              reason="第一次", by=clearing_officer)
    with pytest.raises(DomainError, match="尚可退的基金支付 400.00 元"):
        adjustments.refund_create(settlement_id="F1", amount="400.01", refund_type="separate", refunded_on=date(2026, 4, 2),
                                  reason="第二次", by=clearing_officer)


def test_deduction_of_irregular_costs_goes_against_the_insured_region_later_article_53(cleared_february, clearing_officer):
    """第五十三条: irregular costs found by the treatment place (here a 核查有误 协查 result) reduce
    the insured region's settlement costs in a later clearing; the basis and source are kept."""
    deduction = adjustments.deduction_create(
        insured_region="320100", treatment_region="320200", insurance_type="310", amount="80.00",
        basis="费用协查核查有误：重复收费", source_ref="XC2026000012", by=clearing_officer,
    )
    assert deduction.kind == "deduction" and deduction.period.period == "2026-03"
    assert (deduction.basis, deduction.source_ref) == ("费用协查核查有误：重复收费", "XC2026000012")
    assert march_json()["intra_province"]["320100"]["payable"]["total"] == "420.00"
    assert adjustments.deduction_totals(period="2026-03") == {"320100": D("80.00")}
    assert adjustments.deduction_totals(period="2026-03", by="treatment_region") == {"320200": D("80.00")}
    assert adjustments.deduction_totals(period="2026-02") == {}
    with pytest.raises(DomainError, match="已登记过同类调整"):
        adjustments.deduction_create(insured_region="320100", treatment_region="320200", insurance_type="310", amount="1.00",
                                     basis="重复", source_ref="XC2026000012", by=clearing_officer)


def test_deduction_from_a_settlement_takes_its_regions_article_53(cleared_february, clearing_officer):
    deduction = adjustments.deduction_create(insured_region="510100", settlement_id="F3", amount="50.00",
                                             basis="稽核：超标准收费", source_ref="JH-7", by=clearing_officer)
    assert (deduction.treatment_region, deduction.insurance_type, deduction.original_period) == ("320100", "310", "2026-02")
    document = march_json()
    assert document["cross_province"]["receivable"]["320100"]["510000"]["total"] == "-50.00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"basis": ""}, "请填写扣款依据"),
        ({"source_ref": ""}, "请填写来源单据号"),
        ({"insured_region": "999999"}, "参保地代码 999999 不是有效"),
        ({"treatment_region": "320100"}, "不构成本省的清算关系"),
        ({"insurance_type": "999"}, "险种类型应为"),
        ({"amount": "-5"}, "冲减金额必须大于零"),
    ],
)
def test_bad_deductions_are_refused_and_write_nothing(cleared_february, clearing_officer, fields, message):
    values = {"insured_region": "320100", "treatment_region": "320200", "insurance_type": "310", "amount": "5.00",
              "basis": "稽核", "source_ref": "JH-1", **fields}
    with pytest.raises(DomainError, match=message):
        adjustments.deduction_create(**values, by=clearing_officer)
    assert not ClearingAdjustment.objects.exists()


def test_annex_10_to_13_show_adjustments_apart_from_the_months_own_records_article_45_53(cleared_february, clearing_officer):
    adjustments.refund_create(settlement_id="F1", amount="120.50", refund_type="after_clearing", refunded_on=date(2026, 4, 2),
                              reason="退药", by=clearing_officer)
    adjustments.refund_create(settlement_id="F2", amount="40.00", refund_type="separate", refunded_on=date(2026, 4, 2),
                              reason="退药", by=clearing_officer)
    adjustments.deduction_create(insured_region="510100", settlement_id="F3", amount="50.00", basis="稽核", source_ref="JH-7",
                                 by=clearing_officer)
    march = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-03"), by=clearing_officer)
    files = {(f.kind, f.region.code): f for f in notices.period_notice_files(march)}
    annex10 = text(files[("clearing.annex10", "320000")].render())
    assert "本期调整" in annex10 and "-120.50" in annex10 and "379.50" in annex10
    annex11 = text(files[("clearing.annex11", "320000")].render())
    assert "本期调整" in annex11 and "-40.00" in annex11 and "-50.00" in annex11
    annex12 = text(files[("clearing.annex12", "320100")].render())
    assert "本期调整" in annex12 and "-40.00" in annex12 and "-50.00" not in annex12
    annex13 = text(files[("clearing.annex13", "320100")].render())
    assert "本期调整" in annex13 and "-50.00" in annex13
    assert "本期调整" not in text(files[("clearing.annex12", "320200")].render())


def test_the_clean_sample_month_clears_exactly_as_before(tmp_path, sample_files, capsys):
    """A month without adjustments: run_clearing --json prints the sample's JSON unchanged."""
    csv_path, json_path = sample_files
    call_command("import_settlements", str(csv_path))
    capsys.readouterr()
    call_command("run_clearing", "--period", "2026-02", "--json")
    assert json.loads(capsys.readouterr().out) == json.loads(json_path.read_text(encoding="utf-8"))
    assert not ClearingResult.objects.filter(adjustment_count__gt=0).exists()
