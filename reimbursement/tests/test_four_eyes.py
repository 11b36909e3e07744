"""Four eyes on every supervisor action, and no other region's case named in a refusal
(issue 14, finding 6)."""

from datetime import date

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.models import AuditLog, Role
from core.roles import group_for
from core.tests.factories import InsuredPersonFactory, region
from reimbursement import services
from reimbursement.models import Claim
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details, make_policy

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 16)


@pytest.fixture
def clerk_and_supervisor(make_staff):
    user = make_staff("clerk_and_supervisor", Role.CLERK)
    user.groups.add(group_for(Role.SUPERVISOR))
    return user


@pytest.fixture
def own_claim(policy, person, hospital, long_term_filing, clerk_and_supervisor):
    return services.claim_create(by=clerk_and_supervisor, person=person, details=inpatient_details(hospital),
                                 ticked=set(ALL_INPATIENT_TICKS), today=TODAY)


def test_a_clerk_supervisor_cannot_mark_their_own_claim_special(own_claim, clerk_and_supervisor):
    before = AuditLog.objects.count()
    with pytest.raises(DomainError) as excinfo:
        services.claim_mark_special(claim=own_claim, by=clerk_and_supervisor, reason="需要外院会诊", today=TODAY)
    assert "不能将自己受理的申请认定为特殊情况" in excinfo.value.message
    own_claim.refresh_from_db()
    assert not own_claim.special and own_claim.special_by is None
    assert AuditLog.objects.count() == before


def test_the_special_page_says_so_and_changes_nothing(client, own_claim, clerk_and_supervisor):
    client.force_login(clerk_and_supervisor)
    response = client.post(reverse("reimbursement:claim_special", args=[own_claim.pk]), {"reason": "需要外院会诊"},
                           follow=True)
    assert "不能将自己受理的申请认定为特殊情况" in response.content.decode()
    assert not Claim.objects.get(pk=own_claim.pk).special


def test_another_supervisor_may_mark_it_special(own_claim, supervisor):
    claim = services.claim_mark_special(claim=own_claim, by=supervisor, reason="需要外院会诊", today=TODAY)
    assert claim.special and claim.special_by == supervisor


def test_every_supervisor_decision_refuses_the_intake_clerk(own_claim, clerk_and_supervisor):
    services.claim_calculate(claim=own_claim, by=clerk_and_supervisor)
    claim = services.claim_submit(claim=own_claim, by=clerk_and_supervisor)
    for decide in (
        lambda: services.claim_approve(claim=claim, by=clerk_and_supervisor),
        lambda: services.claim_reject(claim=claim, by=clerk_and_supervisor, reason="测试"),
        lambda: services.claim_return(claim=claim, by=clerk_and_supervisor, reason="测试"),
        lambda: services.claim_mark_special(claim=claim, by=clerk_and_supervisor, reason="测试", today=TODAY),
    ):
        with pytest.raises(DomainError) as excinfo:
            decide()
        assert excinfo.value.code == "four_eyes"
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and not claim.special


def test_a_duplicate_invoice_of_another_city_does_not_show_its_claim(policy, hospital, clerk, make_staff):
    make_policy("320200", date(2024, 1, 1))
    clerk_wuxi = make_staff("clerk_wx", Role.CLERK, "320200")
    from filings.tests.factories import FilingFactory

    wuxi_person = InsuredPersonFactory(insured_region=region("320200"), name="无锡参保人")
    FilingFactory(insured_person=wuxi_person, destination=region("110000"), start_date=date(2025, 6, 1),
                  applied_on=date(2025, 6, 1))
    wuxi_claim = services.claim_create(by=clerk_wuxi, person=wuxi_person, ticked=set(ALL_INPATIENT_TICKS),
                                       details=inpatient_details(hospital, invoice_numbers="PJ-SHARED-1"), today=TODAY)
    nanjing_person = InsuredPersonFactory(insured_region=region("320100"), name="南京参保人")
    FilingFactory(insured_person=nanjing_person, destination=region("110000"), start_date=date(2025, 6, 1),
                  applied_on=date(2025, 6, 1))
    with pytest.raises(DomainError) as excinfo:
        services.claim_create(by=clerk, person=nanjing_person, ticked=set(ALL_INPATIENT_TICKS),
                              details=inpatient_details(hospital, invoice_numbers="PJ-SHARED-1"), today=TODAY)
    message = excinfo.value.message
    assert "票据号码 PJ-SHARED-1 已在其他统筹区的报销申请中登记，不能重复报销" in message
    assert wuxi_claim.number not in message and wuxi_claim.get_status_display() not in message
    assert Claim.objects.count() == 1
