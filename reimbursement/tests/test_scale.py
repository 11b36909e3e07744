"""A big city's years of closed claims stay out of the home page's figures (scale)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reimbursement import services
from reimbursement.models import Claim
from reimbursement.selectors import DeadlineWindow, dashboard_counts
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(policy, person, hospital, long_term_filing, clerk):
    recent = timezone.localdate() - timedelta(days=10)
    details = inpatient_details(hospital, admission_date=recent - timedelta(days=5), discharge_date=recent)
    return services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)


def _close(claim, *, decided_days_ago: int, paid_days_ago: int | None):
    now = timezone.now()
    Claim.objects.filter(pk=claim.pk).update(
        status=Claim.Status.PAID, decided_at=now - timedelta(days=decided_days_ago),
        paid_on=None if paid_days_ago is None else timezone.localdate() - timedelta(days=paid_days_ago),
    )


def test_a_claim_decided_last_month_and_paid_this_month_counts_as_paid_this_month(claim, clerk):
    window = DeadlineWindow.for_today()
    if window.today.day < 2:
        pytest.skip("needs a day of this month before today")
    _close(claim, decided_days_ago=window.today.day + 5, paid_days_ago=0)
    counts = dashboard_counts(user=clerk, window=window)
    assert counts["paid_this_month"] == 1 and counts["decided_this_month"] == 0
    assert counts["paid_amount_this_month"] == Claim.objects.get(pk=claim.pk).fund_payment


def test_the_home_figures_read_only_open_claims_and_this_months_decisions_and_payments(claim, clerk):
    with CaptureQueriesContext(connection) as queries:
        dashboard_counts(user=clerk, window=DeadlineWindow.for_today())
    (sql,) = [q["sql"] for q in queries.captured_queries if "reimbursement_claim" in q["sql"]]
    where = sql.rsplit('FROM "reimbursement_claim" ', 1)[1]  # the main query's joins and WHERE
    assert '"decided_at" >=' in where and '"paid_on" >=' in where and '"status" IN' in where, where


def test_a_whole_id_number_finds_the_persons_claims_through_the_unique_index_alone(claim, clerk, client):
    from django.urls import reverse

    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("reimbursement:claim_list"), {"q": claim.person.id_number}).content.decode()
    assert claim.number in page
    searches = [q["sql"] for q in queries.captured_queries if '"id_number_hash" =' in q["sql"]]
    assert searches and not any("LIKE" in sql.upper() for sql in searches), searches
