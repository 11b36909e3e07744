"""The pure indicator arithmetic (no database)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from monitoring import rules
from monitoring.rules import Totals


def test_rounding_is_half_up_never_to_even():
    assert rules.money_text(D("50.005")) == "50.01"
    assert rules.money_text(D("0.125")) == "0.13"
    assert rules.ratio_text(D("0.03125")) == "0.0313"
    assert rules.ratio_text(D("-0.00004")) == "0.0000"  # no "-0.0000"


def test_growth_uses_unrounded_averages():
    # 100.01/2 = 50.005 and 100.00/2 = 50.00: rounded averages would give 0.0002
    assert rules.ratio_text(rules.growth(Totals(2, D("100.01")), Totals(2, D("100.00")))) == "0.0001"
    assert rules.growth(Totals(1, D("10")), Totals()) is None
    assert rules.growth(Totals(), Totals(1, D("10"))) is None
    assert rules.growth(Totals(1, D("10")), None) is None


def test_indicator_json_of_an_empty_region():
    assert rules.indicator_json(Totals(), Totals(3, D("9")), None) == {
        "visits": 0, "total": "0.00", "fund": "0.00", "avg_cost": "0.00", "fund_ratio": "0.0000",
        "avg_cost_mom": None, "avg_cost_yoy": None,
    }


@pytest.mark.parametrize(
    ("text", "months", "previous", "year_ago"),
    [
        ("2026-01", ("2026-01",), "2025-12", "2025-01"),
        ("2026Q1", ("2026-01", "2026-02", "2026-03"), "2025Q4", "2025Q1"),
        ("2026", tuple(f"2026-{m:02d}" for m in range(1, 13)), None, "2025"),
    ],
)
def test_periods_and_what_they_are_compared_with(text, months, previous, year_ago):
    spec = rules.parse_period(text)
    assert spec.months == months
    assert (spec.previous.code if spec.previous else None) == previous
    assert spec.year_ago.code == year_ago


def test_direct_settlement_rate_and_payable_months():
    assert rules.direct_settlement_rate(90, 10) == D("0.9")
    assert rules.direct_settlement_rate(0, 0) is None
    assert rules.payable_months(D("5500000"), D("1000000")) == D("5.5")


def test_flags_fire_on_the_line_crossed_and_say_why():
    lines = rules.effective_lines(
        [("320000", "avg_cost_mom", "both", D("20")), ("320000", "payable_months", "both", D("6")),
         ("320100", "avg_cost_mom", "outflow", D("30"))],
        "320100", "320000",
    )
    flags = rules.evaluate("320100", {
        ("avg_cost_mom", "outflow"): D("0.25"),  # 南京's own line for outflow is 30 %: no flag
        ("avg_cost_mom", "inflow"): D("0.25"),  # the province's 20 % applies: flag
        ("payable_months", ""): D("5.5"),
    }, lines)
    assert [(f.indicator, f.direction) for f in flags] == [("avg_cost_mom", "inflow"), ("payable_months", "")]
    assert flags[0].reason == "次均费用环比上升25.0%，超过预警线20.0%"
    assert flags[1].reason == "基金累计结余可支付5.5个月，少于6.0个月"
