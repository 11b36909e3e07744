"""The per-period aggregates: rebuilt from the records in one pass, after each
import commits and when the demo is seeded."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum

from monitoring import services
from monitoring.models import InstitutionSummary, PeriodSummary, SummaryBuild
from monitoring.tests.conftest import settle

HEADER = "settlement_id,period,insured_region,treatment_region,insurance_type,care_type,settled_on,total_amount,fund_amount,institution\n"


def test_rebuild_groups_the_records_and_replaces_what_was_there(db):
    settle("2026-05", "320100", "110000", "100.00", "60.00", institution="北京协和医院")
    settle("2026-05", "320100", "110000", "50.00", "30.00", institution="北京协和医院")
    settle("2026-05", "320100", "110000", "10.00", "5.00", institution="北京朝阳医院")
    settle("2026-05", "320100", "110000", "20.00", "10.00", insurance="390", institution="北京协和医院")
    services.summary_rebuild(periods=["2026-05"])
    services.summary_rebuild(periods=["2026-05"])  # idempotent
    row = PeriodSummary.objects.get(period="2026-05", insurance_type="310")
    assert (row.visits, row.total_amount, row.fund_amount) == (3, Decimal("160.00"), Decimal("95.00"))
    assert PeriodSummary.objects.filter(period="2026-05").count() == 2
    ranks = InstitutionSummary.objects.filter(period="2026-05", direction="outflow")
    # 南京's own ranking and the province's (the sum of its cities), two institutions each
    assert set(ranks.values_list("region", "institution", "visits")) == {
        ("320000", "北京朝阳医院", 1), ("320000", "北京协和医院", 3), ("320100", "北京朝阳医院", 1), ("320100", "北京协和医院", 3),
    }
    assert ranks.filter(region="320100").aggregate(s=Sum("total_amount"))["s"] == Decimal("180.00")
    assert not InstitutionSummary.objects.filter(period="2026-05", direction="inflow").exists()  # treated in 北京
    build = SummaryBuild.objects.get(period="2026-05")
    assert (build.settlement_count, build.row_count) == (4, 2)


def test_an_import_refreshes_the_aggregates_of_its_months(db, tmp_path):
    path = tmp_path / "month.csv"
    path.write_text(
        HEADER
        + "IMP0001,2026-04,320100,320200,310,inpatient,2026-04-03,1000.00,800.00,无锡市人民医院\n"
        + "IMP0002,2026-04,320200,330000,390,outpatient,2026-04-05,200.00,100.00,浙江省人民医院\n",
        encoding="utf-8",
    )
    call_command("import_settlements", str(path), stdout=StringIO())
    assert SummaryBuild.objects.get(period="2026-04").settlement_count == 2
    assert PeriodSummary.objects.filter(period="2026-04").aggregate(s=Sum("total_amount"))["s"] == Decimal("1200.00")
    # A second file of the same month: the month is summarised again, whole
    path.write_text(HEADER + "IMP0003,2026-04,320100,320200,310,inpatient,2026-04-09,500.00,400.00,无锡市人民医院\n", encoding="utf-8")
    call_command("import_settlements", str(path), stdout=StringIO())
    row = PeriodSummary.objects.get(period="2026-04", insured_region="320100")
    assert (row.visits, row.total_amount) == (2, Decimal("1500.00"))


def test_a_refused_file_or_a_dry_run_leaves_the_aggregates_alone(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "IMP0009,2026-04,320100,320200,310,inpatient,2026-04-03,1000.00,800.00,医院\n", encoding="utf-8")
    call_command("import_settlements", str(path), "--dry-run", stdout=StringIO())
    assert not SummaryBuild.objects.exists()


def test_ensure_rebuilds_a_month_whose_record_count_changed(db):
    settle("2026-06", "320100", "110000", "100.00", "60.00")
    assert services.summary_ensure(periods=["2026-06"], recount=True) == ["2026-06"]
    assert services.summary_ensure(periods=["2026-06"], recount=True) == []
    settle("2026-06", "320100", "110000", "100.00", "60.00")
    assert services.summary_ensure(periods=["2026-06"], recount=True) == ["2026-06"]
    assert PeriodSummary.objects.get(period="2026-06").visits == 2


def test_seed_demo_leaves_lines_balances_aggregates_and_a_report(db, make_staff):
    from django.utils import timezone

    from core.models import Document, Role
    from monitoring import demo, rules
    from monitoring.models import FundBalance, Threshold

    make_staff("clearing_jiangsu", Role.CLEARING_OFFICER, "320000")
    today = timezone.localdate()
    last_month = rules.add_months(rules.month_code(today.year, today.month), -1)
    settle(last_month, "320100", "110000", "100.00", "60.00")
    demo.seed()
    demo.seed()  # idempotent
    assert SummaryBuild.objects.get(period=last_month).settlement_count == 1
    assert Threshold.objects.filter(region_id="320000").count() == len(demo.PROVINCE_LINES)
    assert FundBalance.objects.count() == 14
    report = Document.objects.get(kind="monitoring.report")
    assert report.period == last_month and report.file.read().startswith(b"%PDF")
