"""A clerk at the counter, in a real browser (Playwright driving Debian's chromium)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from core.idcard import build_id_number, id_number_hash
from core.models import Role
from filings.models import Basis, Filing

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
@pytest.mark.usefixtures("transactional_db")
def test_clerk_files_long_term_resident_by_commitment_prints_annex1_and_finds_it(page, login, make_staff):
    ARTIFACTS.mkdir(exist_ok=True)
    make_staff("clerk_counter", Role.CLERK, "320100")
    login("clerk_counter")
    number = build_id_number("320102", date(1961, 9, 14), 57)

    page.goto("/filings/new/")
    page.fill("#id_id_number", number)
    page.press("#id_id_number", "Enter")
    page.wait_for_selector("#person-new")  # not registered yet: registered with the filing
    page.fill("#id_name", "严素芬")
    page.fill("#id_phone", "13770001234")
    page.check("input[name=person_type][value=long_term_resident]")
    page.wait_for_selector("#m-commitment_letter")
    page.check("#m-id_card")
    page.wait_for_selector("#m-id_card:checked")
    page.check("#m-commitment_letter")
    page.wait_for_selector("#materials-status:has-text('承诺制')")
    page.select_option("#id_destination", "330100")
    page.screenshot(path=str(ARTIFACTS / "filings-counter-form.png"), full_page=True)
    page.click("#submit-filing")
    page.wait_for_selector("text=备案已生效")
    page.screenshot(path=str(ARTIFACTS / "filings-detail.png"), full_page=True)

    filing = Filing.objects.get(insured_person__id_number_hash=id_number_hash(number))
    assert filing.basis == Basis.COMMITMENT and filing.status == Filing.Status.ACTIVE
    assert filing.destination.code == "330100" and filing.materials_due_on is not None

    page.click("#print-annex1")
    page.wait_for_selector("#download-annex1")
    with page.expect_download() as download_info:
        page.click("#download-annex1")
    pdf = ARTIFACTS / "filings-annex1.pdf"
    download_info.value.save_as(str(pdf))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(" ", "")
    assert "长期异地居住人员个人承诺书" in text and "严素芬" in text and number in text
    assert "☑异地长期居住人员" in text and "杭州市" in text

    page.click("text=异地就医备案")  # breadcrumb back to the list
    page.fill("input[name=q]", "严素芬")
    page.click("button:has-text('查询')")
    row = page.locator("#filing-table tbody tr", has_text="严素芬")
    row.wait_for()
    assert f"{number[:6]}********{number[-4:]}" in row.inner_text()
    assert number not in page.content()
    assert "承诺" in row.inner_text() and filing.number in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "filings-list.png"), full_page=True)
