"""Claim services: intake, materials, calculation, approval, payment — and every refusal leaves nothing behind."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.errors import DomainError
from core.models import AuditLog, Document, InsuredPerson, Job, Role
from core.tests.factories import InstitutionFactory, InsuredPersonFactory, region
from reimbursement import services
from reimbursement.models import BenefitUsage, Claim, ClaimMaterial, ClaimNotice, PaymentBatch
from reimbursement.tests.factories import (
    ALL_INPATIENT_TICKS,
    inpatient_details,
    make_policy,
    outpatient_details,
)

D = Decimal
TODAY = date(2026, 3, 16)  # a Monday

pytestmark = pytest.mark.django_db


def nothing_written():
    assert Claim.objects.count() == 0
    assert ClaimMaterial.objects.count() == 0
    assert ClaimNotice.objects.count() == 0
    assert Job.objects.count() == 0
    assert not AuditLog.objects.filter(content_type__model="claim").exists()


def create(clerk, person, details, ticks=ALL_INPATIENT_TICKS, today=TODAY):
    return services.claim_create(by=clerk, person=person, details=details, ticked=set(ticks), today=today)


@pytest.fixture
def ready(policy, person, hospital, long_term_filing):
    return person, hospital


# --- Intake --------------------------------------------------------------------------------


def test_complete_materials_accept_at_once_and_start_the_clock(ready, clerk, run_jobs):
    person, hospital = ready
    with run_jobs():
        claim = create(clerk, person, inpatient_details(hospital))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED
    assert claim.complete_on == TODAY
    assert claim.due_on == date(2026, 3, 30)  # 10 working days, the start day not counted
    assert claim.processing_days == 10
    assert claim.filing == long_term_filing_of(person)
    assert claim.filing_status == "filed"
    assert claim.scope == "cross_province" and claim.adjustment_situation == "long_term"
    receipt = claim.notices.get()
    assert receipt.kind == ClaimNotice.Kind.RECEIPT and receipt.due_on == date(2026, 3, 30)
    assert receipt.document is not None and receipt.document.region_id == "320100"


def long_term_filing_of(person):
    from filings.models import Filing

    return Filing.objects.get(insured_person=person)


def test_missing_material_gives_one_notice_listing_everything_missing(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital), ticks={"invoice"})
    assert claim.status == Claim.Status.INCOMPLETE
    assert claim.complete_on is None and claim.due_on is None
    notice = claim.notices.get()
    assert notice.kind == ClaimNotice.Kind.MISSING_MATERIALS
    assert notice.items == [
        "有效身份证明材料（医保电子凭证、有效身份证件或社会保障卡）",
        "住院费用清单",
        "诊断证明（或出院小结）",
    ]
    assert Job.objects.filter(kind="reimbursement.claim_document", params__notice_id=notice.pk).exists()


def test_the_last_material_accepts_the_claim_and_the_clock_starts_that_day(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital), ticks=ALL_INPATIENT_TICKS - {"inpatient_fee_list"})
    claim = services.claim_materials_receive(claim=claim, by=clerk, ticked={"inpatient_fee_list"}, today=date(2026, 3, 20))
    assert claim.status == Claim.Status.ACCEPTED
    assert claim.complete_on == date(2026, 3, 20)
    assert claim.due_on == date(2026, 4, 3)  # Fri 20 + 10 working days
    assert claim.materials.get(code="inpatient_fee_list").received_on == date(2026, 3, 20)
    assert claim.materials.get(code="invoice").received_on == TODAY
    assert [n.kind for n in claim.notices.all()] == ["missing_materials", "receipt"]


def test_partial_delivery_issues_a_new_notice_with_what_is_still_missing(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital), ticks={"invoice"})
    claim = services.claim_materials_receive(claim=claim, by=clerk, ticked={"id_proof:0"}, today=date(2026, 3, 17))
    assert claim.status == Claim.Status.INCOMPLETE
    latest = claim.notices.order_by("-pk").first()
    assert latest.items == ["住院费用清单", "诊断证明（或出院小结）"]


def test_receiving_nothing_new_is_refused_and_writes_nothing(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital), ticks={"invoice"})
    notices = ClaimNotice.objects.count()
    with pytest.raises(DomainError, match="没有勾选新收到的材料"):
        services.claim_materials_receive(claim=claim, by=clerk, ticked=set(), today=date(2026, 3, 17))
    assert ClaimNotice.objects.count() == notices


def test_outpatient_claim_of_exactly_1000_gets_five_working_days(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "outpatient_fee_list", "prescription_or_record:1"}
    claim = create(clerk, person, outpatient_details(hospital, D("1000.00")), ticks=ticks, today=date(2026, 3, 2))
    assert claim.processing_days == 5 and claim.due_on == date(2026, 3, 9)


def test_region_published_material_joins_the_checklist_only_once_filed_with_the_province(ready, clerk):
    from reimbursement.models import PublishedMaterial

    person, hospital = ready
    PublishedMaterial.objects.create(region=region("320100"), name="本人银行卡复印件", published_on=date(2026, 1, 1),
                                     filed_with_province_on=date(2026, 1, 5))
    PublishedMaterial.objects.create(region=region("320100"), name="未备案的材料", published_on=date(2026, 1, 1))
    PublishedMaterial.objects.create(region=region("320200"), name="无锡的材料", published_on=date(2026, 1, 1),
                                     filed_with_province_on=date(2026, 1, 5))
    claim = create(clerk, person, inpatient_details(hospital))
    assert claim.status == Claim.Status.INCOMPLETE
    assert claim.notices.get().items == ["本人银行卡复印件"]


# --- Refusals: the message, and nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total_amount": D("12000.01")}, "费用构成不平衡：总费用 12,000.01 元应等于.*12,000.00 元（相差 0.01 元）"),
        ({"self_funded_amount": D("-1000.00"), "total_amount": D("10000.00")}, "自费费用不能为负数"),
        ({"in_scope_amount": D("10000.001")}, "统筹基金支付范围内费用最多保留两位小数"),
        ({"discharge_date": date(2026, 3, 17)}, "晚于今天"),
        ({"discharge_date": date(2026, 3, 1)}, "出院日期 2026-03-01 早于入院日期 2026-03-02"),
        ({"bank_account": "6222-ABC"}, "银行账号应为12–30位数字"),
        ({"invoice_numbers": " ，  "}, "请填写医疗收费票据号码"),
        ({"settlement_failure": ""}, "请选择未能直接结算的原因"),
        ({"patient_deceased": True}, "请同时勾选“抢救”"),
    ],
)
def test_bad_details_are_refused_with_nothing_written(ready, clerk, changes, message):
    person, hospital = ready
    with pytest.raises(DomainError, match=message):
        create(clerk, person, inpatient_details(hospital, **changes))
    nothing_written()


def test_all_problems_are_reported_at_once(ready, clerk):
    person, hospital = ready
    with pytest.raises(DomainError) as info:
        create(clerk, person, inpatient_details(hospital, total_amount=D("1"), bank_account="12", payee_name=""))
    lines = info.value.message.splitlines()
    assert len(lines) == 3
    assert "费用构成不平衡" in lines[0] and "收款人" in lines[1] and "银行账号" in lines[2]
    nothing_written()


def test_invoice_already_claimed_is_refused(ready, clerk):
    person, hospital = ready
    first = create(clerk, person, inpatient_details(hospital, invoice_numbers="PJ001, PJ002"))
    with pytest.raises(DomainError, match=f"票据号码 PJ002 已在报销申请 {first.number}"):
        create(clerk, person, inpatient_details(hospital, invoice_numbers="pj002"))
    assert Claim.objects.count() == 1


def test_invoice_of_a_cancelled_claim_may_be_used_again(ready, clerk):
    person, hospital = ready
    first = create(clerk, person, inpatient_details(hospital, invoice_numbers="PJ001"))
    services.claim_cancel(claim=first, by=clerk, reason="申请人撤回", today=TODAY)
    assert create(clerk, person, inpatient_details(hospital, invoice_numbers="PJ001")).status == Claim.Status.ACCEPTED


def test_claim_without_a_filing_as_filed_not_settled_is_refused_with_the_reason(policy, person, hospital, clerk):
    with pytest.raises(DomainError, match="(?s)不符合零星报销条件.*没有有效的异地就医备案（未备案"):
        create(clerk, person, inpatient_details(hospital))
    nothing_written()


def test_non_designated_institution_is_refused_unless_emergency(ready, clerk):
    person, _ = ready
    clinic = InstitutionFactory(code="X110009", name="北京某私立诊所", region=region("110000"), designated=False, level="0")
    with pytest.raises(DomainError, match="不是定点医疗机构.*第十九条"):
        create(clerk, person, inpatient_details(clinic))
    nothing_written()
    details = inpatient_details(clinic, care_type="emergency", situation="emergency_unfiled", admission_date=date(2026, 3, 10),
                                discharge_date=date(2026, 3, 10), settlement_failure="")
    ticks = {"id_proof:0", "invoice", "emergency_fee_list", "emergency_diagnosis_or_record:0"}
    claim = create(clerk, person, details, ticks=ticks)
    assert claim.status == Claim.Status.ACCEPTED and not claim.designated


def test_treatment_in_the_insured_city_is_not_out_of_area(ready, clerk):
    person, _ = ready
    local = InstitutionFactory(code="H3201X", name="南京某医院", region=region("320100"))
    with pytest.raises(DomainError, match="不属于异地就医"):
        create(clerk, person, inpatient_details(local, situation="emergency_unfiled", care_type="emergency",
                                                discharge_date=date(2026, 3, 2)))
    nothing_written()


def test_clerk_of_another_region_cannot_take_the_claim_and_no_person_is_changed(ready, clerk_wuxi):
    person, hospital = ready
    with pytest.raises(DomainError, match="本统筹区没有该身份证号的参保人员"):
        create(clerk_wuxi, person, inpatient_details(hospital))
    nothing_written()


def test_student_situation_needs_a_resident_in_vacation(policy, clerk, hospital):
    employee = InsuredPersonFactory(insured_region=region("320100"), insurance_type="310")
    details = inpatient_details(hospital, situation="student_vacation", settlement_failure="",
                                admission_date=date(2026, 1, 20), discharge_date=date(2026, 1, 25))
    with pytest.raises(DomainError, match="城乡居民"):
        create(clerk, employee, details)
    nothing_written()


def test_retroactive_situation_needs_a_filing_made_after_a_self_paid_discharge(ready, clerk):
    person, hospital = ready
    with pytest.raises(DomainError, match="没有查到出院后补办的异地就医备案"):
        create(clerk, person, inpatient_details(hospital, situation="retroactive"))
    nothing_written()


def test_retroactive_filing_opens_manual_reimbursement(policy, person, hospital, clerk):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    FilingFactory(insured_person=person, person_type=PersonType.OTHER_TEMPORARY, destination=region("110000"),
                  start_date=date(2026, 3, 2), applied_on=date(2026, 3, 12), end_date=date(2026, 9, 1),
                  retroactive=True, manual_reimbursement_eligible=True, settlement_state="self_paid")
    claim = create(clerk, person, inpatient_details(hospital, situation="retroactive"))
    assert claim.filing_status == "late_filed"
    assert claim.adjustment_situation == "other_temporary"


# --- The identities in the database ----------------------------------------------------------


def test_database_enforces_both_fee_identities(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(self_funded_amount=D("999.99"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(fund_payment=D("7650.00"), personal_payment=D("4349.99"))
    Claim.objects.filter(pk=claim.pk).update(fund_payment=D("7650.00"), personal_payment=D("4350.00"))


# --- Calculation, review, approval ----------------------------------------------------------------


def submitted(clerk, person, hospital, **changes):
    claim = create(clerk, person, inpatient_details(hospital, **changes))
    services.claim_calculate(claim=claim, by=clerk)
    return services.claim_submit(claim=claim, by=clerk)


def test_calculation_is_stored_with_its_steps(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    claim = services.claim_calculate(claim=claim, by=clerk)
    assert claim.fund_payment == D("7650.00")
    assert claim.personal_payment == D("4350.00")
    assert claim.deductible_applied == D("1000.00")
    assert claim.policy.region_id == "320100"
    assert [step["title"] for step in claim.calculation["steps"]][:3] == ["费用构成", "适用政策", "起付标准"]
    assert BenefitUsage.objects.get(claim=claim).year == 2026


def test_earlier_approved_claim_uses_up_part_of_the_deductible(ready, clerk, supervisor):
    person, hospital = ready
    first = submitted(clerk, person, hospital, invoice_numbers="A1", total_amount=D("600.00"), in_scope_amount=D("600.00"),
                      class_b_self_pay=D("0"), over_limit_self_pay=D("0"), self_funded_amount=D("0"))
    services.claim_approve(claim=first, by=supervisor)
    second = create(clerk, person, inpatient_details(hospital, invoice_numbers="A2"))
    second = services.claim_calculate(claim=second, by=clerk)
    assert second.deductible_applied == D("400.00")
    assert second.fund_payment == D("8160.00")  # (10000 - 400) × 85 %
    assert "已累计 600.00" in second.calculation["steps"][2]["detail"]


def test_submit_without_calculation_is_refused(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    with pytest.raises(DomainError, match="请先计算待遇"):
        services.claim_submit(claim=claim, by=clerk)
    assert Claim.objects.get().status == Claim.Status.ACCEPTED


def test_supervisor_approves(ready, clerk, supervisor):
    person, hospital = ready
    claim = services.claim_approve(claim=submitted(clerk, person, hospital), by=supervisor)
    assert claim.status == Claim.Status.APPROVED and claim.decided_by == supervisor
    assert Job.objects.filter(params__form="settlement").exists()  # 附件9 for an inpatient claim


def test_intake_clerk_can_never_approve_their_own_claim(ready, make_staff):
    person, hospital = ready
    both = make_staff("clerk_and_supervisor", Role.CLERK)
    both.groups.add(__import__("core.roles", fromlist=["group_for"]).group_for(Role.SUPERVISOR))
    claim = submitted(both, person, hospital)
    before = AuditLog.objects.count()
    with pytest.raises(DomainError, match="您是申请 .* 的受理人.*不能审批自己受理的申请"):
        services.claim_approve(claim=claim, by=both)
    with pytest.raises(DomainError, match="不能审批自己受理的申请"):
        services.claim_reject(claim=claim, by=both, reason="测试")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and claim.decided_by is None
    assert AuditLog.objects.count() == before


def test_reject_needs_a_reason_and_closes_the_claim(ready, clerk, supervisor):
    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    with pytest.raises(DomainError, match="请填写不予报销的理由"):
        services.claim_reject(claim=claim, by=supervisor, reason="  ")
    assert Claim.objects.get().status == Claim.Status.SUBMITTED
    claim = services.claim_reject(claim=claim, by=supervisor, reason="票据为复印件", today=date(2026, 3, 18))
    assert claim.status == Claim.Status.REJECTED and claim.finished_on == date(2026, 3, 18)
    assert claim.rejection_reason == "票据为复印件"
    assert not BenefitUsage.objects.filter(claim=claim).exists()


def test_return_to_clerk_then_resubmit_and_approve(ready, clerk, supervisor):
    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    with pytest.raises(DomainError, match="请填写退回原因"):
        services.claim_return(claim=claim, by=supervisor, reason="")
    claim = services.claim_return(claim=claim, by=supervisor, reason="诊断证明与票据姓名不一致")
    assert claim.status == Claim.Status.ACCEPTED and claim.return_count == 1
    with pytest.raises(DomainError, match="已被退回经办人修改"):
        services.claim_approve(claim=claim, by=supervisor)
    services.claim_submit(claim=claim, by=clerk)
    assert services.claim_approve(claim=claim, by=supervisor).status == Claim.Status.APPROVED


def test_second_decision_is_refused_with_who_decided(ready, clerk, supervisor, make_staff):
    person, hospital = ready
    other = make_staff("supervisor_2", Role.SUPERVISOR)
    claim = submitted(clerk, person, hospital)
    services.claim_approve(claim=claim, by=supervisor)
    with pytest.raises(DomainError, match=f"已由{supervisor.get_full_name()}于 .* 处理（已审批（待付款））"):
        services.claim_reject(claim=claim, by=other, reason="重复")
    assert Claim.objects.get().status == Claim.Status.APPROVED


def test_approval_is_refused_when_the_calculation_went_stale(ready, clerk, supervisor):
    person, hospital = ready
    first = submitted(clerk, person, hospital, invoice_numbers="B1")
    second = submitted(clerk, person, hospital, invoice_numbers="B2")
    services.claim_approve(claim=first, by=supervisor)
    with pytest.raises(DomainError, match="基金支付由 7,650.00 元变为 8,500.00 元.*重新计算"):
        services.claim_approve(claim=second, by=supervisor)
    services.claim_calculate(claim=second, by=supervisor)
    assert services.claim_approve(claim=second, by=supervisor).fund_payment == D("8500.00")


def test_special_case_extends_the_limit_to_twenty_working_days(ready, clerk, supervisor):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    with pytest.raises(DomainError, match="请填写特殊情况的说明"):
        services.claim_mark_special(claim=claim, by=supervisor, reason="", today=TODAY)
    claim = services.claim_mark_special(claim=claim, by=supervisor, reason="需发起费用协查", today=TODAY)
    assert claim.special and claim.processing_days == 20
    assert claim.due_on == date(2026, 4, 14)  # 20 working days from Mon 16 March (Qingming 04-06 is a holiday)


def test_delay_notice_must_be_after_the_deadline_and_within_twenty_days(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    with pytest.raises(DomainError, match="应晚于办理期限 2026-03-30"):
        services.claim_record_delay_notice(claim=claim, by=clerk, reason="协查", expected_on=date(2026, 3, 30), method="phone",
                                           today=date(2026, 3, 27))
    with pytest.raises(DomainError, match="不能晚于 2026-04-14"):
        services.claim_record_delay_notice(claim=claim, by=clerk, reason="协查", expected_on=date(2026, 4, 15), method="phone",
                                           today=date(2026, 3, 27))
    assert not ClaimNotice.objects.filter(kind="delay").exists()
    notice = services.claim_record_delay_notice(claim=claim, by=clerk, reason="需向就医地核实", expected_on=date(2026, 4, 8),
                                                method="phone", today=date(2026, 3, 27))
    assert notice.before_deadline and notice.due_on == date(2026, 3, 30)
    late = services.claim_record_delay_notice(claim=claim, by=clerk, reason="仍在核实", expected_on=date(2026, 4, 10),
                                              method="sms", today=date(2026, 3, 31))
    assert not late.before_deadline


def test_editing_that_needs_more_materials_sends_the_claim_back_to_incomplete(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    claim = services.claim_update(claim=claim, by=clerk, details=inpatient_details(hospital, drugs_bought_outside=True),
                                  today=date(2026, 3, 17))
    assert claim.status == Claim.Status.INCOMPLETE and claim.due_on is None
    assert claim.notices.order_by("-pk").first().items == ["外购发票", "住院医嘱单（或外购药处方原件复印件）"]


def test_editing_the_amount_recomputes_the_deadline(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "outpatient_fee_list", "prescription_or_record:1"}
    claim = create(clerk, person, outpatient_details(hospital, D("1000.01")), ticks=ticks, today=date(2026, 3, 2))
    assert claim.due_on == date(2026, 3, 16)
    claim = services.claim_update(claim=claim, by=clerk, details=outpatient_details(hospital, D("1000.00")), today=date(2026, 3, 3))
    assert claim.due_on == date(2026, 3, 9)


def test_cross_year_stay_is_split_by_days_where_the_region_says_so(clerk, supervisor, hospital):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    make_policy("320100", date(2024, 1, 1), cross_year="split_by_days")
    person = InsuredPersonFactory(insured_region=region("320100"), insurance_type="310")
    FilingFactory(insured_person=person, person_type=PersonType.LONG_TERM_RESIDENT, destination=region("110000"),
                  start_date=date(2025, 1, 1), applied_on=date(2025, 1, 1))
    claim = create(clerk, person, inpatient_details(hospital, admission_date=date(2025, 12, 28), discharge_date=date(2026, 1, 5)))
    claim = services.claim_calculate(claim=claim, by=clerk)
    years = {usage.year: usage for usage in claim.usages.all()}
    assert set(years) == {2025, 2026}
    assert years[2025].deductible_applied == D("1000.00") and years[2026].deductible_applied == D("1000.00")
    assert claim.fund_payment == D("6800.00")  # (5000 - 1000) × 85 % twice


# --- Payment -----------------------------------------------------------------------------------------


def approved(clerk, supervisor, person, hospital, invoice):
    claim = submitted(clerk, person, hospital, invoice_numbers=invoice)
    return services.claim_approve(claim=claim, by=supervisor)


def test_payment_notice_batch_then_payment_closes_the_claims(ready, clerk, supervisor, finance, run_jobs):
    person, hospital = ready
    other = InsuredPersonFactory(insured_region=region("320100"), name="李四")
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    FilingFactory(insured_person=other, person_type=PersonType.RETIRED_RESETTLED, destination=region("110000"),
                  start_date=date(2025, 1, 1), applied_on=date(2025, 1, 1))
    first = approved(clerk, supervisor, person, hospital, "P1")
    second = approved(clerk, supervisor, other, hospital, "P2")
    with run_jobs():
        batch = services.payment_batch_create(claims=[first, second], by=finance)
    batch.refresh_from_db()
    assert batch.claim_count == 2 and batch.total_amount == D("15300.00")
    assert Document.objects.filter(key=batch.document_key).exists()
    assert batch.job.status == Job.Status.DONE and batch.job.progress_done == batch.job.progress_total == 3
    assert set(Claim.objects.values_list("status", flat=True)) == {Claim.Status.PAYMENT_NOTIFIED}
    services.payment_record(claims=list(batch.claims.all()), by=finance, paid_on=date.today(), reference="ZF001")
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.PAID
    assert set(Claim.objects.values_list("status", flat=True)) == {Claim.Status.PAID}
    assert Claim.objects.filter(finished_on=date.today(), payment_reference="ZF001").count() == 2


def test_payment_notice_only_for_approved_claims(ready, clerk, finance):
    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    with pytest.raises(DomainError, match="不是“已审批（待付款）”状态"):
        services.payment_batch_create(claims=[claim], by=finance)
    assert not PaymentBatch.objects.exists() and not Job.objects.filter(kind="reimbursement.payment_notice").exists()


def test_payment_date_in_the_future_or_before_the_notice_is_refused(ready, clerk, supervisor, finance):
    person, hospital = ready
    claim = approved(clerk, supervisor, person, hospital, "Q1")
    batch = services.payment_batch_create(claims=[claim], by=finance)
    from datetime import timedelta

    with pytest.raises(DomainError, match="晚于今天"):
        services.payment_record(claims=[claim], by=finance, paid_on=date.today() + timedelta(days=1))
    with pytest.raises(DomainError, match="早于付款通知"):
        services.payment_record(claims=[claim], by=finance, paid_on=date.today() - timedelta(days=3))
    assert Claim.objects.get().status == Claim.Status.PAYMENT_NOTIFIED
    assert PaymentBatch.objects.get(pk=batch.pk).status == PaymentBatch.Status.NOTIFIED


def test_payment_of_an_unnotified_claim_is_refused(ready, clerk, supervisor, finance):
    person, hospital = ready
    claim = approved(clerk, supervisor, person, hospital, "R1")
    with pytest.raises(DomainError, match="不是“已出付款通知”状态"):
        services.payment_record(claims=[claim], by=finance, paid_on=date.today())


def test_person_is_not_created_when_intake_is_refused(policy, clerk, hospital):
    """The view registers a new person and the claim in one transaction."""
    from core.services import insured_person_upsert

    number = "320106199001011238"
    with pytest.raises(DomainError, match="没有有效的异地就医备案"), transaction.atomic():
        person = insured_person_upsert(id_number=number, name="新人", insurance_type="310", insured_region=region("320100"))
        create(clerk, person, inpatient_details(hospital))
    assert not InsuredPerson.objects.with_id_number(number).exists()


# --- Review findings ------------------------------------------------------------------------------


def test_stale_page_amount_is_told_with_both_figures(ready, clerk, supervisor):
    """The page showed an amount the claim no longer has: say what the page showed and what is current."""
    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    with pytest.raises(DomainError) as info:
        services.claim_approve(claim=claim, by=supervisor, expected_fund_payment=D("7000.00"))
    assert info.value.message == "页面显示 7,000.00 元，当前计算结果为 7,650.00 元，请刷新页面核对后再审批。"
    assert "变为 7,650.00 元" not in info.value.message
    assert Claim.objects.get().status == Claim.Status.SUBMITTED


@pytest.mark.parametrize("state", ["accepted", "submitted", "rejected"])
def test_settlement_statement_is_refused_before_approval_and_after_rejection(ready, clerk, supervisor, state):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    services.claim_calculate(claim=claim, by=clerk)
    if state != "accepted":
        services.claim_submit(claim=claim, by=clerk)
    if state == "rejected":
        services.claim_reject(claim=claim, by=supervisor, reason="票据为复印件", today=date(2026, 3, 18))
    claim.refresh_from_db()
    jobs = Job.objects.count()
    with pytest.raises(DomainError, match="异地就医住院结算单（附件9）只在审批通过后打印.*当前状态为"):
        services.claim_print(claim=claim, by=supervisor, form="settlement")
    assert Job.objects.count() == jobs


def test_settlement_statement_job_refuses_a_claim_that_is_no_longer_approved(ready, clerk, supervisor):
    """A print queued earlier must not render a fund payment for a claim rejected meanwhile."""
    from reimbursement.jobs import generate_claim_document

    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    services.claim_reject(claim=claim, by=supervisor, reason="票据为复印件", today=date(2026, 3, 18))
    job = Job.objects.create(kind="reimbursement.claim_document", title="结算单", created_by=supervisor,
                             params={"claim_id": claim.pk, "form": "settlement"})
    with pytest.raises(DomainError, match="只在审批通过后打印"):
        generate_claim_document(job, lambda *args, **kwargs: None)
    assert not Document.objects.filter(kind="reimbursement_settlement").exists()


def test_marking_special_after_the_deadline_is_refused_and_keeps_the_overdue_record(ready, clerk, supervisor):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))  # due 2026-03-30
    before = AuditLog.objects.count()
    with pytest.raises(DomainError, match="办理期限已过，不能再认定为特殊情况.*2026-03-30.*第二十八条"):
        services.claim_mark_special(claim=claim, by=supervisor, reason="需协查", today=date(2026, 3, 31))
    claim.refresh_from_db()
    assert not claim.special and claim.due_on == date(2026, 3, 30) and claim.processing_days == 10
    assert AuditLog.objects.count() == before
    # on the last day it is still possible
    claim = services.claim_mark_special(claim=claim, by=supervisor, reason="需协查", today=date(2026, 3, 30))
    assert claim.special and claim.due_on == date(2026, 4, 14)


def test_zero_fund_payment_closes_the_claim_at_approval(policy, person, hospital, long_term_filing, clerk, supervisor, finance):
    """Below the deductible nothing is paid: the claim is closed at approval and never goes on a payment notice."""
    claim = submitted(clerk, person, hospital, total_amount=D("600.00"), in_scope_amount=D("600.00"),
                      class_b_self_pay=D("0"), over_limit_self_pay=D("0"), self_funded_amount=D("0"))
    assert claim.fund_payment == D("0.00")
    claim = services.claim_approve(claim=claim, by=supervisor, today=date(2026, 3, 18))
    assert claim.status == Claim.Status.PAID
    assert claim.finished_on == date(2026, 3, 18) and claim.paid_on is None and claim.payment_batch is None
    assert claim.deadline_flag == ""
    assert "基金支付为零，无需付款" in AuditLog.objects.filter(object_id=str(claim.pk)).order_by("-pk").first().message
    # its deductible still counts for later claims of the year
    assert BenefitUsage.objects.get(claim=claim).deductible_applied == D("600.00")
    from reimbursement.selectors import approved_for_payment

    assert claim not in approved_for_payment(user=finance)


def test_zero_fund_payment_claim_is_refused_on_a_payment_notice(ready, clerk, supervisor, finance):
    person, hospital = ready
    claim = submitted(clerk, person, hospital)
    services.claim_approve(claim=claim, by=supervisor)
    Claim.objects.filter(pk=claim.pk).update(fund_payment=D("0.00"), personal_payment=D("12000.00"))  # an older record
    with pytest.raises(DomainError, match="基金支付为零，无需付款"):
        services.payment_batch_create(claims=[claim], by=finance)
    assert not PaymentBatch.objects.exists()
    assert Claim.objects.get().status == Claim.Status.APPROVED


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"total_amount": D("1000000000000.00"), "self_funded_amount": D("999999989000.00")},
      "总费用金额过大：单笔零星报销不能超过 9,999,999.99 元")],
)
def test_oversized_amounts_are_refused_in_chinese(ready, clerk, changes, message):
    person, hospital = ready
    with pytest.raises(DomainError, match=message):
        create(clerk, person, inpatient_details(hospital, **changes))
    nothing_written()


def test_rescue_inpatient_claim_needs_the_discharge_summary_only_once(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "inpatient_fee_list", "diagnosis_or_summary:1", "rescue_record"}
    claim = create(clerk, person, inpatient_details(hospital, rescue=True), ticks=ticks)
    assert claim.status == Claim.Status.ACCEPTED
    summary = claim.materials.get(code="discharge_summary")
    assert summary.received and summary.received_as == "出院小结"
    # handed in later as the rescue item, it also satisfies the base item
    claim = create(clerk, person, inpatient_details(hospital, rescue=True, invoice_numbers="PJ-R2"),
                   ticks={"id_proof:1", "invoice", "inpatient_fee_list", "rescue_record"})
    assert claim.notices.get().items == ["诊断证明（或出院小结）", "出院小结"]
    claim = services.claim_materials_receive(claim=claim, by=clerk, ticked={"discharge_summary"}, today=date(2026, 3, 17))
    assert claim.status == Claim.Status.ACCEPTED
    assert claim.materials.get(code="diagnosis_or_summary").received_as == "出院小结"


def test_missing_materials_notice_never_asks_for_a_document_already_handed_in(ready, clerk):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital, rescue=True),
                   ticks={"diagnosis_or_summary:1", "invoice"})
    items = claim.notices.get().items
    assert "出院小结" not in items and "诊断证明（或出院小结）" not in items
    assert items == ["有效身份证明材料（医保电子凭证、有效身份证件或社会保障卡）", "住院费用清单", "门诊抢救病历"]


def test_correcting_the_care_type_keeps_the_completion_date_when_the_papers_still_suffice(ready, clerk):
    """A counter typo (门诊 instead of 急诊): the papers handed in are the same, the clock is not reset."""
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "outpatient_fee_list", "prescription_or_record:1"}
    claim = create(clerk, person, outpatient_details(hospital, D("800.00")), ticks=ticks, today=date(2026, 3, 2))
    assert (claim.complete_on, claim.due_on, claim.processing_days) == (date(2026, 3, 2), date(2026, 3, 9), 5)
    claim = services.claim_update(
        claim=claim, by=clerk, today=date(2026, 3, 4),
        details=outpatient_details(hospital, D("800.00"), care_type="emergency", situation="filed_not_settled"),
    )
    assert claim.status == Claim.Status.ACCEPTED
    assert claim.complete_on == date(2026, 3, 2)  # not reset
    assert claim.due_on == date(2026, 3, 16) and claim.processing_days == 10  # 急诊: 10 working days
    materials = {m.code: m for m in claim.materials.all()}
    assert materials["emergency_fee_list"].received and materials["emergency_fee_list"].received_on == date(2026, 3, 2)
    assert materials["emergency_diagnosis_or_record"].received_as == "急诊病历"
    # the deadline moved: a new 受理回执 is issued and the history says so
    receipts = list(claim.notices.filter(kind="receipt").order_by("pk"))
    assert [r.due_on for r in receipts] == [date(2026, 3, 9), date(2026, 3, 16)]
    assert receipts[-1].processing_days == 10 and receipts[-1].complete_on == date(2026, 3, 2)
    messages = list(AuditLog.objects.filter(object_id=str(claim.pk)).values_list("message", flat=True))
    assert any("办理期限由 2026-03-09 变为 2026-03-16" in m and "重新出具受理回执" in m for m in messages)
    assert any("费用类型" in m for m in messages)


def test_correcting_inpatient_to_maternity_keeps_the_clock_when_the_discharge_summary_was_given(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "inpatient_fee_list", "diagnosis_or_summary:1"}
    claim = create(clerk, person, inpatient_details(hospital), ticks=ticks)
    claim = services.claim_update(claim=claim, by=clerk, today=date(2026, 3, 17),
                                  details=inpatient_details(hospital, care_type="maternity", situation="maternity",
                                                            settlement_failure=""))
    assert claim.status == Claim.Status.ACCEPTED and claim.complete_on == TODAY and claim.due_on == date(2026, 3, 30)
    assert claim.notices.filter(kind="receipt").count() == 1  # the deadline did not move: no new receipt


def test_an_edit_that_needs_a_new_paper_reopens_the_claim_and_says_so(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "inpatient_fee_list", "diagnosis_or_summary:0"}  # 诊断证明, no 出院小结
    claim = create(clerk, person, inpatient_details(hospital), ticks=ticks)
    claim = services.claim_update(claim=claim, by=clerk, today=date(2026, 3, 17),
                                  details=inpatient_details(hospital, care_type="maternity", situation="maternity",
                                                            settlement_failure=""))
    assert claim.status == Claim.Status.INCOMPLETE and claim.complete_on is None and claim.due_on is None
    assert claim.notices.order_by("-pk").first().items == ["出院小结"]
    entry = AuditLog.objects.filter(object_id=str(claim.pk)).order_by("-pk").first()
    assert "修改后需补充材料：出院小结" in entry.message
    assert "原收齐材料日期 2026-03-16" in entry.message and "重新计算办理期限" in entry.message


def test_editing_the_amount_that_moves_the_deadline_issues_a_new_receipt(ready, clerk):
    person, hospital = ready
    ticks = {"id_proof:1", "invoice", "outpatient_fee_list", "prescription_or_record:1"}
    claim = create(clerk, person, outpatient_details(hospital, D("1000.01")), ticks=ticks, today=date(2026, 3, 2))
    claim = services.claim_update(claim=claim, by=clerk, details=outpatient_details(hospital, D("1000.00")),
                                  today=date(2026, 3, 3))
    latest = claim.notices.order_by("-pk").first()
    assert latest.kind == "receipt" and latest.due_on == date(2026, 3, 9) and latest.processing_days == 5
    assert Job.objects.filter(params__notice_id=latest.pk).exists()


def test_marking_special_issues_a_new_receipt_with_the_longer_limit(ready, clerk, supervisor):
    person, hospital = ready
    claim = create(clerk, person, inpatient_details(hospital))
    services.claim_mark_special(claim=claim, by=supervisor, reason="需协查", today=date(2026, 3, 17))
    receipts = list(claim.notices.filter(kind="receipt").order_by("pk"))
    assert [(r.due_on, r.processing_days, r.special) for r in receipts] == [
        (date(2026, 3, 30), 10, False), (date(2026, 4, 14), 20, True)]


def test_other_allowed_claim_without_filing_is_reduced_as_unfiled(policy, person, hospital, clerk):
    from reimbursement.models import OtherAllowedCase

    case = OtherAllowedCase.objects.create(region=region("320100"), name="系统故障未能直接结算")
    jiangsu = InstitutionFactory(code="H3205T", name="苏州测试医院", region=region("320500"), level="3")
    claim = create(clerk, person, inpatient_details(jiangsu, situation="other_allowed", other_case=case,
                                                    settlement_failure=""))
    assert claim.filing_status == "not_filed" and claim.adjustment_situation == "unfiled"
    claim = services.claim_calculate(claim=claim, by=clerk)
    assert claim.calculation["years"][0]["effective_ratio"] == "65.00"  # 85 − 20 points (江苏 第十八条)


def retro_filing(person, applied_on):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    return FilingFactory(insured_person=person, person_type=PersonType.OTHER_TEMPORARY, destination=region("320500"),
                         start_date=date(2026, 3, 2), applied_on=applied_on, end_date=date(2026, 9, 1),
                         retroactive=True, manual_reimbursement_eligible=True, settlement_state="self_paid")


@pytest.mark.parametrize(("applied_on", "situation", "ratio"), [
    (date(2026, 6, 10), "other_temporary", "85.00"),  # 3 months after the 2026-03-10 discharge: in time
    (date(2026, 6, 11), "unfiled", "65.00"),  # one day late: 第十八条, 20 points off
])
def test_retroactive_filing_in_time_restores_normal_benefits_and_late_is_unfiled(
        policy, person, clerk, applied_on, situation, ratio):
    jiangsu = InstitutionFactory(code="H3205T", name="苏州测试医院", region=region("320500"), level="3")
    retro_filing(person, applied_on)
    claim = create(clerk, person, inpatient_details(jiangsu, situation="retroactive", settlement_failure=""),
                   today=date(2026, 6, 15))
    assert claim.filing_status == "late_filed" and claim.adjustment_situation == situation
    claim = services.claim_calculate(claim=claim, by=clerk)
    assert claim.calculation["years"][0]["effective_ratio"] == ratio


def test_the_retroactive_limit_is_regional_data_on_the_policy(policy, person, clerk):
    policy.retroactive_filing_months = 6
    policy.save()
    jiangsu = InstitutionFactory(code="H3205T", name="苏州测试医院", region=region("320500"), level="3")
    retro_filing(person, date(2026, 8, 1))
    claim = create(clerk, person, inpatient_details(jiangsu, situation="retroactive", settlement_failure=""),
                   today=date(2026, 8, 3))
    assert claim.adjustment_situation == "other_temporary"
    assert "出院后6个月" in claim.eligibility_note


def test_student_vacation_periods_are_regional_data(policy, clerk, hospital):
    from reimbursement.models import StudentVacation

    student = InsuredPersonFactory(insured_region=region("320100"), insurance_type="390")
    details = inpatient_details(hospital, situation="student_vacation", settlement_failure="",
                                admission_date=date(2026, 6, 29), discharge_date=date(2026, 7, 3))
    with pytest.raises(DomainError, match="不在寒暑假期间（寒假 2026-01-01 至 2026-02-28；暑假 2026-07-01 至 2026-08-31）"):
        create(clerk, student, details, today=date(2026, 7, 10))
    nothing_written()
    StudentVacation.objects.create(region=region("320100"), year=2026, name="暑假",
                                   start_date=date(2026, 6, 27), end_date=date(2026, 8, 31))
    claim = create(clerk, student, details, today=date(2026, 7, 10))
    assert claim.situation == "student_vacation" and claim.adjustment_situation == "student"
    # once the region has published its 2026 calendar, the default months no longer apply that year
    january = inpatient_details(hospital, situation="student_vacation", settlement_failure="", invoice_numbers="J1",
                                admission_date=date(2026, 1, 5), discharge_date=date(2026, 1, 8))
    with pytest.raises(DomainError, match="不在寒暑假期间（暑假 2026-06-27 至 2026-08-31）"):
        create(clerk, student, january, today=date(2026, 7, 10))


def test_province_wide_vacation_periods_apply_to_its_cities(policy, clerk, hospital):
    from reimbursement.models import StudentVacation

    StudentVacation.objects.create(region=region("320000"), year=2026, name="寒假",
                                   start_date=date(2026, 1, 24), end_date=date(2026, 3, 1))
    student = InsuredPersonFactory(insured_region=region("320100"), insurance_type="390")
    details = inpatient_details(hospital, situation="student_vacation", settlement_failure="",
                                admission_date=date(2026, 3, 1), discharge_date=date(2026, 3, 4))
    assert create(clerk, student, details, today=date(2026, 3, 10)).status in (Claim.Status.ACCEPTED, Claim.Status.INCOMPLETE)
