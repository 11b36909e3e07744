"""Monthly clearing: the public sample month, hand-made data in both directions,
the command's JSON shape, recomputation and the period's life cycle."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clearing import rules, selectors, services
from clearing.importers import import_file
from clearing.models import ClearingPeriod, ClearingResult, PaymentDue
from clearing.tests.factories import Row, import_rows
from core.errors import DomainError
from core.models import AuditLog

pytestmark = pytest.mark.django_db


def run_clearing_json(period: str) -> dict:
    out = StringIO()
    call_command("run_clearing", "--period", period, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_sample_month_gives_exactly_the_published_json(sample_files):
    csv_path, json_path = sample_files
    report = import_file(csv_path)
    assert report.committed and report.rows == 120, report.text()

    assert run_clearing_json("2026-02") == json.loads(json_path.read_text(encoding="utf-8"))


def test_run_clearing_is_idempotent_and_the_sample_reimport_changes_nothing(sample_files):
    csv_path, json_path = sample_files
    import_file(csv_path)
    first = run_clearing_json("2026-02")
    assert import_file(csv_path).inserted == 0
    assert run_clearing_json("2026-02") == first == json.loads(json_path.read_text(encoding="utf-8"))
    assert ClearingResult.objects.filter(period__period="2026-02").count() == len(
        {(r.insured_area, r.treatment_area) for r in ClearingResult.objects.all()}
    )


HAND_MADE = [
    # intra-province, both directions, both insurance types
    Row("I1", "320100", "320200", fund_amount="1000.00", insurance_type="310"),  # 南京 insured in 无锡
    Row("I2", "320100", "320200", fund_amount="500.50", insurance_type="390"),
    Row("I3", "320200", "320100", fund_amount="300.25", insurance_type="310"),  # 无锡 insured in 南京
    Row("I4", "320300", "320100", fund_amount="0.75", insurance_type="390"),
    # cross-province, our insured elsewhere (payable), city codes of other provinces folded
    Row("C1", "320100", "330100", fund_amount="200.00", insurance_type="310"),  # 杭州 -> 浙江
    Row("C2", "320100", "330000", fund_amount="100.00", insurance_type="390"),
    Row("C3", "320200", "440300", fund_amount="50.00", insurance_type="310"),  # 深圳 -> 广东
    # cross-province, others treated here (receivable)
    Row("C4", "510100", "320100", fund_amount="70.00", insurance_type="390"),  # 成都 -> 四川
    Row("C5", "510000", "320100", fund_amount="30.00", insurance_type="310"),
    Row("C6", "110000", "320300", fund_amount="12.34", insurance_type="310"),
    # zero fund: present in the data, absent from "only non-zero pairs"
    Row("Z1", "320400", "650000", fund_amount="0.00", total_amount="10.00"),
]


def test_hand_made_month_in_both_directions(tmp_path):
    assert import_rows(tmp_path, HAND_MADE).committed
    doc = run_clearing_json("2026-02")

    intra = doc["intra_province"]
    assert len(intra) == 13 and list(intra)[0] == "320100"
    assert intra["320100"] == {
        "receivable": {"employee": "300.25", "resident": "0.75", "total": "301.00"},
        "payable": {"employee": "1000.00", "resident": "500.50", "total": "1500.50"},
        "net": {"employee": "-699.75", "resident": "-499.75", "total": "-1199.50"},
    }
    assert intra["320200"]["net"] == {"employee": "699.75", "resident": "500.50", "total": "1200.25"}
    assert intra["320300"]["net"] == {"employee": "0.00", "resident": "-0.75", "total": "-0.75"}
    assert intra["321300"] == {key: {"employee": "0.00", "resident": "0.00", "total": "0.00"} for key in ("receivable", "payable", "net")}
    assert sum(Decimal(city["net"]["total"]) for city in intra.values()) == 0

    assert doc["cross_province"]["payable"] == {
        "320100": {"330000": {"employee": "200.00", "resident": "100.00", "total": "300.00"}},
        "320200": {"440000": {"employee": "50.00", "resident": "0.00", "total": "50.00"}},
    }
    assert doc["cross_province"]["receivable"] == {
        "320100": {"510000": {"employee": "30.00", "resident": "70.00", "total": "100.00"}},
        "320300": {"110000": {"employee": "12.34", "resident": "0.00", "total": "12.34"}},
    }


def test_an_empty_month_lists_every_city_with_zeros():
    doc = run_clearing_json("2026-05")
    assert doc["period"] == "2026-05"
    assert len(doc["intra_province"]) == 13
    assert doc["cross_province"] == {"payable": {}, "receivable": {}}


def test_run_clearing_refuses_a_bad_period():
    with pytest.raises(CommandError, match="格式不正确"):
        call_command("run_clearing", "--period", "2026-5", "--json", stdout=StringIO())


def test_recompute_replaces_the_results_and_is_audited(tmp_path):
    import_rows(tmp_path, HAND_MADE[:2], name="a.csv")
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=None)
    assert period.status == "computed" and period.settlement_count == 2
    import_rows(tmp_path, HAND_MADE[2:4], name="b.csv")
    period = services.clearing_compute(period=period, by=None)
    assert period.settlement_count == 4 and not period.results_stale
    assert ClearingResult.objects.filter(period=period).count() == 3
    assert AuditLog.objects.filter(object_id=str(period.pk), message__startswith="重新生成月度清算").exists()


def test_late_declarations_are_counted_on_the_period(tmp_path):
    import_rows(tmp_path, [Row("L1", period="2026-03", settled_on="2026-01-05"), Row("L2", period="2026-03")])
    period = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-03"), by=None)
    assert period.late_count == 1


def test_the_fold_is_pure_arithmetic():
    areas = rules.Areas("320000", ("320100", "320200"))
    cells = rules.fold_cells(
        [
            {"insured_region": "330100", "treatment_region": "320100", "employee": Decimal("1"), "resident": None, "count": 1},
            {"insured_region": "330000", "treatment_region": "320100", "employee": Decimal("2"), "resident": Decimal("3"), "count": 2},
            {"insured_region": "320100", "treatment_region": "320100", "employee": Decimal("9"), "resident": None, "count": 1},
        ],
        areas,
    )
    assert list(cells) == [("330000", "320100")]
    cell = cells[("330000", "320100")]
    assert (cell.scope, cell.amounts.employee, cell.amounts.resident, cell.count) == ("cross_in", Decimal("3"), Decimal("3"), 3)


def test_money_text_never_prints_negative_zero():
    assert rules.money_text(Decimal("-0.00")) == "0.00"
    assert rules.money_text(Decimal("1.005")) == "1.01"


# --- Life cycle -------------------------------------------------------------------------


@pytest.fixture
def computed_period(tmp_path):
    import_rows(tmp_path, HAND_MADE)
    return services.clearing_compute(period=ClearingPeriod.objects.get(), by=None)


def test_issue_notices_locks_the_results_and_creates_the_payments(computed_period, clearing_officer):
    job = services.clearing_issue_notices(period=computed_period, by=clearing_officer, stamp_date=date(2026, 3, 27))
    assert job.kind == "clearing.render_period_notices" and job.params == {"period_id": computed_period.pk}
    period = ClearingPeriod.objects.get()
    assert period.status == "notices_issued"
    assert str(period.payment_due) == "2026-04-13"  # 10 working days after Friday 2026-03-27 (清明 4-4..4-6)
    payments = {(p.kind, p.region_id): p.amount for p in PaymentDue.objects.all()}
    assert payments[("intra_payable", "320100")] == Decimal("1199.50")
    assert payments[("intra_receivable", "320200")] == Decimal("1200.25")
    assert payments[("cross_payable", "320100")] == Decimal("300.00")
    assert payments[("cross_receivable", "320300")] == Decimal("12.34")
    assert ("cross_payable", "320400") not in payments  # fund 0.00: nothing to pay
    with pytest.raises(DomainError, match="清算结果已锁定"):
        services.clearing_compute(period=period, by=clearing_officer)
    assert run_clearing_json("2026-02")["intra_province"]["320100"]["net"]["total"] == "-1199.50"


def test_notices_cannot_be_issued_from_stale_results(computed_period, clearing_officer, tmp_path):
    import_rows(tmp_path, [Row("NEW1", "320500", "320600")], name="late.csv")
    with pytest.raises(DomainError, match="请先重新生成清算"):
        services.clearing_issue_notices(period=ClearingPeriod.objects.get(), by=clearing_officer)
    assert not PaymentDue.objects.exists()


def test_close_data_and_reopen_need_the_right_state(computed_period, clearing_officer):
    with pytest.raises(DomainError, match="只有“数据采集中”的清算期可以截止数据采集"):
        services.period_close_data(period=computed_period, by=clearing_officer)
    with pytest.raises(DomainError, match="请填写重新开放数据采集的原因"):
        services.period_reopen(period=computed_period, by=clearing_officer, reason=" ")
    reopened = services.period_reopen(period=computed_period, by=clearing_officer, reason="南通市补传明细")
    assert reopened.status == "open" and reopened.results_stale
    closed = services.period_close_data(period=reopened, by=clearing_officer)
    assert closed.status == "data_closed" and closed.data_closed_by == clearing_officer


def test_a_period_cannot_be_closed_before_it_is_settled(computed_period, clearing_officer):
    with pytest.raises(DomainError, match="款项全部结清后才能关闭"):
        services.period_close(period=computed_period, by=clearing_officer)


def test_calendar_of_a_period():
    assert rules.data_due("2026-12") == date(2027, 1, 20)
    assert rules.clearing_due("2026-12") == date(2027, 1, 28)
    assert rules.latest_clearing_date("2026-11") == date(2027, 2, 28)
    assert rules.year_close_due(2026) == date(2027, 3, 31)
    assert rules.late_months(date(2026, 1, 31), "2026-03") == 2


def test_balance_table_totals(computed_period):
    table = selectors.balance_table(computed_period)
    assert table.total.net.total == 0
    assert table.total.receivable.total == table.total.payable.total == Decimal("1801.50")


def test_the_trend_runs_on_a_continuous_month_axis(tmp_path):
    import_rows(tmp_path, [Row("T1", period="2026-01", fund_amount="10.00"), Row("T4", period="2026-04", fund_amount="40.00")])
    periods = [services.clearing_compute(period=p, by=None) for p in ClearingPeriod.objects.all()]

    chart = selectors.trend(periods)

    assert chart["labels"] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert chart["intra"] == [10.0, None, None, 40.0]


def test_months_between_runs_across_the_year_end():
    assert rules.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert rules.months_between("2026-02", "2026-02") == ["2026-02"]
    assert rules.months_between("2026-03", "2026-02") == []
