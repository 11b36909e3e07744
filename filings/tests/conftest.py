from __future__ import annotations

from datetime import date

import pytest

from core.models import AuditLog, InsuredPerson
from core.tests.factories import InsuredPersonFactory, region
from filings.materials import sufficient_materials
from filings.models import Filing
from filings.services import FilingData

TODAY = date(2026, 3, 16)  # a Monday


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def person(db):
    return InsuredPersonFactory(name="钱玉兰", phone="13951700001")


@pytest.fixture
def make_data():
    def make(person_type="long_term_resident", destination="110000", start=TODAY, end=None, commitment=False,
             **extra):
        materials = extra.pop("materials", None)
        if materials is None:
            materials = sufficient_materials(person_type, commitment=commitment, by_proxy=extra.get("by_proxy", False))
        return FilingData(
            person_type=person_type,
            destination=region(destination),
            start_date=start,
            end_date=end,
            materials=materials,
            **extra,
        )

    return make


@pytest.fixture
def nothing_written():
    """Counts of what a refused service must not have written."""

    def snapshot():
        return (
            Filing.objects.count(),
            AuditLog.objects.count(),
            InsuredPerson.objects.count(),
            list(Filing.objects.order_by("pk").values_list("pk", "status", "upload_status", "terminated_on")),
        )

    class Guard:
        def __enter__(self):
            self.before = snapshot()
            return self

        def __exit__(self, *exc):
            assert snapshot() == self.before, "a refused operation wrote something"
            return False

    return Guard


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Background jobs start on commit; in a test transaction, run them when the block ends."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner
