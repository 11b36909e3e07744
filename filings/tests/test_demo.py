"""seed_demo's filings: every person type, channel and status for 南京 and 无锡, idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from filings.models import Channel, Filing, PersonType, UploadBatch
from filings.selectors import FilingStatus, filing_check

pytestmark = pytest.mark.django_db


def test_seed_demo_covers_every_type_channel_and_status_and_is_idempotent():
    call_command("seed_demo", "--quiet")
    first = Filing.objects.count()
    batches = UploadBatch.objects.count()
    call_command("seed_demo", "--quiet")
    assert Filing.objects.count() == first and UploadBatch.objects.count() == batches
    for city in ("320100", "320200"):
        filings = Filing.objects.filter(insured_region_id=city)
        # Every type but 异地急诊抢救人员: emergency is deemed filed, no filing is made for it.
        assert set(filings.values_list("person_type", flat=True)) == set(PersonType.values) - {"emergency"}, city
        assert set(filings.values_list("channel", flat=True)) == set(Channel.values), city
        assert set(filings.values_list("status", flat=True)) == set(Filing.Status.values), city
    # The demo also shows the lists' warnings.
    assert Filing.objects.filter(basis="commitment", materials_completed_on=None).count() >= 3
    assert Filing.objects.filter(manual_reimbursement_eligible=True).exists()
    # A late 补办 whose validity had run out: expired, waiting to go up as a 补录.
    backfill = Filing.objects.get(upload_action="backfill")
    assert (backfill.status, backfill.upload_status, backfill.retroactive) == ("expired", "pending", True)
    assert Filing.objects.filter(multi_place=True).count() == 2
    assert UploadBatch.objects.exclude(document=None).count() == batches
    # The demo's history is consistent: nothing was uploaded before it was filed.
    from django.db.models import F

    assert not Filing.objects.filter(uploaded_at__lt=F("created_at")).exists()


def test_demo_filings_answer_the_reimbursement_query():
    call_command("seed_demo", "--quiet")
    retro = Filing.objects.get(manual_reimbursement_eligible=True, destination_id="510100")
    result = filing_check(person=retro.insured_person, on_date=retro.discharge_date,
                          admission_date=retro.admission_date, treatment_region=retro.destination)
    assert result.status == FilingStatus.LATE_FILED and result.filing == retro
