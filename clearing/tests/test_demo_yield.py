"""Real data win over the demo: a real import into a month holding seed_demo's
records removes them and everything built on them, in the import's transaction."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from clearing import demo, services
from clearing.importers import ImportOptions, import_file
from clearing.models import (
    DEMO_ID_PREFIX,
    AdvanceEntry,
    ClearingPeriod,
    ClearingResult,
    ImportBatch,
    PaymentDue,
    Settlement,
    Transfer,
)
from clearing.tests.factories import Row, import_rows, write_csv
from core.models import Document, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_month(tmp_path, jiangsu_policy, clearing_officer, finance):
    """2026-02 as seed_demo leaves an issued month: demo rows, results, payments,
    a transfer, the advance paying first, an archived notice."""
    rows = [
        Row(f"{DEMO_ID_PREFIX}202602-{i:04d}", insured, treatment, fund_amount=amount)
        for i, (insured, treatment, amount) in enumerate(
            [("320100", "320200", "1000.00"), ("320100", "330100", "300.00"), ("510100", "320300", "80.00")]
        )
    ]
    report = import_rows(tmp_path, rows, name="demo.csv")
    assert report.committed
    batch = ImportBatch(source=ImportBatch.Source.DEMO, filename="settlements-2026-02.csv", created_by=clearing_officer)
    batch.file.save("settlements-2026-02.csv", ContentFile(b"demo"), save=False)
    services.import_batch_apply_report(batch=batch, report=report, commit=True)
    ClearingPeriod.objects.filter(period="2026-02").update(is_demo=True)
    period = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-02"), by=clearing_officer)
    services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    nanjing = Region.objects.get(code="320100")
    AdvanceEntry.objects.create(year=2026, scope="intra", region=nanjing, kind="contribution", amount=Decimal("5000"),
                                entry_date=date(2026, 2, 10))
    payable = PaymentDue.objects.get(kind="intra_payable")
    services.payment_cover_with_advance(payment=payable, by=clearing_officer, on=payable.due_on + timedelta(days=1))
    services.transfer_record(payment=payable, amount=Decimal("400.00"), transferred_on=payable.due_on + timedelta(days=2), by=finance)
    Document.objects.create(kind="clearing.annex10", key="clearing:2026-02:annex10", title="附件10", filename="a10.pdf",
                            file=ContentFile(b"%PDF-demo", name="a10.pdf"), sha256="0" * 64, period="2026-02",
                            created_at=timezone.now())
    return ClearingPeriod.objects.get(pk=period.pk)


def real_file(tmp_path, *, bad: bool = False):
    rows = [Row("H1", "320100", "320200", fund_amount="10.00"), Row("H2", "320200", "320100", fund_amount="4.00")]
    if bad:
        rows[1].insured_region = "990000"
    return write_csv(tmp_path / "real.csv", rows)


def test_a_real_import_replaces_the_demo_month_whole(demo_month, tmp_path):
    report = import_file(real_file(tmp_path))

    assert report.committed, report.text()
    assert "2026年02月：已清除该期演示数据（3 条结算明细" in report.text()
    assert list(Settlement.objects.values_list("settlement_id", flat=True).order_by("pk")) == ["H1", "H2"]
    period = ClearingPeriod.objects.get(pk=demo_month.pk)
    assert (period.status, period.is_demo, period.stamp_date, period.payment_due) == ("open", False, None, None)
    assert not ClearingResult.objects.exists() and not PaymentDue.objects.exists() and not Transfer.objects.exists()
    assert list(AdvanceEntry.objects.values_list("kind", flat=True)) == ["contribution"]
    assert not Document.objects.filter(period="2026-02").exists()
    assert not ImportBatch.objects.filter(source="demo").exists()  # the demo's own import record goes too

    out = StringIO()
    call_command("run_clearing", "--period", "2026-02", "--json", stdout=out)
    assert json.loads(out.getvalue())["intra_province"]["320100"]["net"]["total"] == "-6.00"


def test_the_sample_month_over_demo_data_gives_exactly_the_published_json(demo_month, sample_files):
    csv_path, json_path = sample_files
    assert import_file(csv_path).committed
    out = StringIO()
    call_command("run_clearing", "--period", "2026-02", "--json", stdout=out)
    assert json.loads(out.getvalue()) == json.loads(json_path.read_text(encoding="utf-8"))


def test_a_refused_file_or_a_dry_run_leaves_the_demo_as_it_was(demo_month, tmp_path):
    refused = import_file(real_file(tmp_path, bad=True))
    assert refused.refused and "已清除" not in refused.text()

    dry = import_file(real_file(tmp_path), options=ImportOptions(dry_run=True))
    assert dry.ok and "2026年02月：确认导入时将清除该期演示数据（3 条结算明细" in dry.text()
    assert "已清除" not in dry.text()  # nothing is removed before the import is confirmed

    assert Settlement.objects.count() == 3 and PaymentDue.objects.exists() and Document.objects.exists()
    assert ImportBatch.objects.filter(source="demo").exists()
    assert ClearingPeriod.objects.get(pk=demo_month.pk).status == "notices_issued"


def test_the_command_prints_the_line(demo_month, tmp_path, capsys):
    call_command("import_settlements", str(real_file(tmp_path)))
    assert "已清除该期演示数据" in capsys.readouterr().out


def test_a_real_month_without_demo_data_is_still_locked_once_issued(demo_month, tmp_path):
    ClearingPeriod.objects.filter(pk=demo_month.pk).update(is_demo=False)
    report = import_file(real_file(tmp_path))
    assert report.refused and "清算通知书已下达" in report.text()
    assert Settlement.objects.count() == 3


def test_seed_demo_leaves_a_month_with_real_data_alone(tmp_path, clearing_officer):
    assert import_rows(tmp_path, [Row("R1")]).committed
    assert demo._ensure_month("2026-02", rows=10, seed=1, officer=clearing_officer) is False
    assert demo._ensure_month("2026-03", rows=10, seed=1, officer=clearing_officer) is True
    assert not Settlement.objects.filter(period="2026-02", settlement_id__startswith=DEMO_ID_PREFIX).exists()
    assert Settlement.objects.filter(period="2026-03", settlement_id__startswith=DEMO_ID_PREFIX).count() == 10
    assert ClearingPeriod.objects.get(period="2026-03").is_demo
