"""The monitoring pages: who sees what, flags, exports, constant queries."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import Region, Role
from monitoring import services
from monitoring.models import FundBalance, Threshold
from monitoring.tests.conftest import settle


@pytest.fixture
def months(march):
    services.summary_rebuild(periods=["2026-03", "2026-02", "2025-03"])
    return march


def pages() -> list[str]:
    return [
        reverse("monitoring:overview") + "?period=2026-03",
        reverse("monitoring:overview") + "?period=2026Q1",
        reverse("monitoring:overview") + "?period=2026",
        reverse("monitoring:export") + "?period=2026-03",
        reverse("monitoring:thresholds"),
        reverse("monitoring:balances"),
        reverse("monitoring:reports"),
    ]


def test_anonymous_users_are_sent_to_login(client, months):
    for url in pages():
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url


def test_a_counter_clerk_has_no_business_in_monitoring(client, clerk, months):
    client.force_login(clerk)
    for url in pages():
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", [Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_monitoring_staff_can_read_every_page(client, make_staff, months, role):
    region = "320100" if role in (Role.FINANCE, Role.SUPERVISOR) else "320000"
    client.force_login(make_staff(f"user_{role}", role, region))
    for url in pages():
        assert client.get(url).status_code == 200, url


def test_the_province_sees_every_city_and_the_province_total(client, clearing_officer, months):
    client.force_login(clearing_officer)
    page = client.get(reverse("monitoring:overview") + "?period=2026-03").content.decode()
    assert "各设区市指标" in page and "宿迁" in page
    assert "1,633.68" in page  # the province's outflow total
    page = client.get(reverse("monitoring:overview") + "?period=2026-03&region=320200").content.decode()
    assert "1,500.00" in page  # 无锡's inflow


def test_a_city_sees_its_own_region_only(client, finance, months):
    client.force_login(finance)  # 南京
    page = client.get(reverse("monitoring:overview") + "?period=2026-03").content.decode()
    assert "1,533.35" in page and "各设区市指标" not in page
    assert client.get(reverse("monitoring:overview") + "?period=2026-03&region=320200").status_code == 404
    assert client.get(reverse("monitoring:overview") + "?period=2026-03&region=320000").status_code == 404
    assert client.get(reverse("monitoring:export") + "?period=2026-03&region=320200").status_code == 404


def test_a_bad_period_is_a_404_with_the_format(client, clearing_officer, months):
    client.force_login(clearing_officer)
    assert client.get(reverse("monitoring:overview") + "?period=2026-13").status_code == 404


def test_flags_fire_on_the_thresholds_with_the_reason(client, clearing_officer, finance, months):
    province = Region.objects.get(code="320000")
    nanjing = Region.objects.get(code="320100")
    services.threshold_save(region=province, indicator="avg_cost_mom", direction="both", value=Decimal("20"), by=clearing_officer)
    services.threshold_save(region=province, indicator="fund_ratio", direction="outflow", value=Decimal("60"), by=clearing_officer)
    services.fund_balance_save(region=nanjing, period="2026-03", balance=Decimal("5000000"), monthly_expenditure=Decimal("1000000"),
                               by=clearing_officer)
    services.threshold_save(region=province, indicator="payable_months", direction="both", value=Decimal("6"), by=clearing_officer)
    client.force_login(finance)
    page = client.get(reverse("monitoring:overview") + "?period=2026-03").content.decode()
    assert "次均费用环比上升104.4%，超过预警线20.0%" in page  # 南京 outflow +104.4467 %
    assert "基金累计结余可支付5.0个月，少于6.0个月" in page
    assert "报销比例" in page and "低于下限" not in page.split("南京")[0]
    home = client.get(reverse("home")).content.decode()
    assert "运行监测预警（2026年3月）" in home and "次均费用环比上升104.4%" in home
    # 无锡's outflow ratio 50.00 % is below the province's 60 % floor: the province sees it, 南京 does not
    assert "报销比例50.0%，低于下限60.0%" not in home
    client.force_login(clearing_officer)
    home = client.get(reverse("home")).content.decode()
    assert "报销比例50.0%，低于下限60.0%" in home


def test_a_citys_own_line_overrides_the_provinces(client, clearing_officer, months):
    province = Region.objects.get(code="320000")
    nanjing = Region.objects.get(code="320100")
    services.threshold_save(region=province, indicator="avg_cost_mom", direction="both", value=Decimal("20"), by=clearing_officer)
    services.threshold_save(region=nanjing, indicator="avg_cost_mom", direction="outflow", value=Decimal("200"), by=None)
    client.force_login(clearing_officer)
    page = client.get(reverse("monitoring:overview") + "?period=2026-03&region=320100").content.decode()
    assert "次均费用环比上升104.4%" not in page


def test_city_staff_set_lines_and_balances_for_their_own_city(client, make_staff, months):
    officer = make_staff("clearing_nj", Role.CLEARING_OFFICER, "320100")
    client.force_login(officer)
    response = client.post(reverse("monitoring:thresholds"), {"indicator": "fund_ratio", "direction": "both", "value": "55", "active": "on"})
    assert response.status_code == 302
    assert Threshold.objects.get().region_id == "320100"
    response = client.post(reverse("monitoring:balances"), {"period": "2026-03", "balance": "100", "monthly_expenditure": "0"})
    assert response.status_code == 200 and not FundBalance.objects.exists()
    response = client.post(reverse("monitoring:balances"), {"period": "2026-03", "balance": "1200", "monthly_expenditure": "100"})
    assert response.status_code == 302 and FundBalance.objects.get().region_id == "320100"
    assert Threshold.history.count() == 1 and FundBalance.history.count() == 1


def test_finance_reads_but_cannot_set_lines(client, finance, months):
    client.force_login(finance)
    response = client.post(reverse("monitoring:thresholds"), {"indicator": "fund_ratio", "direction": "both", "value": "55"})
    assert response.status_code == 403 and not Threshold.objects.exists()


def test_the_system_administrator_sets_lines_but_does_not_enter_fund_balances(client, administrator, months):
    """三员分立: a warning line is configuration, the fund's balance a business figure."""
    client.force_login(administrator)
    response = client.post(reverse("monitoring:balances"), {"period": "2026-03", "balance": "1200", "monthly_expenditure": "100"})
    assert response.status_code == 403 and not FundBalance.objects.exists()
    page = client.get(reverse("monitoring:balances")).content.decode()
    assert 'name="balance"' not in page  # no entry form either
    response = client.post(reverse("monitoring:thresholds"), {"indicator": "fund_ratio", "direction": "both", "value": "55", "active": "on"})
    assert response.status_code == 302 and Threshold.objects.exists()


def test_export_is_xlsx_and_formula_safe(client, clearing_officer, months):
    from openpyxl import load_workbook

    settle("2026-03", "320100", "320500", "10.00", "5.00", institution="=HYPERLINK(\"http://x\")")
    services.summary_rebuild(periods=["2026-03"])
    client.force_login(clearing_officer)
    response = client.get(reverse("monitoring:export") + "?period=2026-03&region=320100")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[0] == "指标概览"
    values = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert any(value.startswith("'=HYPERLINK") for value in values)
    assert not any(value.startswith("=") for value in values)
    overview = workbook["指标概览"]
    assert [cell.value for cell in overview[3]][:5] == ["南京", "差出", 4, 1543.35, 955.01]


def test_overview_uses_a_constant_number_of_queries(client, clearing_officer, months, django_assert_max_num_queries):
    client.force_login(clearing_officer)
    url = reverse("monitoring:overview") + "?period=2026-03"
    with django_assert_max_num_queries(40) as first:
        client.get(url)
    for month in ("2026-03", "2026-02", "2025-03"):
        for index, city in enumerate(Region.objects.cities_of("320000")):
            settle(month, city.code, "110000", f"{index + 10}.00", "5.00", institution=f"医院{index}")
    services.summary_rebuild(periods=["2026-03", "2026-02", "2025-03"])
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url)


def test_deductions_feed_the_audit_deduction_rate(clearing_officer):
    """第五十三条 / 国 21号 五: 审核扣款率 = deductions ÷ total, once deductions exist; counted in the
    clearing month the deduction lands in, against the insured region (outflow)."""
    from clearing.adjustments import deduction_create
    from clearing.models import ClearingPeriod
    from clearing.services import period_get_or_create
    from monitoring import rules as monitoring_rules
    from monitoring.selectors import deductions_by_region
    from monitoring.tests.conftest import settle

    settle("2026-03", "320100", "320200", "1000.00", "700.00")
    period_get_or_create("2026-04")
    assert deductions_by_region(("2026-04",), "outflow", ["320100", "320200"]) is None
    ClearingPeriod.objects.filter(period="2026-03").update(status="settled")
    deduction_create(insured_region="320100", treatment_region="320200", insurance_type="310", amount="50.00",
                     basis="费用协查核查有误", source_ref="XC-1", by=clearing_officer)
    outflow = deductions_by_region(("2026-04",), "outflow", ["320100", "320200"])
    assert outflow == {"320100": monitoring_rules.ZERO + 50, "320000": monitoring_rules.ZERO + 50}
    assert deductions_by_region(("2026-04",), "inflow", ["320100", "320200"])["320200"] == 50
