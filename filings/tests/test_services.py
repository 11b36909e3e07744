"""The filing rules (issue item 3): each refusal with its Chinese message, nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from core.errors import DomainError
from core.models import AuditLog, InsuredPerson, Role
from core.tests.factories import InstitutionFactory, InsuredPersonFactory, region
from filings import services
from filings.models import Basis, Channel, Filing, FilingRegionSettings, UploadAction, UploadStatus
from filings.services import (
    PersonData,
    filing_activate,
    filing_approve,
    filing_cancel,
    filing_change,
    filing_complete_materials,
    filing_register,
    filing_register_walk_in,
    filing_reject,
    filing_submit_online,
    filings_expire,
)
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def register(person, data, by, **kwargs):
    kwargs.setdefault("today", TODAY)
    return filing_register(person=person, data=data, by=by, **kwargs)


# --- Registration and materials ----------------------------------------------------------


def test_counter_filing_with_materials_is_active_and_waits_for_upload(person, make_data, clerk):
    filing = register(person, make_data(), clerk)
    filing.refresh_from_db()
    assert filing.status == Filing.Status.ACTIVE
    assert filing.person_group == "long_term"
    assert filing.basis == Basis.MATERIALS
    assert filing.end_date is None
    assert filing.materials_due_on is None
    assert filing.number.startswith("BA320100260316")
    assert filing.upload_status == UploadStatus.PENDING and filing.upload_action == UploadAction.NEW
    assert AuditLog.objects.filter(object_id=str(filing.pk), to_state="active").exists()
    assert filing.history.count() >= 1


def test_commitment_letter_filing_records_when_materials_are_due(person, make_data, clerk):
    filing = register(person, make_data(commitment=True), clerk)
    assert filing.basis == Basis.COMMITMENT
    assert filing.materials_due_on == date(2026, 9, 16)


def test_commitment_materials_deadline_is_a_regional_setting(person, make_data, clerk):
    FilingRegionSettings.objects.create(region=region("320100"), commitment_materials_months=3)
    filing = register(person, make_data(commitment=True), clerk)
    assert filing.materials_due_on == date(2026, 6, 16)


def test_missing_materials_refused_and_nothing_written(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="retired_resettled", materials=["id_card", "household_register"]), clerk)
    assert exc.value.message == (
        "材料不齐，备案不能生效。缺少：异地安置认定材料（户口簿首页和本人常住人口登记卡，或长期异地居住人员个人承诺书（附件1））。"
    )


def test_missing_id_proof_named(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="other_temporary", materials=[]), clerk)
    assert "本人有效身份证明（医保电子凭证、有效身份证件、社会保障卡任选其一）" in exc.value.message


@pytest.mark.parametrize(
    ("person_type", "materials", "basis"),
    [
        ("retired_resettled", ["social_security_card", "household_register", "residence_registration_card"], "materials"),
        ("retired_resettled", ["id_card", "commitment_letter"], "commitment"),
        ("long_term_resident", ["medical_e_voucher", "residence_proof"], "materials"),
        ("long_term_resident", ["id_card", "residence_proof", "commitment_letter"], "materials"),
        ("posted_worker", ["id_card", "dispatch_certificate"], "materials"),
        ("posted_worker", ["id_card", "employer_certificate"], "materials"),
        ("posted_worker", ["id_card", "labour_contract"], "materials"),
        ("posted_worker", ["id_card", "commitment_letter"], "commitment"),
        ("other_temporary", ["social_security_card"], "materials"),
    ],
)
def test_each_alternative_of_the_checklist_is_enough(person, make_data, clerk, person_type, materials, basis):
    end = None if person_type in {"retired_resettled", "long_term_resident", "posted_worker"} else date(2026, 9, 15)
    filing = register(person, make_data(person_type=person_type, materials=materials, end=end), clerk)
    assert filing.status == Filing.Status.ACTIVE
    assert filing.basis == basis


def test_commitment_letter_does_not_replace_a_referral_certificate(person, make_data, clerk, nothing_written):
    institution = InstitutionFactory(can_refer=True)
    data = make_data(person_type="referral", materials=["id_card", "commitment_letter"], referring_institution=institution)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, data, clerk)
    assert "转诊转院证明材料" in exc.value.message


def test_draft_keeps_missing_materials_but_cannot_become_active(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(materials=["id_card"]), clerk, draft=True)
    assert filing.status == Filing.Status.DRAFT
    assert filing.upload_status == UploadStatus.NOT_REQUIRED
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_activate(filing=filing, by=clerk, today=TODAY)
    assert "缺少：长期居住认定材料" in exc.value.message
    filing.materials = ["id_card", "residence_proof"]
    filing.save()
    filing_activate(filing=filing, by=clerk, today=TODAY)
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.ACTIVE


def test_proxy_needs_the_proxys_id(person, make_data, clerk, nothing_written):
    data = make_data(by_proxy=True, proxy_name="钱小明", proxy_id_number="320106199001011235", proxy_phone="139")
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, data, clerk)
    assert "代办人公民身份号码校验码错误" in exc.value.message


def test_proxy_cannot_be_the_person(person, make_data, clerk, nothing_written):
    data = make_data(by_proxy=True, proxy_name="钱玉兰", proxy_id_number=person.id_number, proxy_phone="139")
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, data, clerk)
    assert "代办人与参保人是同一人" in exc.value.message


def test_proxy_filing_records_the_proxy(person, make_data, clerk):
    from core.idcard import build_id_number

    number = build_id_number("320106", date(1985, 5, 5), 11)
    data = make_data(by_proxy=True, proxy_name="钱小明", proxy_id_number=number, proxy_phone="13900000000",
                     proxy_relation="子女")
    filing = register(person, data, clerk)
    assert filing.by_proxy and filing.proxy_id_number == number
    assert "proxy_id_proof" in filing.materials


def test_proxy_without_proxy_id_proof_material_refused(person, make_data, clerk, nothing_written):
    from core.idcard import build_id_number

    data = make_data(by_proxy=True, proxy_name="钱小明", proxy_id_number=build_id_number("320106", date(1985, 5, 5), 11),
                     proxy_phone="13900000000", materials=["id_card", "residence_proof"])
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, data, clerk)
    assert "代办人身份证明" in exc.value.message


# --- Destination and dates ------------------------------------------------------------------


def test_destination_cannot_be_the_insured_region(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(destination="320100"), clerk)
    assert "就医地不能是参保地本身（南京市）" in exc.value.message


def test_destination_cannot_be_the_whole_home_province(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(destination="320000"), clerk)
    assert "包含参保地南京市本身" in exc.value.message


def test_another_city_of_the_province_is_fine(person, make_data, clerk):
    assert register(person, make_data(destination="320500"), clerk).destination.code == "320500"


def test_long_term_filing_has_no_end_date(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(end=date(2027, 1, 1)), clerk)
    assert "长期有效" in exc.value.message


@pytest.mark.parametrize("person_type", ["other_temporary", "referral"])
def test_temporary_validity_at_least_six_months(person, make_data, clerk, nothing_written, person_type):
    extra = {"referring_institution": InstitutionFactory(can_refer=True)} if person_type == "referral" else {}
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type=person_type, end=date(2026, 9, 14), **extra), clerk)
    assert "有效期不少于6个月：开始日期 2026-03-16，结束日期最早为 2026-09-15（填写的是 2026-09-14）" in exc.value.message
    filing = register(person, make_data(person_type=person_type, end=date(2026, 9, 15), **extra), clerk)
    assert filing.end_date == date(2026, 9, 15)


def test_temporary_end_date_defaults_to_six_months(person, make_data, clerk):
    filing = register(person, make_data(person_type="other_temporary", start=date(2026, 8, 31)), clerk)
    assert filing.end_date == date(2027, 2, 27)  # 2027-02-28 is six months on; the day before is the last


def test_start_in_the_past_needs_retroactive_filing(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(start=date(2026, 3, 1)), clerk)
    assert "勾选“补办备案”" in exc.value.message


def test_all_problems_reported_at_once(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="other_temporary", destination="320100", end=date(2026, 4, 1)), clerk)
    assert "就医地不能是参保地本身" in exc.value.message
    assert "有效期不少于6个月" in exc.value.message


# --- Overlap and multi-place ---------------------------------------------------------------


def test_overlapping_filing_of_same_group_names_the_conflict(person, make_data, clerk, nothing_written):
    first = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="posted_worker"), clerk)
    assert f"与现有备案 {first.number}（异地长期居住人员，就医地 北京市，2026-03-16 起长期有效）重叠" in exc.value.message


def test_overlap_includes_province_and_its_city(person, make_data, clerk, nothing_written):
    first = register(person, make_data(person_type="other_temporary", destination="330000"), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="other_temporary", destination="330100", start=date(2026, 6, 1)), clerk)
    assert first.number in exc.value.message


def test_consecutive_temporary_filings_do_not_overlap(person, make_data, clerk):
    register(person, make_data(person_type="other_temporary", end=date(2026, 9, 15)), clerk)
    second = register(person, make_data(person_type="other_temporary", start=date(2026, 9, 16)), clerk)
    assert second.status == Filing.Status.ACTIVE


def test_long_term_and_temporary_may_coexist(person, make_data, clerk):
    register(person, make_data(), clerk)
    temporary = register(person, make_data(person_type="other_temporary"), clerk)
    assert temporary.status == Filing.Status.ACTIVE


def test_multi_place_long_term_by_materials(person, make_data, clerk):
    first = register(person, make_data(), clerk)
    second = register(person, make_data(destination="460200"), clerk)
    first.refresh_from_db()
    assert second.multi_place and first.multi_place


def test_multi_place_never_by_commitment(person, make_data, clerk, nothing_written):
    first = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(destination="460200", commitment=True), clerk)
    assert "多地备案不可使用承诺制" in exc.value.message and first.number in exc.value.message


def test_multi_place_refused_while_first_filing_is_an_open_commitment(person, make_data, clerk, nothing_written):
    first = register(person, make_data(commitment=True), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(destination="460200"), clerk)
    assert "是以个人承诺办理的，且证明材料尚未补齐" in exc.value.message
    filing_complete_materials(filing=first, materials=["residence_proof"], by=clerk, today=TODAY)
    assert register(person, make_data(destination="460200"), clerk).multi_place


def test_multi_place_only_for_long_term(person, make_data, clerk, nothing_written):
    register(person, make_data(person_type="other_temporary"), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="other_temporary", destination="310000"), clerk)
    assert "多地备案仅限长期异地居住人员" in exc.value.message


# --- Referral, emergency, 补办 ----------------------------------------------------------------


def test_referral_needs_a_referring_hospital_of_the_insured_region(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="referral"), clerk)
    assert "须填写开具转诊转院证明的参保地定点医疗机构" in exc.value.message
    wuxi = InstitutionFactory(name="无锡某医院", region=region("320200"), can_refer=True)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="referral", referring_institution=wuxi), clerk)
    assert "无锡某医院不是参保地（南京市）的医疗机构" in exc.value.message
    no_right = InstitutionFactory(name="社区医院", can_refer=False)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="referral", referring_institution=no_right), clerk)
    assert "社区医院不具有转诊资质" in exc.value.message


EMERGENCY_NEEDS_NO_FILING = "异地急诊抢救人员视同已备案（江苏 第八条(五)），无需办理备案"


def test_emergency_needs_no_filing_so_none_is_created(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(person_type="emergency", materials=[]), clerk)
    assert EMERGENCY_NEEDS_NO_FILING in exc.value.message
    assert "异地转诊或其他临时外出就医备案" in exc.value.message
    with nothing_written(), pytest.raises(DomainError) as exc:
        submit(person, make_data(person_type="emergency", materials=[], start=date(2026, 3, 13)), clerk)
    assert EMERGENCY_NEEDS_NO_FILING in exc.value.message


def test_retroactive_before_discharge_settlement(person, make_data, clerk):
    data = make_data(person_type="other_temporary", start=date(2026, 3, 10), retroactive=True,
                     admission_date=date(2026, 3, 10), settlement_state="not_settled")
    filing = register(person, data, clerk)
    assert filing.retroactive and not filing.manual_reimbursement_eligible
    assert filing.end_date == date(2026, 9, 9)


def test_retroactive_after_self_paid_discharge_marks_manual_reimbursement(person, make_data, clerk):
    data = make_data(person_type="other_temporary", start=date(2026, 2, 20), retroactive=True,
                     admission_date=date(2026, 2, 20), settlement_state="self_paid", discharge_date=date(2026, 2, 26),
                     treatment_institution="北京协和医院")
    filing = register(person, data, clerk)
    assert filing.manual_reimbursement_eligible
    from filings.selectors import FilingStatus, filing_check

    result = filing_check(person=person, on_date=date(2026, 2, 26), admission_date=date(2026, 2, 20),
                          treatment_region=region("110000"))
    assert result.status == FilingStatus.LATE_FILED and result.filing == filing


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"admission_date": None, "settlement_state": "not_settled"}, "补办备案须填写本次就医的入院（就诊）日期。"),
        ({"admission_date": date(2026, 3, 5), "settlement_state": ""}, "补办备案须选择出院结算情况"),
        ({"admission_date": date(2026, 3, 5), "settlement_state": "self_paid"}, "已出院自费结算的，请填写出院日期。"),
        ({"admission_date": date(2026, 3, 1), "settlement_state": "not_settled"}, "应不晚于入院日期 2026-03-01"),
        ({"admission_date": date(2026, 3, 5), "settlement_state": "self_paid", "discharge_date": date(2026, 3, 4)},
         "出院日期 2026-03-04 早于入院日期 2026-03-05"),
        ({"admission_date": date(2026, 3, 20), "settlement_state": "not_settled"}, "晚于今天"),
    ],
)
def test_retroactive_refusals(person, make_data, clerk, nothing_written, extra, message):
    data = make_data(person_type="other_temporary", start=date(2026, 3, 5), retroactive=True, **extra)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, data, clerk)
    assert message in exc.value.message


# --- Change and cancellation ----------------------------------------------------------------


def test_commitment_filing_cannot_change_or_cancel_before_six_months(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(commitment=True), clerk)
    day_before = date(2026, 9, 15)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_cancel(filing=filing, by=clerk, reason="回原籍", today=day_before)
    assert exc.value.message == (
        f"{filing.number}是以个人承诺方式办理的长期异地居住备案，需满6个月方可取消：以个人承诺方式办理于 2026-03-16，2026-09-16 起可以取消。"
    )
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_change(filing=filing, data=make_data(destination="310000", start=day_before, commitment=True),
                      by=clerk, reason="换城市", today=day_before)
    assert "需满6个月方可变更" in exc.value.message
    cancelled = filing_cancel(filing=filing, by=clerk, reason="回原籍", today=date(2026, 9, 16))
    assert cancelled.status == Filing.Status.CANCELLED


def test_material_based_long_term_filing_can_change_any_time(person, make_data, clerk):
    filing = register(person, make_data(), clerk)
    new = filing_change(filing=filing, data=make_data(destination="310000", start=date(2026, 3, 17)), by=clerk,
                        reason="居住地改为上海", today=date(2026, 3, 17))
    filing.refresh_from_db()
    assert filing.status == Filing.Status.CHANGED
    assert filing.terminated_on == date(2026, 3, 16)  # its last day: the new one starts on the 17th
    assert new.replaces == filing and new.status == Filing.Status.ACTIVE
    assert new.destination.code == "310000"
    # The old filing was never uploaded: the new one goes up as a new filing.
    assert filing.upload_status == UploadStatus.NOT_REQUIRED
    assert new.upload_action == UploadAction.NEW


def test_change_of_uploaded_filing_is_uploaded_as_change(person, make_data, clerk):
    filing = register(person, make_data(), clerk)
    Filing.objects.filter(pk=filing.pk).update(upload_status=UploadStatus.UPLOADED)
    filing.refresh_from_db()
    new = filing_change(filing=filing, data=make_data(destination="310000"), by=clerk, reason="搬家", today=TODAY)
    assert new.upload_action == UploadAction.CHANGE and new.upload_status == UploadStatus.PENDING


def test_change_keeps_history_for_the_old_dates(person, make_data, clerk):
    from filings.selectors import FilingStatus, filing_check

    filing = register(person, make_data(), clerk)
    filing_change(filing=filing, data=make_data(destination="310000", start=date(2026, 4, 1)), by=clerk,
                  reason="搬家", today=date(2026, 4, 1))
    on_march = filing_check(person=person, on_date=date(2026, 3, 31), treatment_region=region("110000"))
    assert on_march.status == FilingStatus.FILED and on_march.filing == filing
    on_april = filing_check(person=person, on_date=date(2026, 4, 1), treatment_region=region("110000"))
    assert on_april.status == FilingStatus.NOT_FILED


def test_change_needs_reason_and_active_filing(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_change(filing=filing, data=make_data(destination="310000"), by=clerk, reason=" ", today=TODAY)
    assert exc.value.message == "请填写变更原因。"
    filing_cancel(filing=filing, by=clerk, reason="不再需要", today=TODAY)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_change(filing=filing, data=make_data(destination="310000"), by=clerk, reason="x", today=TODAY)
    assert "现为“已取消”，只有有效的备案可以变更" in exc.value.message


def test_refused_change_leaves_old_filing_active(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_change(filing=filing, data=make_data(destination="320100"), by=clerk, reason="x", today=TODAY)
    assert "就医地不能是参保地本身" in exc.value.message
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.ACTIVE


def test_cancel_records_reason_and_upload(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(person_type="other_temporary"), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_cancel(filing=filing, by=clerk, reason="", today=TODAY)
    assert exc.value.message == "请填写取消原因。"
    Filing.objects.filter(pk=filing.pk).update(upload_status=UploadStatus.UPLOADED)
    cancelled = filing_cancel(filing=filing, by=clerk, reason="提前返回参保地", today=date(2026, 4, 2))
    assert cancelled.cancel_reason == "提前返回参保地"
    assert cancelled.terminated_on == date(2026, 4, 2)
    assert cancelled.upload_status == UploadStatus.PENDING and cancelled.upload_action == UploadAction.CANCEL


def test_cancel_of_never_uploaded_filing_needs_no_upload(person, make_data, clerk):
    filing = register(person, make_data(person_type="other_temporary"), clerk)
    cancelled = filing_cancel(filing=filing, by=clerk, reason="录入有误", today=TODAY)
    assert cancelled.upload_status == UploadStatus.NOT_REQUIRED


# --- Commitment materials ----------------------------------------------------------------------


def test_completing_commitment_materials(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(person_type="retired_resettled", commitment=True), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_complete_materials(filing=filing, materials=["household_register"], by=clerk, today=TODAY)
    assert "还需：异地安置认定材料（户口簿首页和本人常住人口登记卡" in exc.value.message
    done = filing_complete_materials(filing=filing, materials=["household_register", "residence_registration_card"],
                                     by=clerk, today=date(2026, 5, 1))
    assert done.materials_completed_on == date(2026, 5, 1)
    assert done.basis == Basis.COMMITMENT  # how it was filed stays on record


def test_complete_materials_only_for_commitment(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_complete_materials(filing=filing, materials=["residence_proof"], by=clerk, today=TODAY)
    assert "不是承诺制备案" in exc.value.message


# --- Online applications and review ------------------------------------------------------------


def submit(person, data, by, reference="WS2026031300001", applied_on=date(2026, 3, 13)):
    return filing_submit_online(person=person, data=data, online_reference=reference, applied_on=applied_on, by=by,
                                today=TODAY)


def test_online_application_waits_one_working_day_for_review(person, make_data, clerk):
    filing = submit(person, make_data(start=date(2026, 3, 13)), clerk)  # Friday
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.channel == Channel.ONLINE
    assert filing.review_due_on == date(2026, 3, 16)  # Monday
    assert filing.review_overdue_on(date(2026, 3, 17))
    assert filing.upload_status == UploadStatus.NOT_REQUIRED


def test_same_application_imported_twice_refused(person, make_data, clerk, nothing_written):
    submit(person, make_data(start=date(2026, 3, 13)), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        submit(person, make_data(start=date(2026, 3, 13)), clerk)
    assert exc.value.message == "线上申请 WS2026031300001 已经导入过。"


def test_supervisor_approves_online_application(person, make_data, clerk, supervisor):
    filing = submit(person, make_data(start=date(2026, 3, 13)), clerk)
    approved = filing_approve(filing=filing, by=supervisor, today=TODAY)
    assert approved.status == Filing.Status.ACTIVE
    assert approved.reviewed_by == supervisor
    assert approved.upload_status == UploadStatus.PENDING


def test_reviewer_cannot_approve_own_import(person, make_data, supervisor, nothing_written):
    filing = submit(person, make_data(start=date(2026, 3, 13)), supervisor)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_approve(filing=filing, by=supervisor, today=TODAY)
    assert "审核人不能审核自己导入的申请" in exc.value.message


def test_approval_refused_when_materials_missing(person, make_data, clerk, supervisor, nothing_written):
    filing = submit(person, make_data(start=date(2026, 3, 13), materials=["id_card"]), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_approve(filing=filing, by=supervisor, today=TODAY)
    assert "材料不齐" in exc.value.message
    approved = filing_approve(filing=filing, by=supervisor, materials=["id_card", "residence_proof"], today=TODAY)
    assert approved.status == Filing.Status.ACTIVE


def test_second_decision_is_refused(person, make_data, clerk, supervisor, make_staff, nothing_written):
    filing = submit(person, make_data(start=date(2026, 3, 13)), clerk)
    filing_approve(filing=filing, by=supervisor, today=TODAY)
    other = make_staff("supervisor_nj2", Role.SUPERVISOR)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_reject(filing=filing, by=other, reason="材料不清晰")
    assert "现为“有效”" in exc.value.message and "不能驳回" in exc.value.message


def test_reject_needs_reason(person, make_data, clerk, supervisor, nothing_written):
    filing = submit(person, make_data(start=date(2026, 3, 13)), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_reject(filing=filing, by=supervisor, reason="")
    assert "须填写驳回原因" in exc.value.message
    rejected = filing_reject(filing=filing, by=supervisor, reason="居住证明模糊，请重新上传")
    assert rejected.status == Filing.Status.REJECTED and rejected.review_note == "居住证明模糊，请重新上传"


# --- Expiry ---------------------------------------------------------------------------------------


def test_expiry_job_expires_temporary_filings_after_their_last_day(person, make_data, clerk):
    filing = register(person, make_data(person_type="other_temporary"), clerk)  # ends 2026-09-15
    long_term = register(InsuredPersonFactory(), make_data(), clerk)
    assert filings_expire(today=date(2026, 9, 15)) == 0
    assert filings_expire(today=date(2026, 9, 16)) == 1
    filing.refresh_from_db()
    long_term.refresh_from_db()
    assert filing.status == Filing.Status.EXPIRED
    assert long_term.status == Filing.Status.ACTIVE
    assert AuditLog.objects.filter(object_id=str(filing.pk), to_state="expired", username="system").exists()
    assert filings_expire(today=date(2026, 9, 16)) == 0


def test_expire_command_and_task(person, make_data, clerk, capsys):
    register(person, make_data(person_type="other_temporary"), clerk)
    call_command("expire_filings", "--date", "2026-09-16")
    assert "已到期备案：1 份" in capsys.readouterr().out
    from filings.tasks import expire_filings

    assert expire_filings.name == "filings.expire_filings"
    assert expire_filings.run() == 0


def test_expire_command_rejects_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日期“2026-02-30”无效"):
        call_command("expire_filings", "--date", "2026-02-30")


# --- Walk-in at the counter ------------------------------------------------------------------------


def test_walk_in_registers_the_person_and_files(make_data, clerk):
    from core.idcard import build_id_number

    number = build_id_number("320104", date(1957, 4, 8), 35)
    filing = filing_register_walk_in(
        person_data=PersonData(id_number=number, name="孙玉珍", insurance_type="310", insured_region=region("320100"),
                               phone="13851234567"),
        data=make_data(commitment=True), by=clerk, today=TODAY,
    )
    assert filing.insured_person.name == "孙玉珍"
    assert filing.insured_person.sex == "M"
    assert filing.basis == Basis.COMMITMENT


def test_refused_walk_in_registers_no_one(make_data, clerk, nothing_written):
    from core.idcard import build_id_number

    number = build_id_number("320104", date(1957, 4, 8), 35)
    with nothing_written(), pytest.raises(DomainError):
        filing_register_walk_in(
            person_data=PersonData(id_number=number, name="孙玉珍", insurance_type="310",
                                   insured_region=region("320100")),
            data=make_data(destination="320100"), by=clerk, today=TODAY,
        )
    assert not InsuredPerson.objects.with_id_number(number).exists()


def test_walk_in_bad_id_number_message(make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_register_walk_in(
            person_data=PersonData(id_number="32010619570230123X", name="孙玉珍", insurance_type="310",
                                   insured_region=region("320100")),
            data=make_data(), by=clerk, today=TODAY,
        )
    assert exc.value.message == "公民身份号码第7-14位的出生日期19570230不是有效日期。"


def test_clerk_cannot_file_another_regions_person(make_data, clerk_wuxi, person, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(), clerk_wuxi)
    # Neither the person's name nor where they are insured is told to another region's clerk.
    assert exc.value.message == "该参保人不属于本统筹区（无锡市），异地就医备案应由其参保地经办机构办理。"


def test_hospital_channel_only_files_referrals(person, make_data, make_staff, nothing_written):
    hospital = InstitutionFactory(name="南京鼓楼医院", can_refer=True)
    user = make_staff("gulou", Role.HOSPITAL, institution=hospital)
    with nothing_written(), pytest.raises(DomainError) as exc:
        register(person, make_data(), user, channel=Channel.HOSPITAL)
    assert exc.value.message == "医疗机构只能办理异地转诊备案。"
    filing = register(person, make_data(person_type="referral", referring_institution=hospital), user,
                      channel=Channel.HOSPITAL)
    assert filing.status == Filing.Status.ACTIVE and filing.channel == Channel.HOSPITAL


def test_add_months_clamps_to_month_end():
    assert services.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert services.add_months(date(2026, 3, 16), 6) == date(2026, 9, 16)
    assert services.minimum_end_date(date(2026, 3, 16), 6) == date(2026, 9, 15)


# --- The commitment: its date, not the filing's start, runs the lock and the deadline --------------


def test_backdated_commitment_filing_is_locked_from_the_commitment_date(person, make_data, clerk, nothing_written):
    admission = date(2025, 8, 1)  # a 补办 reaching back more than six months
    data = make_data(commitment=True, start=admission, retroactive=True, admission_date=admission,
                     settlement_state="not_settled")
    filing = register(person, data, clerk)
    assert filing.commitment_on == TODAY and filing.materials_due_on == date(2026, 9, 16)
    assert services.commitment_unlock_date(filing) == date(2026, 9, 16)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_cancel(filing=filing, by=clerk, reason="回原籍", today=date(2026, 3, 17))
    assert "以个人承诺方式办理于 2026-03-16" in exc.value.message and "2026-09-16 起可以取消" in exc.value.message


def test_change_of_an_overdue_commitment_filing_keeps_its_deadline_and_lock_start(person, make_data, clerk):
    filing = register(person, make_data(commitment=True), clerk)  # committed 2026-03-16, materials due 2026-09-16
    day = date(2026, 10, 1)  # lock over, materials overdue
    new = filing_change(filing=filing, data=make_data(destination="310000", start=day, commitment=True),
                        by=clerk, reason="搬到上海", today=day)
    assert new.basis == Basis.COMMITMENT
    assert new.materials_due_on == date(2026, 9, 16) and new.materials_overdue_on(day)
    assert new.commitment_on == date(2026, 3, 16)
    assert services.commitment_unlock_date(new) == date(2026, 9, 16)
    # A change with the real materials ends the commitment.
    later = filing_change(filing=new, data=make_data(destination="440100", start=date(2026, 10, 2)), by=clerk,
                          reason="搬到广州", today=date(2026, 10, 2))
    assert later.basis == Basis.MATERIALS and later.materials_due_on is None and later.commitment_on is None


def test_a_change_that_changes_nothing_is_refused(person, make_data, clerk, nothing_written):
    filing = register(person, make_data(), clerk)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_change(filing=filing, data=make_data(start=date(2026, 3, 20)), by=clerk, reason="再办一次",
                      today=date(2026, 3, 20))
    assert exc.value.message.startswith("没有任何变更：")
    assert filing.number in exc.value.message
    # The same place with another person type is a change.
    new = filing_change(filing=filing, data=make_data(person_type="posted_worker", start=date(2026, 3, 20)),
                        by=clerk, reason="改为常驻异地工作", today=date(2026, 3, 20))
    assert new.person_type == "posted_worker"


# --- The day of a cancellation is still covered --------------------------------------------------


def test_filing_still_covers_the_day_it_was_cancelled(person, make_data, clerk):
    from filings.selectors import FilingStatus, filing_check

    filing = register(person, make_data(person_type="other_temporary"), clerk)
    cancelled = filing_cancel(filing=filing, by=clerk, reason="提前返回", today=date(2026, 4, 2))
    assert cancelled.terminated_on == date(2026, 4, 2) and cancelled.last_valid_day == date(2026, 4, 2)
    beijing = region("110000")
    on_the_day = filing_check(person=person, on_date=date(2026, 4, 2), treatment_region=beijing)
    assert on_the_day.status == FilingStatus.FILED and on_the_day.filing == cancelled
    assert filing_check(person=person, on_date=date(2026, 4, 3), treatment_region=beijing).status == "not_filed"
    assert "有效至 2026-04-02" in cancelled.validity_text
    assert Filing.objects.valid_on(date(2026, 4, 2)).filter(pk=filing.pk).exists()


def test_filing_cancelled_before_it_started_never_covers(person, make_data, clerk):
    from filings.selectors import FilingStatus, filing_check

    filing = register(person, make_data(person_type="other_temporary", start=date(2026, 4, 1)), clerk)
    cancelled = filing_cancel(filing=filing, by=clerk, reason="行程取消", today=TODAY)
    for day in (TODAY, date(2026, 4, 1), date(2026, 5, 1)):
        assert filing_check(person=person, on_date=day, treatment_region=region("110000")).status == \
            FilingStatus.NOT_FILED
    assert "未生效即取消" in cancelled.validity_text


def test_changed_filing_is_valid_until_the_day_before_its_replacement(person, make_data, clerk):
    from filings.selectors import filing_check

    filing = register(person, make_data(), clerk)
    new = filing_change(filing=filing, data=make_data(destination="310000", start=date(2026, 4, 1)), by=clerk,
                        reason="搬家", today=date(2026, 3, 20))
    filing.refresh_from_db()
    assert filing.terminated_on == date(2026, 3, 31)
    assert filing_check(person=person, on_date=date(2026, 3, 31), treatment_region=region("110000")).filing == filing
    assert filing_check(person=person, on_date=date(2026, 4, 1), treatment_region=region("310000")).filing == new
    assert filing_check(person=person, on_date=date(2026, 4, 1), treatment_region=region("110000")).filing is None
