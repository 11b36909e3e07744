"""How the advances are used and the province's own deadlines (江苏 第三十条(二), 第三十一条(一)(三),
第四十八条(二)3), and a year of months whose advance ledgers add up to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from clearing import advance_ledger, services
from clearing.models import AdvanceEntry, ClearingPeriod, ForeignAdvanceEntry, PaymentDue, Transfer
from clearing.tests.test_advances import result
from core.errors import DomainError
from core.models import Region

pytestmark = pytest.mark.django_db
D = Decimal


def contribute(city: str, amount: str, *, year: int = 2026, scope: str = "intra", province: str | None = None) -> None:
    AdvanceEntry.objects.create(year=year, scope=scope, region_id=city, province_id=province, kind="contribution",
                                amount=D(amount), entry_date=date(year, 2, 10))


def issue(period: str, officer, stamp: date = date(2026, 3, 26)) -> ClearingPeriod:
    ClearingPeriod.objects.filter(period=period).update(status="computed")
    record = ClearingPeriod.objects.get(period=period)
    services.clearing_issue_notices(period=record, by=officer, stamp_date=stamp)
    return ClearingPeriod.objects.get(pk=record.pk)


def payment(kind: str, region: str) -> PaymentDue:
    return PaymentDue.objects.get(kind=kind, region_id=region)


# --- Pure rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("city_due", "expected"),
    [
        (date(2026, 4, 10), date(2026, 4, 25)),
        (date(2026, 4, 25), date(2026, 4, 25)),
        (date(2026, 4, 27), date(2026, 5, 25)),
        (date(2026, 12, 28), date(2027, 1, 25)),
    ],
)
def test_province_pays_other_provinces_by_the_25th_article_48_2_3(city_due, expected):
    assert advance_ledger.cross_payout_due(city_due) == expected


@pytest.mark.parametrize(("year", "expected"), [(2026, date(2026, 2, 28)), (2028, date(2028, 2, 29))])
def test_cross_advance_goes_out_before_the_end_of_february_article_31_1(year, expected):
    assert advance_ledger.cross_advance_payout_due(year) == expected


# --- 第三十条(二): the intra-province advance pays the receivers at issue ---------------------------


def test_at_issue_the_intra_advance_pays_net_receivers_before_the_payer_article_30_2(jiangsu_policy, clearing_officer, finance):
    """第三十条(二): as soon as the clearing is issued the province pays 无锡 from 南京's advance,
    before 南京's money arrives (its deadline not passed); 南京's money tops the advance up."""
    contribute("320100", "5000")
    result("2026-02", "320100", "320200", "1000.00")
    period = issue("2026-02", clearing_officer)
    payable, receivable = payment("intra_payable", "320100"), payment("intra_receivable", "320200")
    assert payable.due_on > date(2026, 3, 26) and payable.status == "due"
    assert payable.advanced_amount == D("1000.00")
    assert receivable.status == "paid" and receivable.paid_amount == D("1000.00")
    transfer = Transfer.objects.get(payment=receivable)
    assert transfer.transferred_on == date(2026, 3, 26) and "第三十条(二)" in transfer.note
    assert services.advance_balance(year=2026, scope="intra", region="320100") == D("4000.00")
    services.transfer_record(payment=payable, amount=D("1000.00"), transferred_on=date(2026, 4, 1), by=finance)
    assert services.advance_balance(year=2026, scope="intra", region="320100") == D("5000.00")
    assert ClearingPeriod.objects.get(pk=period.pk).status == "settled"


def test_a_short_intra_advance_pays_the_receivers_as_far_as_it_goes_article_30_2(jiangsu_policy, clearing_officer):
    """Two receivers share what the payer's advance covers, to the cent; the rest waits for the payer."""
    contribute("320100", "100.00")
    result("2026-02", "320100", "320200", "200.00")
    result("2026-02", "320100", "320300", "100.00")
    issue("2026-02", clearing_officer)
    assert payment("intra_payable", "320100").advanced_amount == D("100.00")
    paid = [payment("intra_receivable", code).paid_amount for code in ("320200", "320300")]
    assert paid == [D("66.67"), D("33.33")]
    assert services.advance_balance(year=2026, scope="intra", region="320100") == D("0.00")


def test_without_an_intra_advance_nothing_is_paid_at_issue(jiangsu_policy, clearing_officer):
    result("2026-02", "320100", "320200", "1000.00")
    issue("2026-02", clearing_officer)
    assert payment("intra_receivable", "320200").status == "due" and not Transfer.objects.exists()


# --- 第三十一条(三): other provinces' advances held here (外省预付金) ---------------------------


def test_foreign_advance_pays_our_cities_receivables_until_that_province_pays_article_31_3(jiangsu_policy, clearing_officer):
    """四川's advance kept in 江苏's account pays 南京's receivable from 四川 at issue; 上海 has no
    advance here, so that part waits. 四川's clearing money tops its advance up."""
    sichuan, shanghai = Region.objects.get(code="510000"), Region.objects.get(code="310000")
    advance_ledger.foreign_advance_receive(year=2026, province=sichuan, amount=D("500.00"), on=date(2026, 2, 27), by=clearing_officer)
    result("2026-02", "510000", "320100", "88.80")
    result("2026-02", "310000", "320100", "50.00")
    period = issue("2026-02", clearing_officer)
    receivable = payment("cross_receivable", "320100")
    assert receivable.paid_amount == D("88.80") and receivable.status == "partly_paid"
    assert advance_ledger.foreign_advance_balance(year=2026, province="510000") == D("411.20")
    assert advance_ledger.foreign_advance_balance(year=2026, province="310000") == D("0.00")
    topped = advance_ledger.foreign_clearing_receive(period=period, province=sichuan, amount=D("88.80"), on=date(2026, 4, 20),
                                                     by=clearing_officer)
    assert topped == D("88.80")
    assert advance_ledger.foreign_advance_balance(year=2026, province="510000") == D("500.00")
    # Nothing of 上海's was used: its money tops nothing up.
    assert advance_ledger.foreign_clearing_receive(period=period, province=shanghai, amount=D("50.00"), on=date(2026, 4, 20),
                                                   by=clearing_officer) == D("0")
    kinds = list(ForeignAdvanceEntry.objects.values_list("kind", "amount"))
    assert kinds == [("received", D("500.00")), ("usage", D("-88.80")), ("top_up", D("88.80"))]


@pytest.mark.parametrize(
    ("province", "amount", "message"),
    [("510000", "0", "必须大于零"), ("510000", "1.001", "最多两位小数"), ("320000", "10", "只能来自其他省份"), ("320100", "10", "只能来自其他省份")],
)
def test_a_foreign_advance_refuses_bad_input_and_writes_nothing(clearing_officer, province, amount, message):
    with pytest.raises(DomainError, match=message):
        advance_ledger.foreign_advance_receive(year=2026, province=Region.objects.get(code=province), amount=D(amount),
                                               on=date(2026, 2, 27), by=clearing_officer)
    assert not ForeignAdvanceEntry.objects.exists()


# --- The province's own deadlines, tracked as payments due --------------------------------------


def test_the_province_payout_to_other_provinces_is_due_by_the_25th_article_48_2_3(jiangsu_policy, clearing_officer):
    result("2026-02", "320100", "330000", "200.00")
    result("2026-02", "320200", "330000", "50.00")
    result("2026-02", "320100", "110000", "100.00")
    period = issue("2026-02", clearing_officer)
    payouts = {p.region_id: p for p in PaymentDue.objects.filter(kind="cross_payout")}
    assert {code: p.amount for code, p in payouts.items()} == {"110000": D("100.00"), "330000": D("250.00")}
    assert {p.due_on for p in payouts.values()} == {date(2026, 4, 25)}  # cities pay by 2026-04-10
    assert not payouts["330000"].city_pays and payouts["330000"].payer_label == "省级"
    assert PaymentDue.objects.overdue(date(2026, 4, 26)).filter(kind="cross_payout").count() == 2
    for item in PaymentDue.objects.filter(period=period).exclude(status="paid"):
        services.transfer_record(payment=item, amount=item.outstanding, transferred_on=date(2026, 4, 2), by=clearing_officer)
    assert ClearingPeriod.objects.get(pk=period.pk).status == "settled"


def test_cross_advance_payout_is_due_before_the_end_of_february_article_31_1(jiangsu_policy, clearing_officer):
    result("2025-05", "320100", "310000", "300000.00")
    result("2025-06", "320200", "310000", "100000.00")
    services.cross_allotments_save(year=2026, amounts={"310000": 40}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    services.advances_issue_notices(year=2026, scope="cross", by=clearing_officer, stamp_date=date(2026, 2, 4))
    (payout,) = PaymentDue.objects.filter(kind="cross_advance_payout")
    assert (payout.region_id, payout.amount, payout.due_on) == ("310000", D("400000.00"), date(2026, 2, 28))


# --- A year of months: every ledger adds up to the cent ----------------------------------------


def test_a_year_of_clearing_keeps_every_advance_ledger_exact_to_the_cent(jiangsu_policy, clearing_officer):
    """第三十条(二), 第三十一条(三), 第三十二条: twelve months issued with advances used at issue, the
    payers paying some months late and some partly, other provinces' money arriving; at the end
    every ledger equals what came in less what is still out, to the cent."""
    sichuan = Region.objects.get(code="510000")
    for city, amount in (("320100", "3000.00"), ("320200", "1234.56"), ("320300", "10.01")):
        contribute(city, amount)
    advance_ledger.foreign_advance_receive(year=2026, province=sichuan, amount=D("777.77"), on=date(2026, 2, 27), by=clearing_officer)
    for month in range(1, 13):
        label = f"2026-{month:02d}"
        cents = D(month * 37 % 100) / 100
        result(label, "320100", "320200", f"{700 + month * 13 + cents:.2f}")
        result(label, "320300", "320100", f"{90 + month + cents:.2f}")
        result(label, "320200", "320300", f"{45 + cents:.2f}")
        result(label, "510000", "320100", f"{60 + month * 3 + cents:.2f}")
        result(label, "510000", "320200", f"{11 + cents:.2f}")
        stamp = date(2026, month, 26) if month < 12 else date(2026, 12, 24)
        while stamp.weekday() >= 5:
            stamp -= timedelta(days=1)
        period = issue(label, clearing_officer, stamp=min(stamp, date.today()))
        # The payers pay: in full, except every third month only half (the advance stays out).
        for item in PaymentDue.objects.filter(period=period, kind="intra_payable"):
            share = item.outstanding if month % 3 else (item.outstanding / 2).quantize(D("0.01"))
            services.transfer_record(payment=item, amount=share, transferred_on=min(stamp, date.today()), by=clearing_officer)
        if month % 4:
            used = -sum(ForeignAdvanceEntry.objects.filter(period=period, kind="usage").values_list("amount", flat=True))
            if used:
                advance_ledger.foreign_clearing_receive(period=period, province=sichuan, amount=used + D("5.00"),
                                                        on=min(stamp, date.today()), by=clearing_officer)
    totals = advance_ledger.ledger_totals(2026)
    out_own = sum((p.advanced_amount - p.topped_up_amount for p in PaymentDue.objects.filter(kind="intra_payable")), D(0))
    assert out_own > 0  # some months were paid only half
    assert totals["own_paid_in"] == D("4244.57")
    assert totals["own_balance"] == totals["own_paid_in"] - out_own
    assert totals["own_balance"] == sum(AdvanceEntry.objects.values_list("amount", flat=True))
    assert totals["own_used"] + totals["own_topped"] == -out_own
    used_foreign = -totals["foreign_used"]
    assert used_foreign > 0
    assert totals["foreign_balance"] == D("777.77") - used_foreign + totals["foreign_topped"]
    # Every receiver payment paid from an advance matches a ledger entry, to the cent.
    advanced_out = sum(
        (t.amount for t in Transfer.objects.filter(payment__kind="intra_receivable", voucher_no="预付金先行支付")), D(0)
    )
    assert advanced_out == -totals["own_used"]
    foreign_out = sum((t.amount for t in Transfer.objects.filter(payment__kind="cross_receivable", voucher_no="预付金先行支付")), D(0))
    assert foreign_out == used_foreign


def test_the_year_long_demo_balances_every_advance_ledger_to_the_cent():
    """seed_demo runs every month from last January (第三十条(二), 第三十一条(三), 第三十二条): each
    payment's advance use less its top-ups is exactly what its ledger entries say, and each
    ledger's balance is what came in less what is out."""
    from django.core.management import call_command
    from django.db.models import Sum

    from core.money import quantize_yuan

    def total(queryset) -> Decimal:  # SQLite sums decimals in floating point
        return quantize_yuan(queryset.aggregate(total=Sum("amount"))["total"] or D(0))

    call_command("seed_demo", quiet=True)
    year = date.today().year
    assert ForeignAdvanceEntry.objects.filter(kind="usage").exists()
    assert AdvanceEntry.objects.filter(kind="usage").exists()
    for item in PaymentDue.objects.filter(kind__in=["intra_payable", "cross_payable"]).exclude(advanced_amount=0):
        booked = total(AdvanceEntry.objects.filter(payment=item, kind__in=["usage", "top_up"]))
        assert -booked == item.advanced_amount - item.topped_up_amount, item
    for item in PaymentDue.objects.filter(kind__in=["intra_receivable", "cross_receivable"]):
        paid = sum(item.transfers.values_list("amount", flat=True), D(0))
        assert paid == item.paid_amount, item
    for year_ in (year - 1, year):
        totals = advance_ledger.ledger_totals(year_)
        entries = total(AdvanceEntry.objects.filter(year=year_))
        assert totals["own_balance"] == entries
        carried_out = total(AdvanceEntry.objects.filter(year=year_, kind="carry_out"))
        assert totals["own_balance"] == totals["own_paid_in"] + totals["own_used"] + totals["own_topped"] + carried_out
        foreign = total(ForeignAdvanceEntry.objects.filter(year=year_))
        assert totals["foreign_balance"] == foreign == totals["foreign_paid_in"] + totals["foreign_used"] + totals["foreign_topped"]
        assert totals["foreign_balance"] >= 0


# --- 附件6: the emergency increase is split by patients as well as costs ---------------------------


def test_emergency_split_weighs_patients_as_well_as_costs_annex_6_article_31_2():
    """附件6 “按照你单位在就医省的就医人数及费用情况”: 南京 spent 9× 无锡 there but 无锡 sent 9× the
    patients: the two weigh the same."""
    from clearing import rules

    weights = advance_ledger.emergency_split_weights({"320100": D("900"), "320200": D("100")}, {"320100": 1, "320200": 9})
    assert weights["320100"] == weights["320200"] == D("1")
    assert rules.split_by_weights(10, weights) == {"320100": 5, "320200": 5}
    only_costs = advance_ledger.emergency_split_weights({"320100": D("900"), "320200": D("100")}, {"320100": 0, "320200": 0})
    assert rules.split_by_weights(10, only_costs) == {"320100": 9, "320200": 1}


def test_the_foreign_advance_page_records_advances_and_clearing_money_article_31_3(client, clearing_officer, jiangsu_policy):
    from django.urls import reverse

    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:foreign_advance_receive", args=[2026]),
                           {"province": "510000", "amount": "500.00", "received_on": "2026-02-27"}, follow=True)
    assert "已登记四川预付金到账 500.00 元" in response.content.decode()
    result("2026-02", "510000", "320100", "88.80")
    issue("2026-02", clearing_officer)
    response = client.post(reverse("clearing:foreign_clearing_receive", args=[2026]),
                           {"province": "510000", "period": "2026-02", "amount": "88.80", "received_on": "2026-04-20"}, follow=True)
    page = response.content.decode()
    assert "补足外省预付金 88.80 元" in page and 'id="foreign-summary"' in page and "500.00" in page
    assert advance_ledger.foreign_advance_balance(year=2026, province="510000") == D("500.00")


def test_city_staff_cannot_see_or_change_the_foreign_advances(client, finance):
    from django.urls import reverse

    client.force_login(finance)
    assert client.get(reverse("clearing:foreign_advances", args=[2026])).status_code == 404
    response = client.post(reverse("clearing:foreign_advance_receive", args=[2026]),
                           {"province": "510000", "amount": "1.00", "received_on": "2026-02-27"})
    assert response.status_code == 403 and not ForeignAdvanceEntry.objects.exists()
