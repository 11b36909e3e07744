"""`monitoring_report --period YYYY-MM --json` against hand-computed figures (domain.md §7)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import Region
from monitoring.models import PeriodSummary, SummaryBuild

EMPTY = {"visits": 0, "total": "0.00", "fund": "0.00", "avg_cost": "0.00", "fund_ratio": "0.0000", "avg_cost_mom": None, "avg_cost_yoy": None}


def report(period: str) -> dict:
    out = StringIO()
    call_command("monitoring_report", "--period", period, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_keys_are_every_city_of_the_home_province_and_the_province(march):
    document = report("2026-03")
    cities = list(Region.objects.cities_of("320000").values_list("code", flat=True))
    assert len(cities) == 13
    assert document["period"] == "2026-03"
    for direction in ("outflow", "inflow"):
        assert set(document[direction]) == {*cities, "320000"}


def test_outflow_by_insured_region_to_the_cent_and_fourth_decimal(march):
    outflow = report("2026-03")["outflow"]
    # 南京: 1000.00 + 333.33 + 200.02 over 3 visits (in the province, another province, another province's city)
    assert outflow["320100"] == {
        "visits": 3, "total": "1533.35", "fund": "950.01", "avg_cost": "511.12", "fund_ratio": "0.6196",
        "avg_cost_mom": "1.0445",  # 511.1166… ÷ 250.00 − 1
        "avg_cost_yoy": "-0.4889",  # 511.1166… ÷ 1000.00 − 1
    }
    # 无锡: 100.01 over 2 visits = 50.005 -> half up to 50.01; no month before, no year before
    assert outflow["320200"] == {
        "visits": 2, "total": "100.01", "fund": "50.00", "avg_cost": "50.01", "fund_ratio": "0.5000",
        "avg_cost_mom": None, "avg_cost_yoy": None,
    }
    # 徐州: 0.01 ÷ 0.32 = 0.03125 -> half up to 0.0313; 0.32 ÷ 0.33 − 1 = −0.030303…
    assert outflow["320300"] == {
        "visits": 1, "total": "0.32", "fund": "0.01", "avg_cost": "0.32", "fund_ratio": "0.0313",
        "avg_cost_mom": "-0.0303", "avg_cost_yoy": None,
    }
    assert outflow["321300"] == EMPTY  # 宿迁: no visits
    # The province sums its cities: 1633.68 over 6; the month before 500.33 over 3; a year before 1000.00 over 1
    assert outflow["320000"] == {
        "visits": 6, "total": "1633.68", "fund": "1000.02", "avg_cost": "272.28", "fund_ratio": "0.6121",
        "avg_cost_mom": "0.6326", "avg_cost_yoy": "-0.7277",
    }


def test_inflow_by_treatment_region_ignores_treatment_in_other_provinces(march):
    inflow = report("2026-03")["inflow"]
    assert inflow["320200"] == {  # 南京's insured and 浙江's insured treated in 无锡
        "visits": 2, "total": "1500.00", "fund": "950.00", "avg_cost": "750.00", "fund_ratio": "0.6333",
        "avg_cost_mom": None, "avg_cost_yoy": None,
    }
    assert inflow["320100"] == {
        "visits": 1, "total": "60.00", "fund": "30.00", "avg_cost": "60.00", "fund_ratio": "0.5000",
        "avg_cost_mom": "180.8182", "avg_cost_yoy": None,  # 60.00 ÷ 0.33 − 1
    }
    assert inflow["320300"] == EMPTY
    assert inflow["320000"] == {
        "visits": 3, "total": "1560.00", "fund": "980.00", "avg_cost": "520.00", "fund_ratio": "0.6282",
        "avg_cost_mom": "1574.7576", "avg_cost_yoy": None,
    }


def test_report_reads_the_summary_and_summarises_a_month_only_once(march, django_assert_max_num_queries):
    report("2026-03")
    assert set(SummaryBuild.objects.values_list("period", flat=True)) == {"2026-03", "2026-02", "2025-03"}
    assert SummaryBuild.objects.get(period="2026-03").settlement_count == 7
    rows = PeriodSummary.objects.filter(period="2026-03").count()
    report("2026-03")  # already built: counted, not rebuilt
    assert PeriodSummary.objects.filter(period="2026-03").count() == rows


def test_a_month_with_no_records_at_all_prints_zeros(db):
    document = report("2031-07")
    assert document["outflow"]["320100"] == EMPTY
    assert document["inflow"]["320000"] == EMPTY


@pytest.mark.parametrize("bad", ["2026-13", "2026/03", "2026Q1", ""])
def test_a_bad_period_is_a_clear_error(db, bad):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("monitoring_report", "--period", bad, "--json", stdout=StringIO())


def test_keys_follow_the_configured_home_province(settings, db):
    settings.YIDI_HOME_PROVINCE = "360000"
    document = report("2026-03")
    cities = set(Region.objects.cities_of("360000").values_list("code", flat=True))
    assert cities and set(document["outflow"]) == {*cities, "360000"}
