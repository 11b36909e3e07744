"""The hot list queries have an index matching their filter and sort (scale): with sequential
scans switched off, PostgreSQL plans the first page without a Sort node. SQLite skips."""

import pytest
from django.db import connection

from core.models import Role
from core.tests.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(queryset, *, sort: bool = True) -> str:
    """EXPLAIN with sequential scans off (and, with sort=False, sorts off too). The tables are tiny
    here, and their statistics are whatever earlier tests' committed rows left: switching off the
    alternatives asks whether an index can serve the query at all, whatever those statistics say.
    A query no index serves still shows its Seq Scan or Sort (off only means: avoid if possible)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sort:
            cursor.execute("SET LOCAL enable_sort = off")
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
    text = plan(_first_page(name, user), sort=False)
    assert index in text and "Sort" not in text, text


def test_a_users_jobs_use_the_region_index():
    # Jobs are the user's own or their region's: a BitmapOr of two index scans, then a small sort.
    text = plan(_first_page("jobs", make_user("clerk_plan", Role.CLERK, "320100")))
    # job_region_newest, or the region column's own index when the statistics make it look cheaper
    assert "Seq Scan" not in text and ("job_region_newest" in text or "core_job_region_id" in text), text


def _explain_all(run) -> list[str]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            if query["sql"].startswith("SELECT"):
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_the_home_figures_are_counts_of_index_ranges():
    """Every home figure of claims and filings is read from an index (most without the table):
    no scan of a city's claims or filings, whatever their number (scale)."""
    from filings.selectors import dashboard_counts as filing_counts
    from reimbursement.selectors import DeadlineWindow
    from reimbursement.selectors import dashboard_counts as claim_counts

    user = make_user("supervisor_plan", Role.SUPERVISOR, "320100")
    plans = _explain_all(lambda: (claim_counts(user=user, window=DeadlineWindow.for_today()), filing_counts(user=user)))
    text = "\n".join(plans)
    assert "reimbursement_claim" in text and "filings_filing" in text
    for table in ("reimbursement_claim", "filings_filing", "reimbursement_claimnotice"):
        assert f"Seq Scan on {table}" not in text, text
    for index in ("claim_returned", "claim_approved_amount", "claim_clock_due", "claim_decided", "claimnotice_delay",
                  "filing_review_due", "filing_upload_pending", "filing_commitment_due", "filing_active_end",
                  "filing_region_activated"):
        assert index in text, (index, text)
    assert text.count("Index Only Scan") >= 15, text


@pytest.mark.parametrize("text", ["李秀英", "李秀"])
def test_a_name_search_reads_the_name_trigram_index(text):
    """Claims and filings searched by a name look among names alone, through the persons the GIN
    trigram index on UPPER(name) finds (core migration 0016), not a scan of every person (scale)."""
    from core.search import persons_named
    from filings.selectors import filing_search
    from reimbursement.forms import ClaimFilter
    from reimbursement.selectors import DeadlineWindow, claim_list

    assert "core_insuredperson_name_trgm" in plan(persons_named(text)), plan(persons_named(text))
    user = make_user("clerk_plan", Role.CLERK, "320100")
    claims = ClaimFilter({"q": text}, queryset=claim_list(user=user), window=DeadlineWindow.for_today(), user=user).qs
    for queryset in (claims, filing_search(user=user, query=text)):
        sql = str(queryset.query)
        assert sql.count(" LIKE ") == 1 and 'WHERE UPPER(U0."name"::text) LIKE UPPER(' in sql, sql


def test_a_deep_page_reads_its_keys_from_the_sort_index_alone():
    """Past the first page the list reads only keys through the index of its sort (no Sort, no
    table), then its own rows by key (core.pagination, scale)."""
    from filings.selectors import filing_list
    from reimbursement.selectors import claim_list

    user = make_user("clerk_plan", Role.CLERK, "320100")
    for queryset, index in ((claim_list(user=user).order_by("-intake_at", "-pk"), "claim_region_newest"),
                            (filing_list(user=user).order_by("-created_at", "-pk"), "filing_region_newest")):
        text = plan(queryset.values_list("pk", flat=True)[5000:5025], sort=False)
        assert f"Index Only Scan using {index}" in text and "Sort" not in text, text


def test_number_fragments_have_trigram_indexes():
    """Claim, invoice and filing numbers searched by a fragment go through the GIN trigram index on
    the expression `icontains` compiles to (migrations reimbursement 0010, filings 0012)."""
    from filings.models import Filing
    from reimbursement.models import Claim

    for queryset, index in ((Claim.objects.filter(number__icontains="0249"), "claim_number_trgm"),
                            (Claim.objects.filter(invoice_numbers__icontains="NJ2026"), "claim_invoice_numbers_trgm"),
                            (Filing.objects.filter(number__icontains="0249"), "filing_number_trgm")):
        assert index in plan(queryset), plan(queryset)


@pytest.mark.parametrize("text", ["0249", "LX3201002026"])
def test_a_number_or_last_four_search_reads_each_kind_of_match_on_its_own(text):
    """The claims and filings search boxes OR claim, invoice and filing number fragments, names in
    Latin letters and the last four of an ID number. Each kind is read by a query of its own (each
    with its index, above), then the list's rows by key (core.search.rows_matching_any): never the
    OR in one query, which PostgreSQL runs as a walk of the city's list testing every row (scale)."""
    from django.test.utils import CaptureQueriesContext

    from filings.selectors import filing_search
    from reimbursement.forms import ClaimFilter
    from reimbursement.selectors import DeadlineWindow, claim_list

    user = make_user("clerk_plan", Role.CLERK, "320100")
    window = DeadlineWindow.for_today()
    for run, kinds in (
        (lambda: list(ClaimFilter({"q": text}, queryset=claim_list(user=user), window=window, user=user).qs[:25]),
         4 if text.isdigit() else 3),
        (lambda: list(filing_search(user=user, query=text)[:25]), 3 if text.isdigit() else 2),
    ):
        with CaptureQueriesContext(connection) as queries:
            run()
        sqls = [query["sql"] for query in queries.captured_queries
                if query["sql"].startswith(('SELECT "reimbursement_claim"', 'SELECT "filings_filing"'))]
        assert all(sql.count(" LIKE ") <= 1 and " OR " not in sql for sql in sqls), sqls
        assert len(sqls) == kinds, sqls  # one query per kind of match (nothing matched: no rows to read by key)
