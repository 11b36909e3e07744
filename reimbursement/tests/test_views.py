"""Pages: the permission matrix, constant query counts, intake with the live checklist, export."""

import io
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import InsuredPerson, Role
from core.tests.factories import InsuredPersonFactory, region
from reimbursement import services
from reimbursement.models import Claim, PaymentBatch
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

D = Decimal
pytestmark = pytest.mark.django_db
RECENT = timezone.localdate() - timedelta(days=10)


def details(hospital, **changes):
    values = {"admission_date": RECENT - timedelta(days=5), "discharge_date": RECENT}
    values.update(changes)
    return inpatient_details(hospital, **values)


@pytest.fixture
def claim(policy, person, hospital, long_term_filing, clerk):
    return services.claim_create(by=clerk, person=person, details=details(hospital), ticked=ALL_INPATIENT_TICKS)


@pytest.fixture
def submitted_claim(claim, clerk):
    services.claim_calculate(claim=claim, by=clerk)
    return services.claim_submit(claim=claim, by=clerk)


@pytest.fixture
def users(clerk, supervisor, finance, clerk_wuxi, supervisor_wuxi, clearing_officer, administrator, make_staff):
    return {
        "clerk": clerk,
        "supervisor": supervisor,
        "finance": finance,
        "clerk_wuxi": clerk_wuxi,
        "supervisor_wuxi": supervisor_wuxi,
        "finance_wuxi": make_staff("finance_wx", Role.FINANCE, "320200"),
        "clearing": clearing_officer,
        "administrator": administrator,
    }


def status_for(client, user, url, method="get", data=None):
    client.force_login(user)
    response = getattr(client, method)(url, data or {})
    client.logout()
    return response.status_code


PAGES = {
    # url name: who may open it (others: 403; another region's object: 404)
    "claim_list": {"clerk", "supervisor", "finance", "clerk_wuxi", "supervisor_wuxi", "finance_wuxi", "administrator"},
    "intake": {"clerk", "clerk_wuxi"},
    "deadlines": {"clerk", "supervisor", "clerk_wuxi", "supervisor_wuxi", "administrator"},
    "trial": {"clerk", "supervisor", "clerk_wuxi", "supervisor_wuxi", "administrator"},
    "payments": {"finance", "finance_wuxi"},
    "policy_list": {"clerk", "supervisor", "finance", "clerk_wuxi", "supervisor_wuxi", "finance_wuxi", "clearing", "administrator"},
    "claim_export": {"clerk", "supervisor", "finance", "clerk_wuxi", "supervisor_wuxi", "finance_wuxi", "administrator"},
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_permission_matrix(client, users, policy, name):
    url = reverse(f"reimbursement:{name}")
    assert client.get(url).status_code == 302  # anonymous → login
    assert client.get(url)["Location"].startswith(reverse("login"))
    for role, user in users.items():
        expected = 200 if role in PAGES[name] else 403
        assert status_for(client, user, url) == expected, (role, name)


def test_claim_detail_matrix(client, users, claim):
    url = reverse("reimbursement:claim_detail", args=[claim.pk])
    assert client.get(url).status_code == 302
    expected = {"clerk": 200, "supervisor": 200, "finance": 200, "administrator": 200, "clearing": 403,
                "clerk_wuxi": 404, "supervisor_wuxi": 404, "finance_wuxi": 404}
    for role, user in users.items():
        assert status_for(client, user, url) == expected[role], role


def test_action_matrix(client, users, submitted_claim):
    pk = submitted_claim.pk
    approve = reverse("reimbursement:claim_approve", args=[pk])
    for role in ("clerk", "finance", "clearing"):
        assert status_for(client, users[role], approve, "post") == 403
    assert status_for(client, users["supervisor_wuxi"], approve, "post") == 404
    assert Claim.objects.get(pk=pk).status == Claim.Status.SUBMITTED
    assert status_for(client, users["supervisor"], approve, "post", {"expected_fund_payment": "7650.00"}) == 302
    assert Claim.objects.get(pk=pk).status == Claim.Status.APPROVED
    pay = reverse("reimbursement:claim_pay", args=[pk])
    assert status_for(client, users["clerk"], pay, "post") == 403
    assert status_for(client, users["supervisor"], pay, "post") == 403
    assert status_for(client, users["finance_wuxi"], pay, "post") == 404
    for name in ("claim_edit", "claim_materials"):
        url = reverse(f"reimbursement:{name}", args=[pk])
        assert status_for(client, users["supervisor"], url) == 403
        assert status_for(client, users["clerk_wuxi"], url) == 404


def test_approve_from_the_page_shows_the_race_loser_a_message(client, users, submitted_claim):
    client.force_login(users["supervisor"])
    client.post(reverse("reimbursement:claim_approve", args=[submitted_claim.pk]))
    response = client.post(reverse("reimbursement:claim_reject", args=[submitted_claim.pk]), {"reason": "重复"}, follow=True)
    assert "已由" in response.content.decode() and "您的操作未执行" in response.content.decode()


def test_reject_without_reason_from_the_page_is_refused(client, supervisor, submitted_claim):
    client.force_login(supervisor)
    response = client.post(reverse("reimbursement:claim_reject", args=[submitted_claim.pk]), {"reason": ""}, follow=True)
    assert "请填写不予报销的理由" in response.content.decode()
    assert Claim.objects.get().status == Claim.Status.SUBMITTED


def make_claims(n, clerk, hospital):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    start = Claim.objects.count()
    for index in range(start, start + n):
        person = InsuredPersonFactory(insured_region=region("320100"))
        FilingFactory(insured_person=person, person_type=PersonType.RETIRED_RESETTLED, destination=region("110000"),
                      start_date=RECENT - timedelta(days=60), applied_on=RECENT - timedelta(days=60))
        services.claim_create(by=clerk, person=person, details=details(hospital, invoice_numbers=f"Q{index:04d}"),
                              ticked=ALL_INPATIENT_TICKS if index % 2 else {"invoice"})


def test_list_query_count_does_not_grow_with_rows(client, policy, hospital, clerk):
    client.force_login(clerk)
    url = reverse("reimbursement:claim_list")
    make_claims(2, clerk, hospital)
    client.get(url)  # warm caches (calendar years)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make_claims(12, clerk, hospital)
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('<a href="/reimbursement/claims/') == 14
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as filtered:
        assert client.get(url, {"deadline": "needs_notice", "q": "Q00", "care_type": "inpatient"}).status_code == 200
    assert len(filtered) <= len(few) + 3  # a search reads each kind of match on its own (core.search.rows_matching_any)


def test_deadline_page_and_home_page_query_counts_are_constant(client, policy, hospital, clerk):
    client.force_login(clerk)
    make_claims(2, clerk, hospital)
    client.get(reverse("reimbursement:deadlines"))
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reimbursement:deadlines"))
        client.get(reverse("home"))
    make_claims(10, clerk, hospital)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("reimbursement:deadlines"))
        client.get(reverse("home"))
    assert len(many) == len(few)


def test_deadline_page_counts_every_claim_and_lists_the_first_of_each_section(client, policy, hospital, clerk):
    from reimbursement import views

    make_claims(6, clerk, hospital)
    accepted = Claim.objects.filter(status=Claim.Status.ACCEPTED).order_by("pk")
    assert accepted.count() == 3
    today = timezone.localdate()
    for days, claim in zip((3, 2, 1), accepted, strict=True):
        Claim.objects.filter(pk=claim.pk).update(due_on=today - timedelta(days=days))
    client.force_login(clerk)
    page = client.get(reverse("reimbursement:deadlines")).content.decode()
    assert "已逾期（3 件）" in page and "今日到期（0 件）" in page
    assert "另有" not in page
    with mock.patch.object(views, "DEADLINE_ROWS", 2):
        page = client.get(reverse("reimbursement:deadlines")).content.decode()
    assert "已逾期（3 件）" in page  # the total, not the rows shown
    overdue = page[page.index("已逾期（"):page.index("今日到期（")]
    first, second, third = (claim.number for claim in accepted)
    assert first in overdue and second in overdue and third not in overdue  # most overdue first
    assert "另有 1 件未列出" in overdue and "?deadline=overdue" in overdue


def test_home_page_shows_real_numbers(client, policy, hospital, clerk, supervisor):
    make_claims(3, clerk, hospital)  # even indices incomplete, odd ones accepted
    client.force_login(clerk)
    page = client.get(reverse("home")).content.decode()
    assert "零星报销 · 窗口受理" in page
    assert Claim.objects.filter(status="incomplete").count() == 2
    tile = page[page.index("材料不全待补齐"):][:120]
    assert '<div class="display-6 text-warning">2</div>' in tile
    tile = page[page.index("审核中"):][:120]
    assert '<div class="display-6 text-primary">1</div>' in tile
    client.force_login(supervisor)
    assert "零星报销 · 审核审批" in client.get(reverse("home")).content.decode()


def test_list_filters(client, policy, hospital, clerk):
    make_claims(4, clerk, hospital)
    client.force_login(clerk)
    page = client.get(reverse("reimbursement:claim_list"), {"status": "incomplete"}).content.decode()
    assert page.count("材料不全（已一次性告知）</span>") == 2
    page = client.get(reverse("reimbursement:claim_list"), {"q": "Q0003"}).content.decode()
    assert "共 1 条" in page


# --- Intake through the page ---------------------------------------------------------------------


def intake_data(hospital, **extra):
    data = {
        "id_number": "320106199001011238",
        "name": "新参保",
        "insurance_type": "310",
        "care_type": "inpatient",
        "institution": str(hospital.pk),
        "designated": "on",
        "admission_date": (RECENT - timedelta(days=5)).isoformat(),
        "discharge_date": RECENT.isoformat(),
        "situation": "emergency_unfiled",
        "rescue": "on",
        "invoice_numbers": "ZZ001 ZZ002",
        "total_amount": "5000.00",
        "in_scope_amount": "4000.00",
        "class_b_self_pay": "0",
        "over_limit_self_pay": "0",
        "self_funded_amount": "1000.00",
        "payee_name": "新参保",
        "bank_name": "中国银行",
        "bank_account": "6217 0000 1111 2222 333",
    }
    data.update(extra)
    return data


def test_intake_page_registers_person_and_claim_and_prints_the_notice(client, policy, hospital, clerk):
    client.force_login(clerk)
    data = intake_data(hospital)
    data["material"] = ["id_proof:1", "invoice"]
    response = client.post(reverse("reimbursement:intake"), data)
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reimbursement:claim_detail", args=[claim.pk])
    assert claim.person.name == "新参保" and claim.person.insured_region_id == "320100"
    assert claim.status == Claim.Status.INCOMPLETE
    assert claim.invoice_list == ["ZZ001", "ZZ002"]
    assert claim.bank_account == "6217000011112222333"
    assert claim.notices.get().items == ["住院费用清单", "诊断证明（或出院小结）", "门诊抢救病历", "出院小结"]
    page = client.get(response["Location"]).content.decode()
    assert "6217 **** **** 2333" in page and "6217000011112222333" not in page


def test_ineligible_intake_shows_the_reason_and_writes_nothing(client, policy, hospital, clerk):
    client.force_login(clerk)
    response = client.post(reverse("reimbursement:intake"), intake_data(hospital, situation="filed_not_settled", rescue="", settlement_failure="not_networked"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "不符合零星报销条件" in page and "没有有效的异地就医备案" in page
    assert not Claim.objects.exists()
    assert not InsuredPerson.objects.with_id_number("320106199001011238").exists()


def test_intake_form_errors_are_shown(client, policy, hospital, clerk):
    client.force_login(clerk)
    response = client.post(reverse("reimbursement:intake"), intake_data(hospital, id_number="320106199001011237"))
    assert "校验码错误" in response.content.decode()
    assert not Claim.objects.exists()


def test_live_checklist_panel_follows_care_type_extras_and_ticks(client, policy, clerk, person, hospital, long_term_filing):
    client.force_login(clerk)
    url = reverse("reimbursement:intake_panel")
    page = client.post(url, {"care_type": "outpatient"}, HTTP_HX_REQUEST="true").content.decode()
    assert "门诊费用清单" in page and "缺 4 项" in page
    page = client.post(url, {"care_type": "outpatient", "accidental_injury": "on", "material": ["invoice", "id_proof:0"]},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "外伤无第三方责任承诺书（附件7）" in page and "缺 3 项" in page
    page = client.post(url, {"care_type": "inpatient", "id_number": person.id_number, "institution": hospital.pk,
                             "admission_date": "2026-03-02", "discharge_date": "2026-03-10",
                             "situation": "filed_not_settled", "settlement_failure": "not_networked",
                             "total_amount": "100", "in_scope_amount": "60", "self_funded_amount": "30",
                             "class_b_self_pay": "0", "over_limit_self_pay": "0"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "已备案" in page and "符合零星报销条件" in page
    assert "费用构成不平衡" in page


def test_receive_materials_page_accepts_the_claim(client, policy, person, hospital, long_term_filing, clerk):
    claim = services.claim_create(by=clerk, person=person, details=details(hospital), ticked={"invoice", "id_proof:0",
                                                                                                "diagnosis_or_summary:1"})
    client.force_login(clerk)
    response = client.post(reverse("reimbursement:claim_materials", args=[claim.pk]), {"material": "inpatient_fee_list"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED and claim.complete_on == timezone.localdate()


def test_trial_page_shows_the_steps_without_saving(client, policy, clerk):
    client.force_login(clerk)
    data = {"region": "320100", "insurance_type": "310", "care_type": "inpatient", "treatment_region": "110000",
            "hospital_level": "3", "designated": "on", "adjustment_situation": "referral",
            "admission_date": "2026-03-02", "discharge_date": "2026-03-10", "total_amount": "12000.00",
            "in_scope_amount": "10000.00", "class_b_self_pay": "0", "over_limit_self_pay": "0",
            "self_funded_amount": "2000.00", "deductible_used_before": "600.00", "fund_used_before": "0"}
    page = client.post(reverse("reimbursement:trial"), data, HTTP_HX_REQUEST="true").content.decode()
    assert "8,160.00" not in page  # referral: 10 points off → (10000 − 400) × 75 %
    assert "7,200.00" in page
    assert "降低 10 个百分点" in page and "已累计 600.00" in page
    assert not Claim.objects.exists()


def test_policy_pages(client, policy, clerk):
    client.force_login(clerk)
    page = client.get(reverse("reimbursement:policy_detail", args=[policy.pk])).content.decode()
    assert "起付标准" in page and "1,000.00" in page and "85%" in page


# --- Export -------------------------------------------------------------------------------------------


def test_xlsx_export_neutralises_formula_injection(client, policy, hospital, clerk):
    from openpyxl import load_workbook

    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    person = InsuredPersonFactory(insured_region=region("320100"), name='=HYPERLINK("http://evil","x")')
    FilingFactory(insured_person=person, person_type=PersonType.RETIRED_RESETTLED, destination=region("110000"),
                  start_date=RECENT - timedelta(days=60), applied_on=RECENT - timedelta(days=60))
    services.claim_create(by=clerk, person=person,
                          details=details(hospital, payee_name="+SUM(1,2)", bank_name="@cmd|' /C calc'!A0",
                                          invoice_numbers="-2+3"),
                          ticked=ALL_INPATIENT_TICKS)
    client.force_login(clerk)
    response = client.get(reverse("reimbursement:claim_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert row["参保人"].value == '\'=HYPERLINK("http://evil","x")'
    assert row["收款人"].value == "'+SUM(1,2)"
    assert row["票据号码"].value == "'-2+3"
    assert row["总费用"].data_type == "n" and row["总费用"].value == 12000
    assert row["公民身份号码（脱敏）"].value == person.masked_id_number
    assert "*" in row["银行账号（脱敏）"].value


def test_finance_creates_a_payment_notice_and_records_payment_from_the_pages(client, submitted_claim, supervisor, finance,
                                                                             django_capture_on_commit_callbacks):
    services.claim_approve(claim=submitted_claim, by=supervisor)
    client.force_login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reimbursement:payments"), {"claim": [submitted_claim.pk]})
    batch = PaymentBatch.objects.get()
    assert response["Location"] == reverse("reimbursement:batch_detail", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "下载打印" in page and "柒仟陆佰伍拾元整" in page
    client.post(reverse("reimbursement:batch_pay", args=[batch.pk]), {"paid_on": date.today().isoformat(), "reference": "X1"})
    assert Claim.objects.get().status == Claim.Status.PAID


def test_edit_page_never_shows_the_full_account_and_keeps_it_when_left_empty(client, claim, clerk):
    client.force_login(clerk)
    url = reverse("reimbursement:claim_edit", args=[claim.pk])
    page = client.get(url).content.decode()
    assert "6222021234567891234" not in page and "6222 **** **** 1234" in page
    from reimbursement.forms import ClaimDetailsForm

    data = {key: value for key, value in ClaimDetailsForm.initial_from_claim(claim).items() if value not in (None, False)}
    data.update({"care_type": "inpatient", "designated": "on", "total_amount": "12000.00", "bank_account": "",
                 "admission_date": claim.admission_date.isoformat(), "discharge_date": claim.discharge_date.isoformat(),
                 "payee_name": "张三（本人）"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    claim.refresh_from_db()
    assert claim.bank_account == "6222021234567891234" and claim.payee_name == "张三（本人）"


def test_live_panel_does_not_reveal_another_regions_person(client, clerk_wuxi, person):
    client.force_login(clerk_wuxi)
    page = client.post(reverse("reimbursement:intake_panel"), {"care_type": "inpatient", "id_number": person.id_number},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "本统筹区没有该身份证号的参保人员" in page
    assert person.name not in page and "职工" not in page and "南京" not in page


def test_intake_submit_does_not_reveal_another_regions_persons_name(client, clerk_wuxi, person):
    client.force_login(clerk_wuxi)
    page = client.post(reverse("reimbursement:intake"), {"id_number": person.id_number, "name": "别人",
                                                         "care_type": "inpatient"}).content.decode()
    assert "本统筹区没有该身份证号的参保人员" in page and person.name not in page


def _published(region_code: str, name: str):
    from reimbursement.models import PublishedMaterial

    return PublishedMaterial.objects.create(region_id=region_code, name=name, published_on=date(2020, 1, 1),
                                            filed_with_province_on=date(2020, 1, 5))


def test_intake_checklist_is_the_insured_regions_not_the_staff_members(client, make_staff, person):
    """第二十七条: the extra materials are those the insured region published; province-level staff
    taking a Nanjing person's claim see Nanjing's list, not the province's or another city's."""
    _published("320100", "南京公示的材料")
    _published("320200", "无锡公示的材料")
    client.force_login(make_staff("clerk_js", Role.CLERK, "320000"))
    page = client.post(reverse("reimbursement:intake_panel"), {"care_type": "inpatient", "id_number": person.id_number},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "南京公示的材料" in page and "无锡公示的材料" not in page


def test_intake_checklist_of_a_new_person_is_the_clerks_region(client, clerk_wuxi):
    _published("320100", "南京公示的材料")
    _published("320200", "无锡公示的材料")
    client.force_login(clerk_wuxi)
    page = client.post(reverse("reimbursement:intake_panel"), {"care_type": "inpatient", "id_number": "11010519491231002X"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "无锡公示的材料" in page and "南京公示的材料" not in page


def test_trial_page_opens_with_a_claims_values(client, claim, clerk, clerk_wuxi):
    client.force_login(clerk)
    page = client.get(reverse("reimbursement:trial"), {"claim": claim.pk}).content.decode()
    assert 'value="12000.00"' in page and 'value="10000.00"' in page
    client.force_login(clerk_wuxi)
    assert client.get(reverse("reimbursement:trial"), {"claim": claim.pk}).status_code == 404


# --- Review findings ------------------------------------------------------------------------------


def test_settlement_button_only_for_approved_claims(client, submitted_claim, supervisor, make_staff):
    url = reverse("reimbursement:claim_detail", args=[submitted_claim.pk])
    print_url = reverse("reimbursement:claim_print", args=[submitted_claim.pk, "settlement"])
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert print_url not in page and "审批通过后可生成" in page
    services.claim_reject(claim=submitted_claim, by=supervisor, reason="票据为复印件")
    page = client.get(url).content.decode()
    assert print_url not in page and "不予报销，不出具结算单" in page
    assert "审核时计算 7,650.00，未支付" in page
    response = client.post(print_url, follow=True)
    assert "只在审批通过后打印" in response.content.decode()


def test_settlement_button_shown_once_approved(client, submitted_claim, supervisor):
    services.claim_approve(claim=submitted_claim, by=supervisor)
    client.force_login(supervisor)
    page = client.get(reverse("reimbursement:claim_detail", args=[submitted_claim.pk])).content.decode()
    assert reverse("reimbursement:claim_print", args=[submitted_claim.pk, "settlement"]) in page


def test_special_button_hidden_once_the_deadline_passed(client, claim, supervisor):
    client.force_login(supervisor)
    url = reverse("reimbursement:claim_detail", args=[claim.pk])
    assert "认定特殊情况" in client.get(url).content.decode()
    Claim.objects.filter(pk=claim.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert "认定特殊情况" not in client.get(url).content.decode()
    response = client.post(reverse("reimbursement:claim_special", args=[claim.pk]), {"reason": "需协查"}, follow=True)
    assert "办理期限已过，不能再认定为特殊情况" in response.content.decode()
    assert not Claim.objects.get(pk=claim.pk).special


def test_zero_fund_payment_approval_explains_there_is_nothing_to_pay(client, policy, person, hospital, long_term_filing,
                                                                     clerk, supervisor, finance):
    claim = services.claim_create(by=clerk, person=person, ticked=ALL_INPATIENT_TICKS, details=details(
        hospital, total_amount=D("600.00"), in_scope_amount=D("600.00"), class_b_self_pay=D("0"),
        over_limit_self_pay=D("0"), self_funded_amount=D("0")))
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    client.force_login(supervisor)
    page = client.get(reverse("reimbursement:claim_detail", args=[claim.pk])).content.decode()
    assert "基金支付为零：审批通过后申请直接办结，无需财务付款" in page
    response = client.post(reverse("reimbursement:claim_approve", args=[claim.pk]), {"expected_fund_payment": "0.00"},
                           follow=True)
    page = response.content.decode()
    assert "基金支付为零，无需付款：申请已办结，不列入付款通知" in page
    assert 'id="nothing-to-pay"' in page
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PAID
    client.force_login(finance)
    assert claim.number not in client.get(reverse("reimbursement:payments")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"institution": "abc"},
        {"other_case": "abc", "situation": "other_allowed"},
        {"total_amount": "NaN"},
        {"total_amount": "Infinity", "in_scope_amount": "-Infinity"},
        {"institution": "abc", "other_case": "abc", "total_amount": "NaN", "treatment_region": "abc",
         "admission_date": "2026-13-40"},
    ],
)
def test_live_panel_survives_crafted_input(client, policy, clerk, person, hospital, long_term_filing, data):
    client.force_login(clerk)
    base = {"care_type": "inpatient", "id_number": person.id_number, "institution": hospital.pk,
            "admission_date": "2026-03-02", "discharge_date": "2026-03-10", "situation": "filed_not_settled",
            "settlement_failure": "not_networked"}
    base.update(data)
    response = client.post(reverse("reimbursement:intake_panel"), base, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "材料清单" in response.content.decode()


def test_print_with_a_crafted_notice_id_is_refused_politely(client, claim, clerk):
    client.force_login(clerk)
    for value in ("abc", "99999999999999999999999", "-1"):
        response = client.post(reverse("reimbursement:claim_print", args=[claim.pk, "receipt"]), {"notice": value})
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "没有可打印的受理回执" in page, value


def test_approve_with_a_crafted_expected_amount_is_refused_politely(client, submitted_claim, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("reimbursement:claim_approve", args=[submitted_claim.pk]),
                           {"expected_fund_payment": "NaN"}, follow=True)
    assert response.status_code == 200
    assert Claim.objects.get().status == Claim.Status.SUBMITTED
    assert "页面显示的金额无效" in response.content.decode()


def test_oversized_amount_gets_a_clear_chinese_message(client, policy, hospital, clerk):
    client.force_login(clerk)
    response = client.post(reverse("reimbursement:intake"), intake_data(hospital, total_amount="12345678901234.00"))
    page = response.content.decode()
    assert "金额过大：单笔零星报销不能超过 9,999,999.99 元" in page
    assert "确认总共不超过" not in page and "确认小数点前不超过" not in page
    assert not Claim.objects.exists()


def test_institution_dropdown_does_not_double_the_non_designated_mark(db):
    from core.tests.factories import InstitutionFactory
    from reimbursement.forms import ClaimDetailsForm

    named = InstitutionFactory(code="X1", name="某民营医院（非定点）", region=region("110000"), designated=False)
    plain = InstitutionFactory(code="X2", name="某诊所", region=region("110000"), designated=False)
    field = ClaimDetailsForm().fields["institution"]
    assert field.label_from_instance(named) == "北京 · 某民营医院（非定点）"
    assert field.label_from_instance(plain) == "北京 · 某诊所（非定点）"


def test_xlsx_export_writes_dates_as_dates(client, claim, clerk):
    from openpyxl import load_workbook

    client.force_login(clerk)
    sheet = load_workbook(io.BytesIO(client.get(reverse("reimbursement:claim_export")).content)).active
    header = [cell.value for cell in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    for column, expected in (("入院（就诊）日期", claim.admission_date), ("出院（就诊）日期", claim.discharge_date),
                             ("申请日期", claim.received_on), ("收齐材料日期", claim.complete_on),
                             ("办理期限", claim.due_on)):
        cell = row[column]
        assert cell.is_date, column
        assert cell.value.date() == expected, column
        assert "yy" in cell.number_format.lower()
    assert row["办结日期"].value in (None, "")


def test_batch_page_has_a_total_row(client, submitted_claim, supervisor, finance):
    services.claim_approve(claim=submitted_claim, by=supervisor)
    batch = services.payment_batch_create(claims=[submitted_claim], by=finance)
    client.force_login(finance)
    page = client.get(reverse("reimbursement:batch_detail", args=[batch.pk])).content.decode()
    assert 'id="batch-total"' in page
    total = page[page.index('id="batch-total"'):][:400]
    assert "合计（1 笔）" in total and "7,650.00" in total


def test_live_checklist_counts_one_discharge_summary_for_both_items(client, policy, clerk):
    client.force_login(clerk)
    page = client.post(reverse("reimbursement:intake_panel"),
                       {"care_type": "inpatient", "rescue": "on",
                        "material": ["id_proof:0", "invoice", "inpatient_fee_list", "rescue_record", "diagnosis_or_summary:1"]},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "材料齐全" in page
    block = page[page.index('data-material="discharge_summary"'):][:600]
    assert "已随" in block and "出院小结" in block


def test_edit_page_says_clearly_when_a_correction_needs_new_materials(client, claim, clerk):
    from reimbursement.forms import ClaimDetailsForm

    client.force_login(clerk)
    url = reverse("reimbursement:claim_edit", args=[claim.pk])
    data = {key: value for key, value in ClaimDetailsForm.initial_from_claim(claim).items() if value not in (None, False)}
    data.update({"care_type": "inpatient", "designated": "on", "bank_account": "", "drugs_bought_outside": "on",
                 "admission_date": claim.admission_date.isoformat(), "discharge_date": claim.discharge_date.isoformat()})
    page = client.post(url, data, follow=True).content.decode()
    assert "修改后需补充材料：外购发票；住院医嘱单（或外购药处方原件复印件）" in page
    assert "申请转为“材料不全”" in page and "补齐材料之日起重新计算" in page
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.INCOMPLETE


def test_payments_page_lists_the_approved_claims_a_page_at_a_time_with_the_totals_of_all(
        client, submitted_claim, supervisor, finance, monkeypatch, django_capture_on_commit_callbacks):
    from core.volume import copy_row
    from reimbursement import payment_views

    approved = services.claim_approve(claim=submitted_claim, by=supervisor)
    second = copy_row(approved, number=approved.number[:-1] + "9", decided_at=approved.decided_at + timedelta(minutes=1))
    second.save()
    monkeypatch.setattr(payment_views, "PAYMENTS_PER_PAGE", 1)
    client.force_login(finance)
    first_page = client.get(reverse("reimbursement:payments")).content.decode()
    total = approved.fund_payment * 2
    assert "已审批待付款（2 笔" in first_page and f"{total:,.2f}" in first_page
    assert approved.number in first_page and second.number not in first_page
    assert 'id="approved-pages"' in first_page
    second_page = client.get(reverse("reimbursement:payments") + "?claims_page=2").content.decode()
    assert second.number in second_page and approved.number not in second_page
    with django_capture_on_commit_callbacks(execute=True):  # a claim of another page can still be chosen
        client.post(reverse("reimbursement:payments"), {"claim": [second.pk]})
    assert list(PaymentBatch.objects.get().claims.values_list("pk", flat=True)) == [second.pk]
