"""费用协查 and 问题协同 services: each state change, its refusals, audit and history."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cooperation import services
from cooperation.models import AssistDelay, AssistRequest, Attachment, Coordination
from cooperation.selectors import assist_findings_for_deduction
from core.audit import entries_for
from core.errors import DomainError
from core.tests.factories import region

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%demo\n"


# --- 费用协查 ------------------------------------------------------------------------------------


def test_assist_is_sent_with_the_26th_of_next_month_as_due_date(raise_assist, clerk):
    assist = raise_assist()
    assert assist.status == AssistRequest.Status.SENT
    assert assist.number.startswith("XC3201002026")
    assert assist.insured_region_id == "320100" and assist.treatment_region_id == "320200"
    assert assist.answer_due == date(2026, 4, 26) and assist.period == "2026-04"
    assert not assist.cross_province
    assert entries_for(assist).filter(action="create").exists()
    assert assist.history.count() == 1


def test_assist_below_30000_is_refused_with_the_article(raise_assist):
    with pytest.raises(DomainError) as refused:
        raise_assist(total_amount=Decimal("29999.99"))
    assert "第五十六条" in refused.value.message and "29,999.99" in refused.value.message
    assert not AssistRequest.objects.exists()


def test_assist_at_exactly_30000_is_accepted(raise_assist):
    assert raise_assist(total_amount=Decimal("30000.00")).total_amount == Decimal("30000.00")


def test_assist_needs_every_field_of_article_56(raise_assist):
    with pytest.raises(DomainError, match="住院号"):
        raise_assist(hospital_number=" ")
    with pytest.raises(DomainError, match="身份证号码有误"):
        raise_assist(id_number="320106195603120000")
    assert not AssistRequest.objects.exists()


def test_assist_to_own_region_is_refused(raise_assist):
    with pytest.raises(DomainError, match="本统筹区"):
        raise_assist(treatment_region=region("320100"))


def test_second_open_assist_for_the_same_stay_is_refused(raise_assist):
    first = raise_assist()
    with pytest.raises(DomainError, match=first.number):
        raise_assist()


def test_assist_to_another_province_is_cross_province(raise_assist):
    assist = raise_assist(treatment_region=region("330000"))
    assert assist.cross_province


def test_answer_has_issue_requires_the_specific_reason(raise_assist, clerk_wuxi):
    assist = raise_assist()
    with pytest.raises(DomainError, match="具体原因"):
        services.assist_answer(request=assist, by=clerk_wuxi, result="has_issue", finding="", today=date(2026, 4, 1))
    assist.refresh_from_db()
    assert assist.status == AssistRequest.Status.SENT and assist.result == ""


def test_only_the_treatment_region_answers(raise_assist, clerk, clerk_suzhou):
    assist = raise_assist()
    for user in (clerk, clerk_suzhou):
        with pytest.raises(DomainError, match="就医地"):
            services.assist_answer(request=assist, by=user, result="no_issue", today=date(2026, 4, 1))


def test_answer_sets_the_5_working_day_confirmation_and_confirm_closes(raise_assist, clerk, clerk_wuxi):
    assist = raise_assist()
    services.assist_answer(request=assist, by=clerk_wuxi, result="has_issue", finding="重复收取护理费3天",
                           irregular_amount=Decimal("960.00"), today=date(2026, 4, 30),
                           attachments=[SimpleUploadedFile("核查记录.pdf", PDF)])
    assist.refresh_from_db()
    assert assist.status == AssistRequest.Status.ANSWERED
    assert assist.confirm_due == date(2026, 5, 11)  # across 劳动节, Saturday 05-09 works
    assert assist.attachments.get().stage == "协查结果"
    with pytest.raises(DomainError, match="参保地"):
        services.assist_confirm(request=assist, by=clerk_wuxi, today=date(2026, 5, 6))
    services.assist_confirm(request=assist, by=clerk, today=date(2026, 5, 6))
    assist.refresh_from_db()
    assert assist.status == AssistRequest.Status.CONFIRMED and assist.confirmed_by == clerk
    assert [e.to_state for e in entries_for(assist).filter(action="transition")] == ["confirmed", "answered"]


def test_a_second_answer_is_refused(raise_assist, clerk_wuxi, supervisor_wuxi):
    assist = raise_assist()
    services.assist_answer(request=assist, by=clerk_wuxi, result="no_issue", today=date(2026, 4, 1))
    with pytest.raises(DomainError, match="待确认"):
        services.assist_answer(request=assist, by=supervisor_wuxi, result="has_issue", finding="另有问题四个字",
                               today=date(2026, 4, 1))


def test_dispute_sends_it_back_to_the_treatment_region_with_the_note(raise_assist, clerk, clerk_wuxi):
    assist = raise_assist()
    services.assist_answer(request=assist, by=clerk_wuxi, result="no_issue", today=date(2026, 4, 1))
    with pytest.raises(DomainError, match="异议说明"):
        services.assist_dispute(request=assist, by=clerk, note="", today=date(2026, 4, 2))
    services.assist_dispute(request=assist, by=clerk, note="出院记录显示另有检查未收费", today=date(2026, 4, 2))
    assist.refresh_from_db()
    assert assist.status == AssistRequest.Status.DISPUTED and assist.dispute_count == 1
    assert assist.result == "" and assist.answer_due == date(2026, 5, 26)
    services.assist_answer(request=assist, by=clerk_wuxi, result="no_issue", today=date(2026, 4, 10))
    assert AssistRequest.objects.get(pk=assist.pk).status == AssistRequest.Status.ANSWERED


def test_recorded_delay_rolls_to_the_next_period_and_counts_late(raise_assist, clerk_wuxi):
    assist = raise_assist()
    services.assist_record_delay(request=assist, by=clerk_wuxi, reason="病历调阅中", today=date(2026, 4, 20))
    assist.refresh_from_db()
    assert assist.answer_due == date(2026, 5, 26) and assist.period == "2026-05" and assist.late_count == 1
    delay = AssistDelay.objects.get()
    assert delay.period == "2026-04" and not delay.automatic
    with pytest.raises(DomainError, match="延期原因"):
        services.assist_record_delay(request=assist, by=clerk_wuxi, reason="", today=date(2026, 4, 21))


def test_daily_job_rolls_an_unanswered_request_and_counts_each_missed_period(raise_assist):
    assist = raise_assist()  # due 2026-04-26
    assert services.assist_roll_overdue(today=date(2026, 4, 26)) == 0  # the 26th itself still counts
    assert services.assist_roll_overdue(today=date(2026, 6, 1)) == 1
    assist.refresh_from_db()
    assert assist.answer_due == date(2026, 6, 26) and assist.late_count == 2
    assert list(AssistDelay.objects.values_list("period", "automatic")) == [("2026-04", True), ("2026-05", True)]
    assert entries_for(assist).filter(username="system").exists()
    assert services.assist_roll_overdue(today=date(2026, 6, 1)) == 0


def test_cross_province_answer_comes_only_by_import(raise_assist, clerk):
    assist = raise_assist(treatment_region=region("330000"))
    with pytest.raises(DomainError, match="导入"):
        services.assist_answer(request=assist, by=clerk, result="no_issue", today=date(2026, 4, 1))
    services.assist_answer(request=assist, by=clerk, result="no_issue", imported=True, answered_on=date(2026, 3, 30),
                           today=date(2026, 4, 1))
    assist.refresh_from_db()
    assert assist.answer_imported and assist.confirm_due == date(2026, 4, 7)  # 04-06 清明 is a holiday


def test_confirmed_findings_are_offered_for_deduction_once(raise_assist, clerk, clerk_wuxi):
    assist = raise_assist()
    services.assist_answer(request=assist, by=clerk_wuxi, result="has_issue", finding="超标准收取床位费",
                           irregular_amount=Decimal("1200.00"), today=date(2026, 4, 1))
    assert not assist_findings_for_deduction().exists()  # not confirmed yet
    services.assist_confirm(request=assist, by=clerk, today=date(2026, 4, 2))
    found = assist_findings_for_deduction(insured_region="320100").get()
    assert found.irregular_amount == Decimal("1200.00") and found.treatment_region_id == "320200"
    services.assist_link_deduction(request=found, reference="KK-2026-05-001")
    assert not assist_findings_for_deduction().exists()
    with pytest.raises(DomainError, match="已登记扣款"):
        services.assist_link_deduction(request=found, reference="KK-2")


def test_attachments_are_limited_by_type_content_and_size(raise_assist, settings):
    with pytest.raises(DomainError, match="类型不允许"):
        raise_assist(attachments=[SimpleUploadedFile("x.exe", b"MZ")])
    with pytest.raises(DomainError, match="内容与扩展名不符"):
        raise_assist(attachments=[SimpleUploadedFile("x.pdf", b"<html>")])
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    with pytest.raises(DomainError, match="10 MB"):
        raise_assist(attachments=[big])
    assert not AssistRequest.objects.exists() and not Attachment.objects.exists()
    assist = raise_assist(attachments=[SimpleUploadedFile("../../etc/申请.pdf", PDF)])
    stored = assist.attachments.get()
    assert stored.filename == "申请.pdf" and ".." not in stored.file.name and stored.file.name.startswith("cooperation/")


# --- 问题协同 ------------------------------------------------------------------------------------


def test_coordination_reply_limit_depends_on_kind(raise_coordination):
    assert raise_coordination(kind="filing").reply_due == date(2026, 3, 4)
    assert raise_coordination(kind="system").reply_due == date(2026, 3, 3)
    assert raise_coordination(kind="other").reply_due == date(2026, 3, 16)


def test_coordination_about_a_person_needs_id_and_name(raise_coordination, id_number):
    with pytest.raises(DomainError, match="身份证号码和姓名"):
        raise_coordination(person_id_number=id_number)
    with pytest.raises(DomainError, match="身份证号码有误"):
        raise_coordination(person_id_number="320106195603120000", person_name="李秀英")
    assert raise_coordination(person_id_number=id_number, person_name="李秀英").person_name == "李秀英"


def test_coordination_to_own_agency_is_refused(raise_coordination, clerk):
    with pytest.raises(DomainError, match="本机构"):
        raise_coordination(receiver=clerk.agency)


def test_first_responder_notes_helpers_extension_and_reply(raise_coordination, clerk, clerk_wuxi, clerk_suzhou):
    coordination = raise_coordination()
    with pytest.raises(DomainError, match="第一响应人"):
        services.coordination_add_helper(coordination=coordination, by=clerk, agency=clerk_suzhou.agency, task="协助")
    services.coordination_add_helper(coordination=coordination, by=clerk_wuxi, agency=clerk_suzhou.agency,
                                     task="提供转出医院资料")
    services.coordination_add_note(coordination=coordination, by=clerk_suzhou, text="已提供资料")
    with pytest.raises(DomainError, match="协助的机构"):
        services.coordination_add_note(coordination=coordination, by=clerk, text="申请方不能登记处理")
    with pytest.raises(DomainError, match="原因"):
        services.coordination_extend(coordination=coordination, by=clerk_wuxi, new_due=date(2026, 3, 10), reason="",
                                     today=date(2026, 3, 3))
    services.coordination_extend(coordination=coordination, by=clerk_wuxi, new_due=date(2026, 3, 10),
                                 reason="需苏州提供资料，已与南京沟通", today=date(2026, 3, 3))
    services.coordination_reply(coordination=coordination, by=clerk_wuxi, reply="已更正备案信息", today=date(2026, 3, 5))
    coordination.refresh_from_db()
    assert coordination.status == Coordination.Status.REPLIED
    assert coordination.reply_due == date(2026, 3, 10)
    assert coordination.deemed_confirmed_on == date(2026, 3, 19)


def test_requester_confirms_or_disputes_and_escalates_to_the_province(
    raise_coordination, clerk, clerk_wuxi, province_agency
):
    coordination = raise_coordination()
    services.coordination_reply(coordination=coordination, by=clerk_wuxi, reply="系统显示已备案", today=date(2026, 3, 3))
    with pytest.raises(DomainError, match="发起协同的机构"):
        services.coordination_confirm(coordination=coordination, by=clerk_wuxi)
    services.coordination_dispute(coordination=coordination, by=clerk, note="医院仍查询不到备案")
    escalated = services.coordination_escalate(coordination=coordination, by=clerk, note="请省中心协调",
                                               today=date(2026, 3, 4))
    coordination.refresh_from_db()
    assert coordination.status == Coordination.Status.ESCALATED
    assert escalated.receiver == province_agency and escalated.parent == coordination
    assert escalated.status == Coordination.Status.OPEN and "医院仍查询不到备案" in escalated.description


def test_unresolved_after_the_limit_may_be_escalated_but_not_before(raise_coordination, clerk, province_agency):
    coordination = raise_coordination()  # due 2026-03-04
    with pytest.raises(DomainError, match="超过回复期限"):
        services.coordination_escalate(coordination=coordination, by=clerk, today=date(2026, 3, 4))
    escalated = services.coordination_escalate(coordination=coordination, by=clerk, today=date(2026, 3, 5))
    assert escalated.receiver == province_agency


def test_province_issue_cannot_be_escalated_further(raise_coordination, clerk, province_agency, clearing_officer):
    coordination = raise_coordination(receiver=province_agency)
    services.coordination_reply(coordination=coordination, by=clearing_officer, reply="已处理完毕", today=date(2026, 3, 3))
    services.coordination_dispute(coordination=coordination, by=clerk, note="仍未解决问题")
    with pytest.raises(DomainError, match="国家异地就医系统"):
        services.coordination_escalate(coordination=coordination, by=clerk, today=date(2026, 3, 4))


def test_daily_job_deems_unconfirmed_results_confirmed_after_10_working_days(raise_coordination, clerk_wuxi):
    coordination = raise_coordination(today=date(2026, 2, 12))
    services.coordination_reply(coordination=coordination, by=clerk_wuxi, reply="已处理完毕", today=date(2026, 2, 13))
    assert services.coordination_deem_confirmed(today=date(2026, 3, 5)) == 0  # the 10th working day itself
    assert services.daily(today=date(2026, 3, 6)) == {"assist_rolled": 0, "coordination_deemed_confirmed": 1}
    coordination.refresh_from_db()
    assert coordination.status == Coordination.Status.DEEMED_CONFIRMED
    assert coordination.confirmed_on == date(2026, 3, 5) and coordination.confirmed_by is None
    assert "视同确认" in coordination.history.first().history_change_reason
    assert entries_for(coordination).filter(username="system", to_state="deemed_confirmed").exists()


def test_first_responder_marks_the_real_problem_type_and_the_limit_follows(raise_coordination, clerk, clerk_wuxi):
    coordination = raise_coordination(kind="other")  # received 2026-03-02, due 03-16
    with pytest.raises(DomainError, match="第一响应人"):
        services.coordination_reclassify(coordination=coordination, by=clerk, kind="system")
    services.coordination_reclassify(coordination=coordination, by=clerk_wuxi, kind="system")
    coordination.refresh_from_db()
    assert coordination.kind == "system" and coordination.reply_due == date(2026, 3, 3)
    assert entries_for(coordination).filter(message__contains="其他 → 系统故障类").exists()
