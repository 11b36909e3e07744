"""The hot list queries have an index matching their filter and sort (scale): with sequential
scans switched off, PostgreSQL plans the first page without a Sort node. SQLite skips."""

import pytest
from django.db import connection

from core.models import Role
from core.tests.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")


def _first_page(name: str, user):
    from core.models import Document, Job
    from filings.selectors import filing_list
    from reimbursement.selectors import claim_list

    return {
        "claims": lambda: claim_list(user=user).order_by("-intake_at", "-pk")[:25],
        "filings": lambda: filing_list(user=user).order_by("-created_at", "-pk")[:25],
        "documents": lambda: Document.objects.for_user(user).filter(region_id=user.region_code)[:30],
        "jobs": lambda: Job.objects.for_user(user)[:25],
    }[name]()


@pytest.mark.parametrize(("name", "index"), [("claims", "claim_region_newest"), ("filings", "filing_region_newest"),
                                             ("documents", "document_region_newest")])
def test_a_citys_first_page_is_read_in_index_order(name, index):
    user = make_user("clerk_plan", Role.CLERK, "320100")
    text = plan(_first_page(name, user))
    assert index in text and "Sort" not in text, text


def test_a_users_jobs_use_the_region_index():
    # Jobs are the user's own or their region's: a BitmapOr of two index scans, then a small sort.
    text = plan(_first_page("jobs", make_user("clerk_plan", Role.CLERK, "320100")))
    assert "job_region_newest" in text, text
