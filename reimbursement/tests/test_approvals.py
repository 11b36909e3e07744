"""Batch approval: several checked claims approved in one step, each still four-eyes."""

import pytest
from django.urls import reverse

from core.models import Role
from reimbursement import services
from reimbursement.models import Claim
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

pytestmark = pytest.mark.django_db


def _submitted(by, person, hospital, invoice):
    claim = services.claim_create(by=by, person=person, details=inpatient_details(hospital, invoice_numbers=invoice),
                                  ticked=ALL_INPATIENT_TICKS)
    services.claim_calculate(claim=claim, by=by)
    return services.claim_submit(claim=claim, by=by)


@pytest.fixture
def queue(policy, person, hospital, long_term_filing, clerk, make_staff):
    from core.tests.factories import AgencyFactory, UserFactory, region

    both = UserFactory(username="clerk_and_supervisor", agency=AgencyFactory(region=region("320100")),
                       roles=[Role.CLERK, Role.SUPERVISOR])
    # Three people: one person's claims would change each other's yearly deductible on approval.
    people = [person, *(_filed_person(name) for name in ("李四", "王五"))]
    return both, [_submitted(clerk, people[0], hospital, "A-1"), _submitted(clerk, people[1], hospital, "A-2"),
                  _submitted(both, people[2], hospital, "A-3")]


def _filed_person(name):
    from datetime import date

    from core.tests.factories import region
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory
    from reimbursement.tests.factories import person_nanjing

    someone = person_nanjing(name=name, insurance_type="310")
    FilingFactory(insured_person=someone, person_type=PersonType.LONG_TERM_RESIDENT, destination=region("110000"),
                  start_date=date(2025, 6, 1), applied_on=date(2025, 6, 1))
    return someone


def test_a_supervisor_approves_several_claims_in_one_step(client, queue, supervisor):
    _, claims = queue
    client.force_login(supervisor)
    data = {"claim": [c.pk for c in claims[:2]], **{f"expected_{c.pk}": str(c.fund_payment) for c in claims[:2]}}
    response = client.post(reverse("reimbursement:approvals"), data)
    assert response.status_code == 302
    assert list(Claim.objects.filter(pk__in=[c.pk for c in claims[:2]]).values_list("status", flat=True)) == ["approved"] * 2
    assert Claim.objects.get(pk=claims[2].pk).status == Claim.Status.SUBMITTED


def test_own_claims_are_shown_disabled_with_the_reason_and_refused_if_posted(client, queue):
    both, claims = queue
    client.force_login(both)
    page = client.get(reverse("reimbursement:approvals")).content.decode()
    assert f'data-blocked="{claims[2].number}"' in page and "本人受理的申请，须由其他审核人员审批" in page
    assert f'name="claim" value="{claims[2].pk}"' not in page
    response = client.post(reverse("reimbursement:approvals"), {"claim": [claims[0].pk, claims[2].pk]}, follow=True)
    text = response.content.decode()
    assert "已审批通过 1 笔" in text and claims[2].number in text and "不能审批自己受理的申请" in text
    assert Claim.objects.get(pk=claims[2].pk).status == Claim.Status.SUBMITTED


def test_a_stale_figure_on_the_page_is_refused_for_that_claim_only(client, queue, supervisor):
    _, claims = queue
    client.force_login(supervisor)
    data = {"claim": [claims[0].pk, claims[1].pk], f"expected_{claims[0].pk}": "1.00",
            f"expected_{claims[1].pk}": str(claims[1].fund_payment)}
    text = client.post(reverse("reimbursement:approvals"), data, follow=True).content.decode()
    assert "请刷新页面核对后再审批" in text
    assert Claim.objects.get(pk=claims[0].pk).status == Claim.Status.SUBMITTED
    assert Claim.objects.get(pk=claims[1].pk).status == Claim.Status.APPROVED


def test_another_regions_claims_are_neither_listed_nor_approved(client, queue, supervisor_wuxi):
    _, claims = queue
    client.force_login(supervisor_wuxi)
    assert claims[0].number not in client.get(reverse("reimbursement:approvals")).content.decode()
    client.post(reverse("reimbursement:approvals"), {"claim": [claims[0].pk]})
    assert Claim.objects.get(pk=claims[0].pk).status == Claim.Status.SUBMITTED


def test_the_queue_keeps_a_constant_number_of_queries(client, queue, supervisor, django_assert_max_num_queries):
    client.force_login(supervisor)
    with django_assert_max_num_queries(15):
        client.get(reverse("reimbursement:approvals"))
