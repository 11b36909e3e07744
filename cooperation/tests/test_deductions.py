"""A confirmed 核查有误 费用协查 result becomes a 违规费用扣款 in the clearing (江苏 第五十三条):
one service across both apps, its refusals, nothing half-written, and the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.http import Http404
from django.urls import reverse

from clearing import adjustments
from clearing import services as clearing_services
from clearing.models import ClearingAdjustment, ClearingPeriod, ClearingResult
from cooperation import services
from cooperation.models import AssistRequest
from cooperation.selectors import assist_findings_for_deduction
from core.audit import entries_for
from core.errors import DomainError
from core.models import AuditLog, Role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def open_march(tmp_path, clearing_officer):
    """2026-02 cleared and its notices issued (closed); 2026-03 has records and is still open.
    The February settlement S1 is the 3万+ stay in 无锡 the assist is raised from."""
    from clearing.tests.factories import Row, import_rows

    import_rows(tmp_path, [
        Row("S1", "320100", "320200", fund_amount="25000.00", total_amount="36820.50", insurance_type="390"),
        Row("S2", "320200", "320100", fund_amount="300.00"),
    ], name="feb.csv")
    february = clearing_services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-02"), by=clearing_officer)
    clearing_services.clearing_issue_notices(period=february, by=clearing_officer, stamp_date=date(2026, 3, 26))
    import_rows(tmp_path, [Row("M1", "320100", "320200", fund_amount="500.00", period="2026-03")], name="mar.csv")
    return ClearingPeriod.objects.get(period="2026-03")


@pytest.fixture
def finding(raise_assist, clerk, clerk_wuxi):
    """A confirmed 核查有误 result: 南京 asked, 无锡 found 1,200.00 irregular, 南京 confirmed."""

    def make(result="has_issue", confirm=True, **changes):
        assist = raise_assist(**changes)
        services.assist_answer(request=assist, by=clerk_wuxi, result=result,
                               finding="超标准收取床位费" if result == "has_issue" else "",
                               irregular_amount=D("1200.00") if result == "has_issue" else None, today=date(2026, 4, 1))
        if confirm:
            services.assist_confirm(request=assist, by=clerk, today=date(2026, 4, 2))
        assist.refresh_from_db()
        return assist

    return make


@pytest.fixture
def clearing_officer_suzhou(make_staff):
    return make_staff("clearing_sz", Role.CLEARING_OFFICER, "320500")


@pytest.fixture
def clearing_officer_nanjing(make_staff):
    return make_staff("clearing_nj", Role.CLEARING_OFFICER, "320100")


def assert_nothing_written(assist: AssistRequest) -> None:
    assist.refresh_from_db()
    assert not ClearingAdjustment.objects.exists()
    assert assist.deduction_reference == ""
    assert not AuditLog.objects.filter(message__contains="扣款").exists()


# --- The service ---------------------------------------------------------------------------------


def test_confirmed_finding_becomes_a_deduction_against_the_insured_region_article_53(
    open_march, finding, clearing_officer
):
    """第五十三条: the irregular costs reduce the insured region's settlement costs in the next open month."""
    assist = finding()
    deduction = services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)

    assert deduction.kind == ClearingAdjustment.Kind.DEDUCTION and deduction.amount == D("1200.00")
    assert (deduction.insured_region, deduction.treatment_region, deduction.insurance_type) == ("320100", "320200", "310")
    assert deduction.period == open_march  # February's notices are issued: it is never edited
    assert deduction.source_ref == assist.number and deduction.basis == "费用协查核查有误：超标准收取床位费"
    assert deduction.happened_on == date(2026, 4, 2) and deduction.created_by == clearing_officer
    assist.refresh_from_db()
    assert assist.deduction_reference == f"违规费用扣款 #{deduction.pk}，计入2026-03清算"
    assert not assist_findings_for_deduction().exists()
    assert entries_for(assist).filter(user=clearing_officer, message__contains="已登记扣款").exists()
    assert entries_for(deduction).filter(user=clearing_officer).exists()
    assert assist.history.first().deduction_reference == assist.deduction_reference


def test_deduction_of_a_settlement_assist_takes_the_settlement_and_its_insurance_type(
    open_march, finding, clearing_officer
):
    assist = finding(source="settlement", settlement_id="S1")
    deduction = services.assist_deduct(request=assist, amount="1200.00", by=clearing_officer)
    assert (deduction.settlement_id, deduction.original_period, deduction.insurance_type) == ("S1", "2026-02", "390")
    assert deduction.period == open_march


def test_deduction_with_another_insurance_type_than_the_settlements_is_refused(open_march, finding, clearing_officer):
    assist = finding(source="settlement", settlement_id="S1")
    with pytest.raises(DomainError, match="险种类型与结算流水号 S1 的险种（城乡居民基本医疗保险）不一致"):
        services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    assert_nothing_written(assist)


@pytest.mark.parametrize(("amount", "insurance_type", "message"), [
    ("0", "310", "扣款金额必须大于零"),
    ("-5.00", "310", "扣款金额必须大于零"),
    ("", "310", "请填写扣款金额"),
    ("一千", "310", "扣款金额“一千”不是有效的数字"),
    ("12.345", "310", "扣款金额最多两位小数"),
    ("36820.51", "310", "扣款金额 36,820.51 元超过该次住院的费用总额 36,820.50 元"),
    ("100.00", "", "请选择险种类型"),
])
def test_bad_amount_or_insurance_type_is_refused_and_writes_nothing(
    open_march, finding, clearing_officer, amount, insurance_type, message
):
    assist = finding()
    with pytest.raises(DomainError) as refused:
        services.assist_deduct(request=assist, amount=amount, insurance_type=insurance_type, by=clearing_officer)
    assert message in refused.value.message
    assert_nothing_written(assist)


def test_whole_total_may_be_deducted(open_march, finding, clearing_officer):
    assist = finding()
    assert services.assist_deduct(request=assist, amount="36820.50", insurance_type="310",
                                  by=clearing_officer).amount == D("36820.50")


def test_second_deduction_of_the_same_result_is_refused(open_march, finding, clearing_officer):
    assist = finding()
    services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    with pytest.raises(DomainError, match="已登记扣款（违规费用扣款 #.*），不能重复扣款"):
        services.assist_deduct(request=assist, amount="100.00", insurance_type="310", by=clearing_officer)
    assert ClearingAdjustment.objects.count() == 1


def test_unconfirmed_result_cannot_be_deducted(open_march, finding, clearing_officer):
    assist = finding(confirm=False)
    with pytest.raises(DomainError, match="当前为“待确认”：参保地确认协查结果后才能登记扣款"):
        services.assist_deduct(request=assist, amount="100.00", insurance_type="310", by=clearing_officer)
    assert_nothing_written(assist)


def test_no_issue_result_cannot_be_deducted(open_march, finding, clearing_officer):
    assist = finding(result="no_issue")
    with pytest.raises(DomainError, match="协查结果为“核查无误”，没有可扣的违规费用"):
        services.assist_deduct(request=assist, amount="100.00", insurance_type="310", by=clearing_officer)
    assert_nothing_written(assist)


def test_insured_regions_own_staff_cannot_book_their_deduction(open_march, finding, supervisor, clearing_officer_nanjing):
    """The deduction reduces the insured region's own costs: the province books it (第五十三条)."""
    assist = finding()
    for user in (supervisor, clearing_officer_nanjing):
        with pytest.raises(DomainError, match="只有省级清算岗可以登记违规费用扣款"):
            services.assist_deduct(request=assist, amount="100.00", insurance_type="310", by=user)
    assert_nothing_written(assist)


def test_another_regions_request_is_not_found(open_march, finding, clearing_officer_suzhou):
    assist = finding()
    with pytest.raises(Http404):
        services.assist_deduct(request=assist, amount="100.00", insurance_type="310", by=clearing_officer_suzhou)
    assert_nothing_written(assist)


def test_failed_link_back_undoes_the_booked_deduction(open_march, finding, clearing_officer, monkeypatch):
    """Both apps in one transaction: when the write-back fails the clearing line goes too."""
    assist = finding()

    def refuse(**kwargs):
        raise DomainError("回写失败")

    monkeypatch.setattr(services, "assist_link_deduction", refuse)
    with pytest.raises(DomainError, match="回写失败"):
        services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    assert_nothing_written(assist)
    assert not open_march.adjustments.exists()


def test_refused_clearing_line_leaves_the_assist_unlinked(open_march, finding, clearing_officer):
    """Above the settlement's 基金支付 the clearing refuses: the assist stays open for a deduction."""
    assist = finding(source="settlement", settlement_id="S1")
    with pytest.raises(DomainError, match="超过该笔结算的基金支付 25,000.00 元"):
        services.assist_deduct(request=assist, amount="30000.00", by=clearing_officer)
    assert_nothing_written(assist)
    assert assist_findings_for_deduction().get() == assist


def test_deduction_appears_in_the_next_open_months_adjustments_and_clearing(open_march, finding, clearing_officer):
    assist = finding()
    deduction = services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    assert list(adjustments.period_adjustments(open_march)) == [deduction]
    assert adjustments.deduction_totals(period="2026-03") == {"320100": D("1200.00")}
    march = clearing_services.clearing_compute(period=open_march, by=clearing_officer)
    cell = ClearingResult.objects.get(period=march, insured_area="320100", treatment_area="320200")
    assert (cell.adjustment_employee, cell.adjustment_count) == (D("-1200.00"), 1)
    assert cell.employee_amount == D("500.00") - D("1200.00")  # March's own record less the deduction


# --- The pages -----------------------------------------------------------------------------------


def test_province_clearing_officer_books_the_deduction_from_the_assist_page(
    client, open_march, finding, clearing_officer
):
    assist = finding()
    url = reverse("cooperation:assist_detail", args=[assist.pk])
    client.force_login(clearing_officer)
    page = client.get(url).content.decode()
    assert 'id="deduction-form"' in page and 'value="1200.00"' in page  # pre-filled with the finding's amount

    response = client.post(reverse("cooperation:assist_deduct", args=[assist.pk]),
                           {"amount": "1200.00", "insurance_type": "310"}, follow=True)
    assert response.redirect_chain[-1][0] == url
    page = response.content.decode()
    assert "已登记违规费用扣款 1,200.00 元，计入2026年03月清算" in page
    assert 'id="assist-deduction"' in page and "1,200.00 元" in page
    assert reverse("clearing:period_detail", args=["2026-03"]) in page
    assert 'id="deduction-form"' not in page


def test_insured_regions_supervisor_sees_the_deduction_but_cannot_book_one(
    client, open_march, finding, supervisor, clearing_officer
):
    assist = finding()
    client.force_login(supervisor)
    assert 'id="deduction-form"' not in client.get(reverse("cooperation:assist_detail", args=[assist.pk])).content.decode()
    assert client.post(reverse("cooperation:assist_deduct", args=[assist.pk]),
                       {"amount": "100.00", "insurance_type": "310"}).status_code == 403
    services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    page = client.get(reverse("cooperation:assist_detail", args=[assist.pk])).content.decode()
    assert 'id="assist-deduction"' in page and "2026年03月清算" in page
    assert not ClearingAdjustment.objects.filter(created_by=supervisor).exists()


@pytest.mark.parametrize(("who", "status"), [("clerk", 403), ("clearing_officer_nanjing", 403),
                                             ("clearing_officer_suzhou", 404)])
def test_deduction_page_refuses_other_roles_and_hides_other_regions(
    client, open_march, finding, request, who, status
):
    assist = finding()
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("cooperation:assist_deduct", args=[assist.pk]),
                           {"amount": "100.00", "insurance_type": "310"})
    assert response.status_code == status
    assert_nothing_written(assist)


def test_bad_amount_on_the_page_is_shown_and_writes_nothing(client, open_march, finding, clearing_officer):
    assist = finding()
    client.force_login(clearing_officer)
    response = client.post(reverse("cooperation:assist_deduct", args=[assist.pk]),
                           {"amount": "40000.00", "insurance_type": "310"}, follow=True)
    assert "超过该次住院的费用总额 36,820.50 元" in response.content.decode()
    assert_nothing_written(assist)


def test_clearing_adjustments_list_links_back_to_the_assist(
    client, open_march, finding, clearing_officer, finance
):
    assist = finding()
    services.assist_deduct(request=assist, amount="1200.00", insurance_type="310", by=clearing_officer)
    link = reverse("cooperation:assist_detail", args=[assist.pk])
    client.force_login(clearing_officer)
    page = client.get(reverse("clearing:adjustment_list")).content.decode()
    assert f'href="{link}"' in page and assist.number in page
    client.force_login(finance)  # 南京 finance sees the line but does not open 协查 cases
    page = client.get(reverse("clearing:adjustment_list")).content.decode()
    assert assist.number in page and f'href="{link}"' not in page
