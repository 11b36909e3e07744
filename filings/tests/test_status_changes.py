"""A long-term filing ends when the person's 参保状态 changes (江苏 第十条), by the daily job."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import DomainError
from core.models import AuditLog
from core.services import insured_person_set_status
from core.tests.factories import InsuredPersonFactory
from filings.models import Filing, UploadAction, UploadStatus
from filings.services import filing_register
from filings.status_changes import filings_end_on_status_change
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def test_a_status_change_ends_the_long_term_filing_and_history_says_why(make_data, clerk):
    person = InsuredPersonFactory(name="钱玉兰")
    long_term = filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    temporary = filing_register(person=person, data=make_data(person_type="other_temporary", destination="330000"),
                                by=clerk, today=TODAY)
    Filing.objects.filter(pk=long_term.pk).update(upload_status=UploadStatus.UPLOADED)
    insured_person_set_status(person=person, status="terminated", effective_on=date(2026, 5, 1), by=clerk)

    assert filings_end_on_status_change(today=date(2026, 4, 30)) == 0  # the change is not in force yet
    assert filings_end_on_status_change(today=date(2026, 5, 1)) == 1
    long_term.refresh_from_db()
    assert long_term.status == Filing.Status.CANCELLED
    assert long_term.terminated_on == date(2026, 4, 30)
    assert (long_term.upload_status, long_term.upload_action) == (UploadStatus.PENDING, UploadAction.CANCEL)
    assert "参保状态于 2026-05-01 变更为“终止参保”" in long_term.history.first().history_change_reason
    log = AuditLog.objects.get(object_id=str(long_term.pk), to_state="cancelled")
    assert "第十条" in log.message and log.username == "system"
    temporary.refresh_from_db()
    assert temporary.status == Filing.Status.ACTIVE  # temporary filings run to their end date
    assert filings_end_on_status_change(today=date(2026, 5, 2)) == 0


def test_a_status_change_before_the_filing_was_made_does_not_end_it(make_data, clerk):
    person = InsuredPersonFactory(name="孙志刚")
    insured_person_set_status(person=person, status="suspended", effective_on=date(2026, 1, 5), by=clerk)
    filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    assert filings_end_on_status_change(today=TODAY) == 0


def test_setting_the_same_status_again_is_refused(clerk):
    person = InsuredPersonFactory(name="周红")
    with pytest.raises(DomainError, match="已是“参保缴费”"):
        insured_person_set_status(person=person, status="insured", effective_on=TODAY, by=clerk)
    person.refresh_from_db()
    assert person.insurance_status_since is None
