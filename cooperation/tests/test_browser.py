"""One 费用协查 and one 问题协同 round trip between 南京 and 无锡 in a real browser (headless chromium)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cooperation.models import AssistRequest, Coordination

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cooperation-{name}.png"), full_page=True)


def switch_user(page, login, username):
    page.context.clear_cookies()
    login(username)


def test_assist_raised_in_nanjing_answered_in_wuxi_and_confirmed(page, login, clerk, clerk_wuxi, id_number):
    today = timezone.localdate()
    # 1. 南京 raises a request for a 3万+ stay in 无锡; first below the threshold, refused with the article.
    login(clerk.username)
    page.goto("/cooperation/assists/new/")
    page.select_option("#id_treatment_region", "320200")
    page.fill("#id_id_number", id_number)
    page.fill("#id_name", "李秀英")
    page.select_option("#id_sex", "F")
    page.fill("#id_institution_name", "无锡市人民医院")
    page.fill("#id_hospital_number", "ZY2026110001")
    page.fill("#id_invoice_number", "FP2026110001")
    page.fill("#id_admission_date", (today - timedelta(days=20)).isoformat())
    page.fill("#id_discharge_date", (today - timedelta(days=6)).isoformat())
    page.fill("#id_total_amount", "29999.99")
    page.fill("#id_concern", "护理费计费天数多于住院天数")
    page.click("#assist-submit")
    page.wait_for_selector("text=第五十六条")
    assert not AssistRequest.objects.exists()
    page.fill("#id_total_amount", "36820.50")
    page.click("#assist-submit")
    page.wait_for_selector("#assist-status:has-text('待核查')")
    assist = AssistRequest.objects.get()
    shot(page, "assist-sent")

    # 2. 无锡 finds it in its queue and answers 核查有误 with the reason.
    switch_user(page, login, clerk_wuxi.username)
    page.goto("/cooperation/assists/?side=to_answer")
    page.click(f"text={assist.number}")
    page.check("input[name=result][value=has_issue]")
    page.fill("#id_finding", "护理费多计3天，已责令医院退回")
    page.fill("#id_irregular_amount", "450.00")
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector("#assist-status:has-text('待确认')")
    shot(page, "assist-answered")

    # 3. 南京 sees it waiting on its home page and confirms.
    switch_user(page, login, clerk.username)
    page.wait_for_selector("text=结果待我方确认")
    page.goto(f"/cooperation/assists/{assist.pk}/")
    page.wait_for_selector("#assist-result:has-text('核查有误')")
    page.click("#confirm-assist")
    page.wait_for_selector("#assist-status:has-text('已确认')")
    shot(page, "assist-confirmed")
    assist.refresh_from_db()
    assert assist.status == AssistRequest.Status.CONFIRMED and assist.finding.startswith("护理费多计3天")


def test_coordination_raised_by_nanjing_handled_by_wuxi_and_confirmed(page, login, clerk, clerk_wuxi, id_number):
    # 1. 南京 raises a 备案类 issue about one person to 无锡.
    login(clerk.username)
    page.goto("/cooperation/coordinations/new/")
    page.select_option("#id_receiver", str(clerk_wuxi.agency_id))
    page.select_option("#id_kind", "filing")
    page.fill("#id_subject", "备案生效后医院仍查询不到备案")
    page.fill("#id_person_id_number", id_number)
    page.fill("#id_person_name", "李秀英")
    page.click("#coordination-submit")
    page.wait_for_selector("#coordination-status:has-text('待处理')")
    coordination = Coordination.objects.get()
    shot(page, "coordination-raised")

    # 2. 无锡, the first responder, records its handling and replies.
    switch_user(page, login, clerk_wuxi.username)
    page.wait_for_selector("text=待我方回复")
    page.goto(f"/cooperation/coordinations/{coordination.pk}/")
    page.fill("#id_text", "已核对省平台备案数据，发现同步延迟")
    page.click("text=登记处理情况")
    page.wait_for_selector("text=已登记处理情况")
    page.fill("#id_reply", "已重新同步备案信息，医院可正常结算")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#coordination-status:has-text('待确认')")

    # 3. 南京 confirms the result.
    switch_user(page, login, clerk.username)
    page.goto(f"/cooperation/coordinations/{coordination.pk}/")
    page.wait_for_selector("#coordination-reply:has-text('已重新同步')")
    page.click("#confirm-coordination")
    page.wait_for_selector("#coordination-status:has-text('已确认')")
    shot(page, "coordination-confirmed")
    coordination.refresh_from_db()
    assert coordination.status == Coordination.Status.CONFIRMED and coordination.notes.count() == 1
