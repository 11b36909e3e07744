from __future__ import annotations

from datetime import date

import pytest

from core.tests.factories import region
from reimbursement.tests.factories import beijing_hospital, make_policy, person_nanjing


@pytest.fixture
def policy(db):
    """南京's policy, in force since 2024 (ratio reductions)."""
    return make_policy("320100", date(2024, 1, 1))


@pytest.fixture
def person(db):
    return person_nanjing(name="张三", insurance_type="310")


@pytest.fixture
def hospital(db):
    return beijing_hospital()


@pytest.fixture
def long_term_filing(person):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    return FilingFactory(
        insured_person=person,
        person_type=PersonType.LONG_TERM_RESIDENT,
        destination=region("110000"),
        start_date=date(2025, 6, 1),
        applied_on=date(2025, 6, 1),
    )


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what a service queued on commit (jobs dispatch after commit; tests run them synchronously)."""

    class Runner:
        def __enter__(self):
            self._ctx = django_capture_on_commit_callbacks(execute=True)
            return self._ctx.__enter__()

        def __exit__(self, *exc):
            return self._ctx.__exit__(*exc)

    return Runner
