"""seed_volume: volume stamped from cases the services made, with numbers, deadlines, related
rows, history and audit trails as the services leave them."""

import random
from datetime import date

import pytest
from django.core.management import call_command

from core.models import AuditLog, InsuredPerson
from core.tests.factories import region
from core.workdays import add_working_days
from filings.models import Filing
from filings.volume import stamp_filings
from reimbursement import services
from reimbursement.models import Claim, ClaimCounter
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details
from reimbursement.volume import stamp_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def prototypes(policy, person, hospital, long_term_filing, clerk, supervisor):
    accepted = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                     ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    incomplete = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital, invoice_numbers="X2"),
                                       ticked={"invoice"}, today=date(2026, 3, 16))
    Filing.objects.filter(pk=long_term_filing.pk).update(number="BA320100250601000001", online_reference="WS-PROTOTYPE")
    return accepted, incomplete


def test_stamped_filings_and_claims_look_like_the_services(prototypes, clerk):
    rng = random.Random(1)
    persons_before = InsuredPerson.objects.count()
    people = stamp_filings(region=region("320100"), count=30, by=clerk, rng=rng, chunk=7)
    assert len(people) == 30 and InsuredPerson.objects.count() == persons_before + 30
    stamped = Filing.objects.filter(insured_person_id__in=people)
    assert stamped.count() == 30
    for filing in stamped:
        assert filing.number == f"BA320100{filing.applied_on:%y%m%d}{filing.pk:06d}"
        assert filing.online_reference == f"WS{filing.number}"  # an online application's own, unique reference
        assert filing.history.count() == 1
    stamp_claims(region=region("320100"), count=40, person_ids=people, by=clerk, rng=rng, chunk=9)
    copies = Claim.objects.filter(person_id__in=people)
    assert copies.count() == 40
    assert ClaimCounter.objects.get(region_id="320100", year=2026).last == 42  # 2 by the services, 40 stamped
    numbers = set(copies.values_list("number", flat=True))
    assert len(numbers) == 40
    own_payees = 0
    for claim in copies.select_related("person").prefetch_related("materials", "notices"):
        assert claim.materials.count() >= 4 and claim.notices.count() == 1
        audit = AuditLog.objects.filter(object_id=str(claim.pk), content_type__model="claim").first()
        assert audit.object_repr == f"{claim.number} {claim.person.name}"  # the copy's own person, not the prototype's
        if claim.payee_name == claim.person.name:  # paid to the person: an account of their own
            assert claim.bank_account.startswith("6222") and len(claim.bank_account) == 19
            own_payees += 1
        if claim.complete_on:
            assert claim.due_on == add_working_days(claim.complete_on, claim.processing_days)
        assert AuditLog.objects.filter(object_id=str(claim.pk), content_type__model="claim").exists()
        assert claim.total_amount == claim.in_scope_amount + claim.class_b_self_pay + claim.over_limit_self_pay + claim.self_funded_amount
    assert own_payees > 20
    from core.audit_chain import verify

    assert verify().ok  # the stamped audit trail is chained like every other record


def test_the_command_refuses_nonsense_in_chinese():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="请用 --claims N"):
        call_command("seed_volume")
    with pytest.raises(CommandError, match="不能为负数"):
        call_command("seed_volume", "--claims", "-1")
