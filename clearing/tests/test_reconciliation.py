"""三方对账 (江苏 第四十一–四十三条, 第四十七条(二)): import the daily and monthly results, see the
mismatches per city and day, record 冲正 with who and why, know per city whether last month was
fully reconciled by the 3rd, and be warned when closing a month's data with records unreconciled."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing import reconciliation, services
from clearing.models import ClearingPeriod, ReconciliationCorrection, ReconciliationResult
from core.errors import DomainError
from core.models import AuditLog, Role

pytestmark = pytest.mark.django_db

HEADER = "kind,date,region,scope,treatment_count,treatment_amount,province_count,province_amount,insured_count,insured_amount"


def row(day: str, region: str = "320100", *, kind: str = "daily", scope: str = "intra", counts=(3, 3, 3),
        amounts=("100.00", "100.00", "100.00")) -> dict[str, str]:
    return {"kind": kind, "date": day, "region": region, "scope": scope,
            "treatment_count": str(counts[0]), "treatment_amount": amounts[0], "province_count": str(counts[1]),
            "province_amount": amounts[1], "insured_count": str(counts[2]), "insured_amount": amounts[2]}


def whole_month(region: str, period: str = "2026-02", days: int = 28) -> list[dict[str, str]]:
    return [row(f"{period}-{day:02d}", region) for day in range(1, days + 1)]


@pytest.mark.parametrize(("period", "due"), [("2026-02", date(2026, 3, 3)), ("2026-12", date(2027, 1, 3))])
def test_last_month_is_due_by_the_3rd_article_43(period, due):
    assert reconciliation.monthly_due(period) == due


def test_import_marks_each_day_matched_or_mismatched_article_41(clearing_officer):
    report = reconciliation.reconciliation_import(rows=[
        row("2026-02-02"),
        row("2026-02-03", counts=(3, 3, 2)),
        row("2026-02-04", amounts=("100.00", "100.00", "99.99"), scope="cross"),
    ], filename="recon.csv", by=clearing_officer)
    assert (report.rows, report.created, report.errors) == (3, 3, [])
    assert list(ReconciliationResult.objects.order_by("recon_date").values_list("matched", flat=True)) == [True, False, False]
    mismatches = list(reconciliation.mismatches(period="2026-02"))
    assert [(m.recon_date, m.region_id, m.scope) for m in mismatches] == [
        (date(2026, 2, 3), "320100", "intra"), (date(2026, 2, 4), "320100", "cross")]


def test_reimporting_a_day_replaces_its_result(clearing_officer):
    reconciliation.reconciliation_import(rows=[row("2026-02-03", counts=(3, 3, 2))], filename="a.csv", by=clearing_officer)
    report = reconciliation.reconciliation_import(rows=[row("2026-02-03")], filename="b.csv", by=clearing_officer)
    assert (report.created, report.replaced) == (0, 1)
    assert ReconciliationResult.objects.get().matched


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"date": "2026-02-30"}, "第3行：日期“2026-02-30”无效"),
        ({"region": "330100"}, "第3行：地区代码“330100”不是本省的设区市"),
        ({"scope": "both"}, "第3行：范围“both”应为"),
        ({"insured_amount": "abc"}, "第3行：insured_count / insured_amount 不是有效的数字"),
        ({"province_count": ""}, "第3行：缺少province_count"),
        ({"kind": "weekly"}, "第3行：对账类型“weekly”"),
    ],
)
def test_a_bad_row_is_reported_by_number_and_nothing_is_written(clearing_officer, bad, message):
    report = reconciliation.reconciliation_import(rows=[row("2026-02-02"), {**row("2026-02-03"), **bad}], filename="bad.csv",
                                                  by=clearing_officer)
    assert any(message in error for error in report.errors), report.errors
    assert not ReconciliationResult.objects.exists()


def test_correction_records_who_and_why_article_41(clearing_officer, finance):
    reconciliation.reconciliation_import(rows=[row("2026-02-03", counts=(3, 3, 2))], filename="a.csv", by=clearing_officer)
    result = ReconciliationResult.objects.get()
    correction = reconciliation.reconciliation_correct(result=result, reason="参保地漏传1笔，已补传", corrected_on=date(2026, 2, 4),
                                                       by=finance)
    assert (correction.corrected_by, correction.reason) == (finance, "参保地漏传1笔，已补传")
    entry = AuditLog.objects.filter(content_type__model="reconciliationresult", object_id=str(result.pk)).get()
    assert entry.to_state == "corrected" and "参保地漏传1笔" in entry.message
    with pytest.raises(DomainError, match="已登记冲正"):
        reconciliation.reconciliation_correct(result=result, reason="再次", corrected_on=date(2026, 2, 4), by=finance)
    assert reconciliation.unreconciled_by_city("2026-02") == {}


@pytest.mark.parametrize(
    ("reason", "day", "message"),
    [("", date(2026, 2, 4), "请填写冲正原因"), ("补传", date(2026, 2, 2), "不能早于对账日期")],
)
def test_bad_corrections_are_refused(clearing_officer, reason, day, message):
    reconciliation.reconciliation_import(rows=[row("2026-02-03", counts=(3, 3, 2))], filename="a.csv", by=clearing_officer)
    with pytest.raises(DomainError, match=message):
        reconciliation.reconciliation_correct(result=ReconciliationResult.objects.get(), reason=reason, corrected_on=day,
                                              by=clearing_officer)
    assert not ReconciliationCorrection.objects.exists()


def test_per_city_last_month_reconciled_by_the_3rd_article_43(clearing_officer):
    """南京: every day, one mismatch corrected on 3-02 -> done. 无锡: a mismatch corrected on 3-05 ->
    late. 徐州: a day missing. 常州: a mismatch still open. 苏州: the monthly result disagrees."""
    rows = whole_month("320100") + whole_month("320200") + whole_month("320300")[1:] + whole_month("320400") + whole_month("320500")
    rows[5] = row("2026-02-06", "320100", counts=(1, 1, 0))
    rows[28 + 9] = row("2026-02-10", "320200", counts=(1, 1, 0))
    rows[28 + 28 + 27 + 3] = row("2026-02-04", "320400", counts=(1, 1, 0))
    rows.append(row("2026-02", "320500", kind="monthly", amounts=("1.00", "1.00", "2.00")))
    reconciliation.reconciliation_import(rows=rows, filename="feb.csv", by=clearing_officer)
    for region, day in (("320100", date(2026, 3, 2)), ("320200", date(2026, 3, 5))):
        result = ReconciliationResult.objects.get(region_id=region, matched=False)
        reconciliation.reconciliation_correct(result=result, reason="冲正", corrected_on=day, by=clearing_officer)
    statuses = {s.region.code: s for s in reconciliation.city_statuses(period="2026-02")}
    assert statuses["320100"].reconciled_by_due
    assert not statuses["320200"].reconciled_by_due and statuses["320200"].late_corrections == 1
    assert not statuses["320300"].reconciled_by_due and statuses["320300"].days == 27
    assert not statuses["320400"].reconciled_by_due and statuses["320400"].open == 1
    assert not statuses["320500"].reconciled_by_due and statuses["320500"].monthly_matched is False
    assert not statuses["320600"].reconciled_by_due and statuses["320600"].days == 0
    assert len(statuses) == 13


def test_closing_the_months_data_warns_on_unreconciled_records_article_47_2(client, clearing_officer):
    reconciliation.reconciliation_import(rows=[row("2026-02-03", "320400", counts=(3, 3, 2))], filename="a.csv", by=clearing_officer)
    services.period_get_or_create("2026-02")
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:period_action", args=["2026-02", "close_data"]), follow=True)
    page = response.content.decode()
    assert "仍有三方对账不符且未冲正的记录（常州 1 条）" in page
    assert ClearingPeriod.objects.get(period="2026-02").status == "data_closed"


def test_the_page_shows_statuses_and_mismatches_and_a_city_corrects_its_own(client, clearing_officer, make_staff):
    reconciliation.reconciliation_import(rows=[row("2026-02-03", "320100", counts=(3, 3, 2)), row("2026-02-03", "320200", counts=(1, 0, 1))],
                                         filename="a.csv", by=clearing_officer)
    nanjing = make_staff("recon_nj", Role.FINANCE, "320100")
    client.force_login(nanjing)
    page = client.get(reverse("clearing:reconciliation"), {"period": "2026-02"}).content.decode()
    assert "南京市" in page and "无锡市" not in page and "导入对账结果" not in page
    wuxi_result = ReconciliationResult.objects.get(region_id="320200")
    response = client.post(reverse("clearing:reconciliation_correct", args=[wuxi_result.pk]), {"corrected_on": "2026-02-04", "reason": "x"})
    assert response.status_code == 404
    own = ReconciliationResult.objects.get(region_id="320100")
    client.post(reverse("clearing:reconciliation_correct", args=[own.pk]), {"corrected_on": "2026-02-04", "reason": "补传"})
    assert own.corrections.get().corrected_by == nanjing


def test_officer_imports_a_file_on_the_page(client, clearing_officer):
    client.force_login(clearing_officer)
    lines = [HEADER, "daily,2026-02-03,320100,intra,3,100.00,3,100.00,2,90.00", "daily,2026-02-04,320100,cross,1,5.00,1,5.00,1,5.00"]
    upload = SimpleUploadedFile("recon.csv", "\n".join(lines).encode("utf-8"), content_type="text/csv")
    response = client.post(reverse("clearing:reconciliation_import"), {"file": upload}, follow=True)
    assert "已导入 2 行对账结果" in response.content.decode()
    bad = SimpleUploadedFile("bad.csv", (HEADER + "\ndaily,2026-02-03,999999,intra,1,1,1,1,1,1").encode(), content_type="text/csv")
    response = client.post(reverse("clearing:reconciliation_import"), {"file": bad}, follow=True)
    assert "未导入任何数据" in response.content.decode() and "第2行" in response.content.decode()
    assert ReconciliationResult.objects.count() == 2


def test_the_demo_has_last_months_reconciliation_with_a_correction_and_an_open_mismatch():
    from django.core.management import call_command

    call_command("seed_demo", quiet=True)
    count = ReconciliationResult.objects.count()
    call_command("seed_demo", quiet=True)
    assert ReconciliationResult.objects.count() == count > 0
    period = ReconciliationResult.objects.values_list("period", flat=True).first()
    assert ReconciliationCorrection.objects.filter(result__region_id="320100").exists()
    assert reconciliation.unreconciled_by_city(period) == {"320300": 1}
