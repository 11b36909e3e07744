"""A whole ID number is looked up through the person's unique index, with no LIKE scan beside it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Role
from core.tests.factories import make_user
from filings.selectors import filing_search
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


def test_a_whole_id_number_finds_the_persons_filings_without_a_scan():
    person_filing = FilingFactory()
    FilingFactory(insured_region=person_filing.insured_region)  # someone else's
    user = make_user("clerk_search", Role.CLERK, person_filing.insured_region_id)
    with CaptureQueriesContext(connection) as queries:
        found = list(filing_search(user=user, query=person_filing.insured_person.id_number))
    assert found == [person_filing]
    (sql,) = [q["sql"] for q in queries.captured_queries if "filings_filing" in q["sql"]]
    assert '"id_number_hash" =' in sql and "LIKE" not in sql.upper(), sql
