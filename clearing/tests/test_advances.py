"""Advances (预付金): the 万元 rounding, the regional formula, carry-over, the
cross-province split, the 90 % trigger, payments and the advance paying first."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clearing import advance_formulas, rules, services
from clearing.models import (
    AdvanceEntry,
    AdvancePolicy,
    AdvanceYear,
    ClearingPeriod,
    ClearingResult,
    CrossAdvance,
    CrossAllotment,
    EmergencyIncrease,
    IntraAdvance,
    PaymentDue,
    Transfer,
)
from core.errors import DomainError
from core.models import Region, Role
from core.workdays import add_working_days

pytestmark = pytest.mark.django_db


def result(period: str, insured: str, treatment: str, employee: str, resident: str = "0") -> ClearingResult:
    record = services.period_get_or_create(period)
    if record.computed_at is None:
        ClearingPeriod.objects.filter(pk=record.pk).update(status="closed", computed_at=timezone.now())
    areas = services.areas()
    scope = areas.scope_of(areas.area_of(insured), areas.area_of(treatment))
    return ClearingResult.objects.create(
        period=record, scope=scope, insured_area=insured, treatment_area=treatment,
        employee_amount=Decimal(employee), resident_amount=Decimal(resident), settlement_count=1,
    )


# --- Pure rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "expected"),
    [
        ("-12345000.00", 247),  # 246.9 -> 247
        ("-12375000.00", 248),  # 247.5 -> 248 (half up)
        ("-12374999.99", 247),  # 247.4999998 -> 247
        ("-24999.99", 0),  # 0.499... -> 0
        ("-25000.00", 1),  # 0.5 -> 1
        ("5000000.00", 0),  # a net receiver advances nothing
    ],
)
def test_intra_advance_is_twenty_percent_of_net_outflow_in_whole_wanyuan_half_up(net, expected):
    basis, amount = rules.intra_advance_amount(
        method=rules.METHOD_NET_OUTFLOW_SHARE, factor=Decimal("0.2"), year_net=Decimal(net)
    )
    assert amount == expected
    assert basis == max(-Decimal(net), Decimal(0))


def test_xinjiang_cross_province_formula_is_twice_the_q4_monthly_average():
    # 新医保发〔2022〕39号 四(一): a cross-province rule (clearing.advance_formulas), not an intra-province one.
    basis, amount = advance_formulas.q4_monthly_average_advance(Decimal("3000000.00"), Decimal("2"))
    assert (basis, amount) == (Decimal("1000000.00"), 200)


def test_split_keeps_the_total_and_follows_the_shares():
    parts = rules.split_by_weights(100, {"a": Decimal("1"), "b": Decimal("1"), "c": Decimal("1"), "d": Decimal("0")})
    assert parts == {"a": 34, "b": 33, "c": 33, "d": 0}
    assert sum(rules.split_by_weights(7, {"x": Decimal("0.123"), "y": Decimal("9.5")}).values()) == 7
    with pytest.raises(ValueError):
        rules.split_by_weights(5, {"a": Decimal(0)})


@pytest.mark.parametrize(
    ("amount", "advance", "warning"),
    [("900000.00", 100, True), ("899999.99", 100, False), ("1500000", 100, True), ("1", 0, False)],
)
def test_usage_rate_warns_at_ninety_percent_and_above(amount, advance, warning):
    rate = rules.usage_rate(Decimal(amount), advance)
    assert rules.needs_emergency_increase(rate) is warning


# --- Intra-province advances ------------------------------------------------------------


@pytest.fixture
def last_year(jiangsu_policy):
    """2025: 南京's insured cost others 1,000,000 (net outflow 800,000); 无锡 received."""
    result("2025-03", "320100", "320200", "600000.00", "400000.00")
    result("2025-11", "320200", "320100", "150000.00", "50000.00")
    return 2025


def test_intra_advances_come_from_last_years_clearing(last_year, clearing_officer):
    rows = {row.region_id: row for row in services.intra_advances_compute(year=2026, by=clearing_officer)}
    assert rows["320100"].approved_amount == 16  # 800,000 × 20 % = 160,000 元 = 16 万元
    assert rows["320100"].basis_amount == Decimal("800000.00")
    assert rows["320200"].approved_amount == 0
    assert len(rows) == 13
    assert AdvanceYear.objects.get(year=2026).intra_formula.startswith("本年核定额度计算公式为：上年省内跨市就医直接结算基金支出差出额乘以20%")


def test_the_formula_is_a_regional_setting(last_year, clearing_officer):
    AdvancePolicy.objects.create(province_id="320000", effective_year=2026, method="net_outflow_share", factor="0.3")
    rows = {row.region_id: row for row in services.intra_advances_compute(year=2026, by=clearing_officer)}
    assert rows["320100"].approved_amount == 24  # 800,000 × 30 % = 24 万元


def test_year_end_balance_carries_over_and_reduces_the_amount(last_year, clearing_officer):
    nanjing = Region.objects.get(code="320100")
    IntraAdvance.objects.create(year=2025, region=nanjing, approved_amount=12, actual_amount=12)
    AdvanceEntry.objects.create(year=2025, scope="intra", region=nanjing, kind="contribution", amount=Decimal("120000"), entry_date=date(2025, 2, 10))
    AdvanceEntry.objects.create(year=2025, scope="intra", region=nanjing, kind="usage", amount=Decimal("-20000"), entry_date=date(2025, 6, 10))

    assert services.advances_carry_over(year=2026, by=clearing_officer) == 1
    row = next(r for r in services.intra_advances_compute(year=2026, by=clearing_officer) if r.region_id == "320100")

    assert (row.previous_amount, row.approved_amount, row.carry_over, row.actual_amount) == (12, 16, 10, 6)
    assert services.advance_balance(year=2025, scope="intra", region="320100") == 0
    with pytest.raises(DomainError, match="不能重复结转"):
        services.advances_carry_over(year=2026, by=clearing_officer)


def test_issuing_intra_advance_notices_creates_payments_with_a_working_day_deadline(last_year, clearing_officer):
    services.intra_advances_compute(year=2026, by=clearing_officer)
    job = services.advances_issue_notices(year=2026, scope="intra", by=clearing_officer, stamp_date=date(2026, 2, 3))

    payment = PaymentDue.objects.get(kind="intra_advance")
    assert (payment.region_id, payment.amount) == ("320100", Decimal("160000.00"))
    assert payment.due_on == add_working_days(date(2026, 2, 3), 10)
    assert job.params == {"year": 2026, "scope": "intra"}
    with pytest.raises(DomainError, match="已下达"):
        services.intra_advances_compute(year=2026, by=clearing_officer)


def test_no_policy_no_computation(clearing_officer):
    AdvancePolicy.objects.all().delete()
    with pytest.raises(DomainError, match="没有配置预付金测算规则"):
        services.intra_advances_compute(year=2026, by=clearing_officer)
    assert not IntraAdvance.objects.exists()


# --- Cross-province advances ----------------------------------------------------------


@pytest.fixture
def cross_last_year(jiangsu_policy):
    result("2025-05", "320100", "310000", "300000.00")  # 南京 75 %
    result("2025-06", "320200", "330100", "100000.00")  # 无锡 25 % (杭州 folded to 浙江)
    return 2025


def test_cross_advances_split_each_province_by_last_years_share(cross_last_year, clearing_officer):
    services.cross_allotments_save(year=2026, amounts={"110000": 101, "310000": 40}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)

    cells = {(a.region_id, a.province_id): a for a in CrossAdvance.objects.filter(year=2026)}
    assert (cells[("320100", "110000")].approved_amount, cells[("320200", "110000")].approved_amount) == (76, 25)
    assert (cells[("320100", "310000")].approved_amount, cells[("320200", "310000")].approved_amount) == (30, 10)
    assert cells[("320300", "110000")].approved_amount == 0
    assert cells[("320100", "110000")].share == Decimal("0.75000000")


def test_cross_split_needs_allotments_and_last_years_spending(jiangsu_policy, clearing_officer):
    with pytest.raises(DomainError, match="还没有录入或导入"):
        services.cross_advances_compute(year=2026, by=clearing_officer)
    services.cross_allotments_save(year=2026, amounts={"110000": 10}, by=clearing_officer)
    with pytest.raises(DomainError, match="没有跨省清算结果"):
        services.cross_advances_compute(year=2026, by=clearing_officer)
    assert not CrossAdvance.objects.exists()


def test_allotments_are_validated(clearing_officer):
    with pytest.raises(DomainError, match="不认识的省份代码：990000"):
        services.cross_allotments_save(year=2026, amounts={"990000": 1}, by=clearing_officer)
    with pytest.raises(DomainError, match="额度不能为负数：北京"):
        services.cross_allotments_save(year=2026, amounts={"110000": -1}, by=clearing_officer)
    assert not CrossAllotment.objects.exists()


def test_allotment_file_rows_are_parsed_with_names_or_codes():
    amounts = services.parse_allotment_rows([{"省份": "北京", "额度（万元）": "120"}, {"province": "440000", "amount": "35"}, {}])
    assert amounts == {"110000": 120, "440000": 35}
    with pytest.raises(DomainError) as exc:
        services.parse_allotment_rows([{"省份": "火星", "额度（万元）": "1"}, {"省份": "天津", "额度（万元）": "1.5"}])
    assert "第 2 行：不认识的省份“火星”" in exc.value.message and "第 3 行：额度以万元为单位，不保留小数（1.5）" in exc.value.message


def test_previous_amount_includes_last_years_emergency_increase(cross_last_year, clearing_officer):
    nanjing, shanghai = Region.objects.get(code="320100"), Region.objects.get(code="310000")
    CrossAdvance.objects.create(year=2025, region=nanjing, province=shanghai, approved_amount=20)
    period = ClearingPeriod.objects.get(period="2025-05")
    increase = EmergencyIncrease.objects.create(
        year=2025, province=shanghai, amount=5, basis_period=period, usage_rate=Decimal("0.95"), stamp_date=date(2025, 7, 1), created_by=clearing_officer
    )
    increase.lines.create(region=nanjing, amount=5)
    services.cross_allotments_save(year=2026, amounts={"310000": 40}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    assert CrossAdvance.objects.get(year=2026, region=nanjing, province=shanghai).previous_amount == 25


# --- The 90 % trigger -------------------------------------------------------------------


@pytest.fixture
def shanghai_usage(jiangsu_policy, clearing_officer):
    """2026-03: 南京 owes 上海 90,000 and 无锡 owes 上海 10,000; the advance there is 10 or 12 万元."""
    result("2025-05", "320100", "310000", "300000.00")
    result("2025-06", "320200", "310000", "100000.00")

    def make(advance: int) -> ClearingPeriod:
        services.cross_allotments_save(year=2026, amounts={"310000": advance}, by=clearing_officer)
        services.cross_advances_compute(year=2026, by=clearing_officer)
        result("2026-03", "320100", "310000", "80000.00", "10000.00")
        result("2026-03", "320200", "310000", "10000.00")
        return ClearingPeriod.objects.get(period="2026-03")

    return make


def test_emergency_increase_starts_at_ninety_percent(shanghai_usage, clearing_officer):
    period = shanghai_usage(11)  # 100,000 / 110,000 = 90.9 %
    row = next(r for r in services.usage_by_province(period) if r.key == "310000")
    assert row.warning and row.rate_text == "90.9%"

    increase = services.emergency_increase_create(period=period, province=Region.objects.get(code="310000"), amount=10,
                                                  by=clearing_officer, stamp_date=date(2026, 4, 7))

    # 附件6 “按照你单位在就医省的就医人数及费用情况”: costs 9:1, patients 1:1 -> weights 1.4 : 0.6
    assert {line.region_id: line.amount for line in increase.lines.all()} == {"320100": 7, "320200": 3}
    payment = PaymentDue.objects.get(kind="emergency_advance", region_id="320100")
    assert payment.amount == Decimal("70000.00") and payment.due_on == add_working_days(date(2026, 4, 7), 10)


def test_emergency_increase_is_refused_below_ninety_percent(shanghai_usage, clearing_officer):
    period = shanghai_usage(12)  # 100,000 / 120,000 = 83.3 %
    with pytest.raises(DomainError) as exc:
        services.emergency_increase_create(period=period, province=Region.objects.get(code="310000"), amount=10, by=clearing_officer)
    assert exc.value.message == "2026年03月向上海的预付金使用率为 83.3%，未达到90%，不能启动紧急调增流程（第三十一条(二)）。"
    assert not EmergencyIncrease.objects.exists() and not PaymentDue.objects.exists()


# --- Payments and the advance paying first -----------------------------------------------


@pytest.fixture
def issued_period(jiangsu_policy, clearing_officer):
    """2026-02 issued: 南京 owes the province 1,000 (intra) and 300 to 浙江/北京 (cross)."""
    result("2026-02", "320100", "320200", "1000.00")
    result("2026-02", "320100", "330000", "200.00")
    result("2026-02", "320100", "110000", "100.00")
    ClearingPeriod.objects.filter(period="2026-02").update(status="computed")
    period = ClearingPeriod.objects.get(period="2026-02")
    services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    nanjing = Region.objects.get(code="320100")
    AdvanceEntry.objects.create(year=2026, scope="intra", region=nanjing, kind="contribution", amount=Decimal("5000"), entry_date=date(2026, 2, 10))
    for province in ("330000", "110000"):
        AdvanceEntry.objects.create(year=2026, scope="cross", region=nanjing, province_id=province, kind="contribution",
                                    amount=Decimal("1000"), entry_date=date(2026, 2, 20))
    return ClearingPeriod.objects.get(pk=period.pk)


def test_finance_records_transfers_and_the_period_settles(issued_period, finance, clearing_officer):
    payable = PaymentDue.objects.get(kind="intra_payable")
    services.transfer_record(payment=payable, amount=Decimal("400.00"), transferred_on=date(2026, 4, 1), by=finance, voucher_no="YH1")
    payable.refresh_from_db()
    assert (payable.status, payable.outstanding) == ("partly_paid", Decimal("600.00"))
    for payment in PaymentDue.objects.exclude(status="paid"):
        by = finance if payment.city_pays else clearing_officer
        services.transfer_record(payment=payment, amount=payment.outstanding, transferred_on=date(2026, 4, 2), by=by)
    period = ClearingPeriod.objects.get()
    assert period.status == "settled"
    assert services.period_close(period=period, by=clearing_officer).status == "closed"


@pytest.mark.parametrize(
    ("amount", "day", "message"),
    [
        ("1000.01", date(2026, 4, 1), "到账金额 1,000.01 元超过未付金额 1,000.00 元。"),
        ("0", date(2026, 4, 1), "到账金额必须大于零。"),
        ("10.001", date(2026, 4, 1), "到账金额最多两位小数。"),
        ("10", timezone.localdate() + timedelta(days=1), "到账日期不能晚于今天。"),
    ],
)
def test_transfer_refusals(issued_period, finance, amount, day, message):
    payable = PaymentDue.objects.get(kind="intra_payable")
    with pytest.raises(DomainError, match=message):
        services.transfer_record(payment=payable, amount=Decimal(amount), transferred_on=day, by=finance)
    assert not Transfer.objects.exists()
    payable.refresh_from_db()
    assert payable.paid_amount == 0


def test_a_city_cannot_record_another_citys_payment_nor_the_provinces(issued_period, make_staff, finance):
    wuxi_finance = make_staff("finance_wx", Role.FINANCE, "320200")
    payable = PaymentDue.objects.get(kind="intra_payable")
    receivable = PaymentDue.objects.get(kind="intra_receivable")
    with pytest.raises(DomainError, match="只能登记本市上解的款项"):
        services.transfer_record(payment=payable, amount=Decimal("1"), transferred_on=date(2026, 4, 1), by=wuxi_finance)
    with pytest.raises(DomainError, match="只能登记本市上解的款项"):
        services.transfer_record(payment=receivable, amount=Decimal("1"), transferred_on=date(2026, 4, 1), by=wuxi_finance)
    assert not Transfer.objects.exists()


def test_the_intra_advance_pays_before_the_deadline_and_is_topped_up_when_the_money_comes(issued_period, finance, clearing_officer):
    """第三十条(二): the intra-province advance pays before the payer's money arrives — not only
    once its deadline has passed."""
    payable = PaymentDue.objects.get(kind="intra_payable")
    used = services.payment_cover_with_advance(payment=payable, by=clearing_officer, on=payable.due_on - timedelta(days=3))
    assert used == Decimal("1000.00")
    assert services.advance_balance(year=2026, scope="intra", region="320100") == Decimal("4000.00")
    with pytest.raises(DomainError, match="已经由预付金先行支付"):
        services.payment_cover_with_advance(payment=payable, by=clearing_officer, on=payable.due_on + timedelta(days=2))

    services.transfer_record(payment=payable, amount=Decimal("600.00"), transferred_on=payable.due_on + timedelta(days=3), by=finance)
    assert services.advance_balance(year=2026, scope="intra", region="320100") == Decimal("4600.00")
    services.transfer_record(payment=payable, amount=Decimal("400.00"), transferred_on=payable.due_on + timedelta(days=4), by=finance)
    assert services.advance_balance(year=2026, scope="intra", region="320100") == Decimal("5000.00")
    payable.refresh_from_db()
    assert (payable.advanced_amount, payable.topped_up_amount, payable.status) == (Decimal("1000.00"), Decimal("1000.00"), "paid")
    kinds = list(AdvanceEntry.objects.filter(payment=payable).values_list("kind", "amount"))
    assert kinds == [("usage", Decimal("-1000.00")), ("top_up", Decimal("600.00")), ("top_up", Decimal("400.00"))]


def test_a_cross_province_debt_uses_the_advance_held_in_each_province(issued_period, clearing_officer):
    payable = PaymentDue.objects.get(kind="cross_payable")
    assert payable.breakdown == {"110000": "100.00", "330000": "200.00"}
    services.payment_cover_with_advance(payment=payable, by=clearing_officer, on=payable.due_on + timedelta(days=1))
    usage = dict(AdvanceEntry.objects.filter(payment=payable, kind="usage").values_list("province_id", "amount"))
    assert usage == {"110000": Decimal("-100.00"), "330000": Decimal("-200.00")}


def test_the_advance_cannot_pay_for_the_province_side(issued_period, clearing_officer):
    receivable = PaymentDue.objects.get(kind="intra_receivable")
    with pytest.raises(DomainError, match="只有设区市应上解的清算费用"):
        services.payment_cover_with_advance(payment=receivable, by=clearing_officer, on=date(2026, 12, 31))


def test_overdue_debts_are_covered_by_the_daily_service(issued_period):
    payable = PaymentDue.objects.get(kind="intra_payable")
    count = services.advances_cover_overdue(today=payable.due_on + timedelta(days=1))
    assert count == 2
    assert services.advances_cover_overdue(today=payable.due_on + timedelta(days=2)) == 0


def test_advance_payments_received_become_the_citys_balance(last_year, clearing_officer, finance):
    services.intra_advances_compute(year=2026, by=clearing_officer)
    services.advances_issue_notices(year=2026, scope="intra", by=clearing_officer, stamp_date=date(2026, 2, 3))
    payment = PaymentDue.objects.get(kind="intra_advance")
    services.transfer_record(payment=payment, amount=payment.amount, transferred_on=date(2026, 2, 10), by=finance)
    assert services.advance_balance(year=2026, scope="intra", region="320100") == Decimal("160000.00")
