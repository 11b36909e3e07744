"""The counter, the supervisor and finance in a real browser (headless chromium)."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from reimbursement.models import Claim, PaymentBatch

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reimbursement-{name}.png"), full_page=True)


def download_text(page, selector, name) -> str:
    with page.expect_download() as info:
        page.click(selector)
    path = ARTIFACTS / f"reimbursement-{name}.pdf"
    info.value.save_as(str(path))
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join("".join(p.extract_text().split()) for p in reader.pages)


def switch_user(page, login, username):
    page.context.clear_cookies()
    login(username)


def test_missing_fee_list_notice_completion_approval_and_payment_notice(
    page, login, policy, person, hospital, long_term_filing, clerk, supervisor, finance
):
    page.on("dialog", lambda dialog: dialog.accept())
    discharge = timezone.localdate() - timedelta(days=3)

    # 1. The clerk takes the claim; the 住院费用清单 is missing.
    login(clerk.username)
    page.goto("/reimbursement/claims/new/")
    page.fill("#id_id_number", person.id_number)
    page.fill("#id_name", person.name)
    page.select_option("#id_institution", label="北京 · 北京测试医院")
    page.fill("#id_admission_date", (discharge - timedelta(days=8)).isoformat())
    page.fill("#id_discharge_date", discharge.isoformat())
    page.select_option("#id_settlement_failure", "not_networked")
    page.fill("#id_invoice_numbers", "BJ2026-0001")
    page.fill("#id_total_amount", "12000.00")
    page.fill("#id_in_scope_amount", "10000.00")
    page.fill("#id_class_b_self_pay", "800.00")
    page.fill("#id_over_limit_self_pay", "200.00")
    page.fill("#id_self_funded_amount", "1000.00")
    page.fill("#id_payee_name", person.name)
    page.fill("#id_bank_name", "中国工商银行南京分行")
    page.fill("#id_bank_account", "6222021234567891234")
    page.wait_for_selector("text=符合零星报销条件")
    for value in ("id_proof:1", "invoice", "diagnosis_or_summary:0"):
        page.check(f"input[name=material][value='{value}']")
        page.wait_for_timeout(300)
    page.wait_for_selector("#missing-count:has-text('缺 1 项')")
    assert "text-danger" in page.get_attribute("[data-material=inpatient_fee_list]", "class")
    assert page.is_visible("text=符合零星报销条件")
    shot(page, "1-intake")
    page.click("#submit-intake")
    page.wait_for_selector("text=材料不全（已一次性告知）")
    claim = Claim.objects.get()
    assert claim.status == Claim.Status.INCOMPLETE

    # 2. She prints the 一次性告知书.
    page.reload()
    text = download_text(page, "[data-download=missing_materials]", "2-missing-notice")
    assert "一次性告知书" in text and "住院费用清单" in text and "共1项" in text
    shot(page, "2-incomplete")

    # 3. Later the applicant brings the fee list: the claim is accepted and the clock starts.
    page.click("text=补收材料")
    page.check("input[name=material][value=inpatient_fee_list]")
    page.click("#receive-materials")
    page.wait_for_selector("text=已受理（审核中）")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED and claim.complete_on == timezone.localdate()
    page.reload()
    receipt = download_text(page, "[data-download=receipt]", "3-receipt")
    assert f"{claim.due_on.year}年{claim.due_on.month}月{claim.due_on.day}日前办结" in receipt
    page.click("text=计算待遇")
    page.wait_for_selector("#calculation-steps")
    assert "7,650.00" in page.inner_text("#fund-payment")
    page.click("#submit-review")
    page.wait_for_selector("text=待复核")
    shot(page, "3-submitted")

    # 4. The supervisor approves.
    switch_user(page, login, supervisor.username)
    page.goto(f"/reimbursement/claims/{claim.pk}/")
    page.click("#approve")
    page.wait_for_selector("text=已审批通过")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED and claim.decided_by == supervisor
    shot(page, "4-approved")

    # 5. Finance prints the payment notice.
    switch_user(page, login, finance.username)
    page.goto("/reimbursement/payments/")
    page.click("#make-notice")
    page.wait_for_selector("#download-notice")
    notice = download_text(page, "#download-notice", "5-payment-notice")
    assert claim.number in notice and "6222********1234" in notice
    assert "7,650.00" in notice and "柒仟陆佰伍拾元整" in notice
    shot(page, "5-payment-notice")
    page.click("#record-payment")
    page.wait_for_selector("text=已登记 1 笔支付")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert PaymentBatch.objects.get().status == PaymentBatch.Status.PAID


def test_a_tick_made_while_the_checklist_reloads_is_never_undone(page, login, clerk):
    """The live panel comes back from the server with the ticks it was sent; a tick made while that
    response was on its way must survive the swap (a wrong 一次性告知书 followed, on a slow machine).
    The first panel response is held back until the second tick is made: a deterministic slow network."""
    held = []

    def throttle(route):
        if not held:
            held.append(route)  # answered below, after the next tick
        else:
            route.continue_()

    login(clerk.username)
    page.goto("/reimbursement/claims/new/")
    page.route("**/reimbursement/claims/new/panel/", throttle)
    page.check("input[name=material][value='invoice']")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the panel request was not sent"
    page.check("input[name=material][value='inpatient_fee_list']")
    held[0].continue_()  # the stale answer (only 医院收费票据 ticked) arrives now
    page.wait_for_selector("[data-material=inpatient_fee_list]:not(.text-danger)")
    page.wait_for_load_state("networkidle")
    assert page.is_checked("input[name=material][value='invoice']")
    assert page.is_checked("input[name=material][value='inpatient_fee_list']")
    assert "text-danger" not in page.get_attribute("[data-material=invoice]", "class")


def test_intake_focuses_the_id_fills_a_known_persons_name_and_finds_the_hospital_by_typing(
    page, login, clerk, person, hospital, policy
):
    login(clerk.username)
    page.goto("/reimbursement/claims/new/")
    assert page.evaluate("document.activeElement.id") == "id_id_number"
    page.keyboard.type(person.id_number)
    page.keyboard.press("Tab")
    page.wait_for_selector("#panel-person-fill", state="attached")
    page.wait_for_function("document.getElementById('id_name').value.length > 0")
    assert page.input_value("#id_name") == person.name
    page.fill("#institution-filter", "北京测试")
    page.wait_for_selector("#panel-institution")
    assert page.input_value("#id_institution") == str(hospital.pk)
    shown = page.inner_text("#panel-institution")
    assert "就医地 北京" in shown and "三级" in shown


def test_lists_show_ids_plainly_names_on_one_line_badges_with_tooltips_and_a_favicon(page, login, clerk, claim_for_list):
    login(clerk.username)
    page.goto("/reimbursement/claims/")
    color = page.eval_on_selector("td code", "el => getComputedStyle(el).color")
    assert color != "rgb(214, 51, 132)", color  # Bootstrap's pink <code> read as an error
    assert page.eval_on_selector("td.person-name", "el => getComputedStyle(el).whiteSpace") == "nowrap"
    untitled = page.eval_on_selector_all(".badge:not([title])", "els => els.map(e => e.textContent.trim())")
    assert untitled == [], untitled
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(icon).status == 200
    assert page.request.get("/favicon.ico").status == 200


@pytest.fixture
def claim_for_list(policy, person, hospital, long_term_filing, clerk):
    from reimbursement import services
    from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

    return services.claim_create(by=clerk, person=person, details=inpatient_details(hospital), ticked=ALL_INPATIENT_TICKS)
