"""Two clerks at once, on PostgreSQL (row locks): one wins, the other gets a clear message."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from core.errors import DomainError
from core.models import Role
from core.tests.factories import InsuredPersonFactory, region
from filings.materials import sufficient_materials
from filings.models import Filing, UploadStatus
from filings.services import FilingData, filing_approve, filing_register, filing_submit_online, upload_export

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("transactional_db")]

TODAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL row locks (set DATABASE_URL)")


def run_together(*callables):
    barrier = threading.Barrier(len(callables))
    results: list = [None] * len(callables)

    def worker(index, func):
        try:
            barrier.wait()
            results[index] = func()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def data(destination):
    return FilingData(person_type="long_term_resident", destination=region(destination), start_date=TODAY,
                      materials=sufficient_materials("long_term_resident"))


def test_two_clerks_filing_the_same_person_for_the_same_place(make_staff):
    first = make_staff("clerk_a", Role.CLERK)
    second = make_staff("clerk_b", Role.CLERK)
    person = InsuredPersonFactory()
    one, two = data("110000"), data("110000")
    results = run_together(
        lambda: filing_register(person=person, data=one, by=first, today=TODAY),
        lambda: filing_register(person=person, data=two, by=second, today=TODAY),
    )
    wins = [r for r in results if isinstance(r, Filing)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert wins[0].number in losses[0].message and "重叠" in losses[0].message
    assert Filing.objects.filter(insured_person=person).count() == 1


def test_two_supervisors_approving_at_once(make_staff):
    clerk = make_staff("clerk_a", Role.CLERK)
    supervisors = [make_staff("sup_a", Role.SUPERVISOR), make_staff("sup_b", Role.SUPERVISOR)]
    person = InsuredPersonFactory()
    filing = filing_submit_online(person=person, data=data("110000"), online_reference="WS-RACE",
                                  applied_on=TODAY, by=clerk, today=TODAY)
    results = run_together(*(lambda s=s: filing_approve(filing=filing, by=s, today=TODAY) for s in supervisors))
    wins = [r for r in results if isinstance(r, Filing)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "无需再审核" in losses[0].message
    assert Filing.objects.get(pk=filing.pk).reviewed_by == wins[0].reviewed_by


def test_two_exports_never_upload_a_filing_twice(make_staff):
    clerks = [make_staff("clerk_a", Role.CLERK), make_staff("clerk_b", Role.CLERK)]
    for destination in ("110000", "310000", "440100", "510100"):
        filing_register(person=InsuredPersonFactory(), data=data(destination), by=clerks[0], today=TODAY)
    results = run_together(*(lambda c=c: upload_export(by=c) for c in clerks))
    batches = [batch for r in results if not isinstance(r, Exception) for batch in r]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert sum(batch.total for batch in batches) == 4
    assert all("没有待上传" in r.message for r in refused)
    assert not Filing.objects.filter(upload_status=UploadStatus.PENDING).exists()


def test_double_submit_of_a_new_person_files_once_and_explains_the_other(make_staff):
    """A clerk double-clicks “确认备案” for a person not registered yet: both requests try
    to register the person; one filing results and the other request gets a clear page."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from core.idcard import build_id_number
    from core.models import InsuredPerson

    clerk = make_staff("clerk_a", Role.CLERK)
    number = build_id_number("320104", date(1957, 4, 8), 35)
    post = {
        "id_number": number, "name": "孙玉珍", "insurance_type": "310", "phone": "13851234567",
        "person_type": "long_term_resident", "destination": "110000",
        "start_date": timezone.localdate().isoformat(), "materials": ["id_card", "residence_proof"],
    }
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(clerk)
    responses = run_together(*(lambda c=c: c.post(reverse("filings:new"), post) for c in clients))
    assert not any(isinstance(r, Exception) for r in responses), responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 302], codes
    refused = next(r for r in responses if r.status_code == 200).content.decode()
    filing = Filing.objects.get()
    assert filing.number in refused and "重叠" in refused
    assert InsuredPerson.objects.with_id_number(number).count() == 1
