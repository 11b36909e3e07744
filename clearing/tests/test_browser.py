"""The period page in a real browser: compute through a job, the chart, issuing notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearing import notices
from clearing.tests.factories import Row, import_rows
from core.models import Role

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
def test_clearing_officer_runs_a_month_from_the_period_page(page, login, make_staff, tmp_path, monkeypatch):
    monkeypatch.setattr(notices, "render_pdf", lambda template, context: f"%PDF {template}".encode())
    make_staff("clearing_js", Role.CLEARING_OFFICER, "320000")
    import_rows(
        tmp_path,
        [
            Row("B1", "320100", "320200", fund_amount="1000.00"),
            Row("B2", "320200", "320300", fund_amount="300.00", insurance_type="390"),
            Row("B3", "320100", "330100", fund_amount="70.00"),
            Row("B4", "510000", "320500", fund_amount="20.00"),
        ],
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.on("dialog", lambda dialog: dialog.accept())

    login("clearing_js")
    page.goto("/clearing/?year=2026")
    page.click("text=2026年02月")
    page.wait_for_selector("text=尚未生成清算")
    page.click("#compute-button")
    page.wait_for_selector("#balance-table")
    assert page.locator("#net-chart").bounding_box()["height"] > 100  # Chart.js drew the net positions
    assert "-1000.00" in page.inner_text("#balance-table").replace(",", "")
    page.screenshot(path=str(ARTIFACTS / "clearing-period-computed.png"), full_page=True)

    page.click("text=下达通知书…")
    page.fill("input[name=stamp_date]", "2026-03-26")
    page.click("text=下达并生成附件10–13")
    page.wait_for_selector("#documents")
    assert "通知书已下达" in page.inner_text("h1")
    assert page.locator("#city-documents tbody tr").count() == 13
    assert "2026-04-10" in page.inner_text("#payments-table")
    page.screenshot(path=str(ARTIFACTS / "clearing-period-issued.png"), full_page=True)


@pytest.mark.browser
def test_city_finance_sees_only_its_own_city(page, login, make_staff, tmp_path):
    make_staff("finance_nj", Role.FINANCE, "320100")
    import_rows(tmp_path, [Row("C1", "320100", "320200"), Row("C2", "320300", "320400")])
    from clearing.models import ClearingPeriod
    from clearing.services import clearing_compute

    clearing_compute(period=ClearingPeriod.objects.get(), by=None)
    login("finance_nj")
    page.goto("/clearing/periods/2026-02/")
    rows = page.locator("#balance-table tbody tr")
    assert rows.count() == 1 and "南京市" in rows.first.inner_text()
    assert page.locator("#period-actions").count() == 0
    page.screenshot(path=str(ARTIFACTS / "clearing-period-city.png"), full_page=True)
