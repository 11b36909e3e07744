"""List exports: every list can be taken away as XLSX, audited, cells safe from formula injection."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import AuditLog
from core.tests.factories import InsuredPersonFactory, region
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


def _sheet(response):
    assert response.status_code == 200, response.content[:300]
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    return rows[0], rows[1:]


def test_the_filing_list_exports_as_filtered_with_masked_ids_and_neutralised_text(client, clerk):
    person = InsuredPersonFactory(name="=cmd|'/c calc'!A1", insured_region=region("320100"))
    mine = FilingFactory(insured_person=person)
    other_city = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320200")))
    client.force_login(clerk)
    header, rows = _sheet(client.get(reverse("filings:export")))
    assert header[:3] == ("备案编号", "姓名", "公民身份号码（脱敏）")
    numbers = [row[0] for row in rows]
    assert mine.number in numbers and other_city.number not in numbers
    row = rows[numbers.index(mine.number)]
    assert row[1].startswith("'=") and person.id_number not in row[2]
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, user=clerk).exists()


def test_the_payment_batches_export_for_finance_with_numeric_amounts(client, finance):
    from reimbursement.models import PaymentBatch

    PaymentBatch.objects.create(number="FK-1", region=region("320100"), claim_count=2,
                                total_amount=Decimal("123.45"), created_by=finance)
    PaymentBatch.objects.create(number="FK-2", region=region("320200"), claim_count=1,
                                total_amount=Decimal("1.00"), created_by=finance)
    client.force_login(finance)
    header, rows = _sheet(client.get(reverse("reimbursement:payments_export")))
    assert [row[0] for row in rows] == ["FK-1"]
    assert rows[0][header.index("金额合计")] == 123.45


def test_a_list_too_long_for_one_sheet_is_refused_with_a_reason(client, clerk, monkeypatch):
    import core.exports

    monkeypatch.setattr(core.exports, "MAX_EXPORT_ROWS", 0)
    FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320100")))
    client.force_login(clerk)
    response = client.get(reverse("filings:export"), follow=True)
    assert "超过一次导出的上限" in response.content.decode()


def test_a_months_settlement_records_export_with_region_names(client, tmp_path, make_staff):
    from clearing.tests.factories import Row, import_rows
    from core.models import Role

    import_rows(tmp_path, [Row("S1", "320100", "320200"), Row("S2", "320200", "320100")])
    officer = make_staff("clearing_x", Role.CLEARING_OFFICER, "320000")
    client.force_login(officer)
    header, rows = _sheet(client.get(reverse("clearing:settlement_export", args=["2026-02"]), {"region": "320200"}))
    assert header[:4] == ("结算流水号", "清算所属期", "参保地", "就医地")
    assert [row[0] for row in rows] == ["S1", "S2"] and rows[0][2] == "320100 南京"


def test_the_advance_ledger_exports_per_year(client, make_staff):
    from datetime import date

    from clearing.models import AdvanceEntry
    from core.models import Role

    AdvanceEntry.objects.create(year=2026, scope="intra", region=region("320100"), kind="contribution",
                                amount=Decimal("1000.00"), entry_date=date(2026, 2, 10), note="+预付金")
    client.force_login(make_staff("clearing_x", Role.CLEARING_OFFICER, "320000"))
    header, rows = _sheet(client.get(reverse("clearing:advance_ledger_export", args=[2026])))
    assert rows[0][header.index("金额（元，流出为负）")] == 1000 and rows[0][header.index("说明")] == "'+预付金"


def test_a_refused_export_goes_back_to_the_list_never_to_another_site(client, clerk, monkeypatch):
    import core.exports

    monkeypatch.setattr(core.exports, "MAX_EXPORT_ROWS", 0)
    FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320100")))
    client.force_login(clerk)
    back = client.get(reverse("filings:export"), HTTP_REFERER="http://testserver/filings/?q=1")
    assert back.status_code == 302 and back.url == "http://testserver/filings/?q=1"
    away = client.get(reverse("filings:export"), HTTP_REFERER="https://evil.example/")
    assert away.status_code == 302 and away.url == "/"
