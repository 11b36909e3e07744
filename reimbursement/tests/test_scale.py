"""A big city's years of closed claims stay out of the home page's figures (scale)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reimbursement import services
from reimbursement.models import Claim
from reimbursement.selectors import DeadlineWindow, dashboard_counts
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

D = Decimal
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


def test_the_home_figures_are_one_query_and_count_what_the_lists_show(claim, clerk, supervisor, policy, hospital):
    from reimbursement.forms import ClaimFilter
    from reimbursement.models import ClaimNotice
    from reimbursement.selectors import claim_list

    window = DeadlineWindow.for_today()
    recent = window.today - timedelta(days=10)
    due = [
        services.claim_create(by=clerk, person=claim.person, ticked=ALL_INPATIENT_TICKS, details=inpatient_details(
            hospital, admission_date=recent - timedelta(days=5), discharge_date=recent, invoice_numbers=f"PJ90{n}"))
        for n in range(3)
    ]
    Claim.objects.filter(pk=due[0].pk).update(due_on=window.today - timedelta(days=3))  # overdue, not told
    Claim.objects.filter(pk=due[1].pk).update(due_on=window.today - timedelta(days=1))  # overdue, told twice
    Claim.objects.filter(pk=due[2].pk).update(due_on=window.today, return_reason="补正票据")  # due today, returned
    for _ in range(2):
        ClaimNotice.objects.create(claim=due[1], kind=ClaimNotice.Kind.DELAY, issued_on=window.today, issued_by=clerk)
    with CaptureQueriesContext(connection) as queries:
        counts = dashboard_counts(user=clerk, window=window)
    assert len(queries.captured_queries) == 1
    assert counts["overdue"] == 2 and counts["due_today"] == 1 and counts["needs_notice"] == 2
    assert counts["returned"] == 1 and counts["accepted"] == 4 and counts["approved_amount"] is None
    # each figure is the count of the list its tile links to
    for flag in ("overdue", "due_today", "due_soon", "needs_notice", "returned"):
        listed = ClaimFilter({"deadline": flag}, queryset=claim_list(user=clerk), window=window, user=clerk).qs
        assert counts[flag] == listed.count(), flag
    only = dashboard_counts(user=supervisor, window=window, only={"needs_notice"})
    assert only == {"overdue": 2, "due_today": 1, "due_soon": counts["due_soon"], "needs_notice": 2}


def test_a_whole_id_number_finds_the_persons_claims_through_the_unique_index_alone(claim, clerk, client):
    from django.urls import reverse

    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("reimbursement:claim_list"), {"q": claim.person.id_number}).content.decode()
    assert claim.number in page
    searches = [q["sql"] for q in queries.captured_queries if '"id_number_hash" =' in q["sql"]]
    assert searches and not any("LIKE" in sql.upper() for sql in searches), searches


def _approved(clerk, supervisor, person, hospital, index: int) -> Claim:
    recent = timezone.localdate() - timedelta(days=10)
    details = inpatient_details(hospital, admission_date=recent - timedelta(days=5), discharge_date=recent,
                                invoice_numbers=f"BJ-BATCH-{index}", total_amount=D("4000.00"), in_scope_amount=D("3000.00"),
                                class_b_self_pay=D("400.00"), over_limit_self_pay=D("200.00"), self_funded_amount=D("400.00"))
    claim = services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    return services.claim_approve(claim=claim, by=supervisor)


def test_a_payment_batch_is_created_in_the_same_number_of_queries_for_5_and_50_claims(
    policy, person, hospital, long_term_filing, clerk, supervisor, finance
):
    """Issue 15: it took ~8 queries per claim (61 for 5, 417 for 50: a save, its history row, a chained audit record)."""
    from django.contrib.contenttypes.models import ContentType

    from core import audit_chain
    from core.audit import entries_for
    from reimbursement.models import PaymentBatch

    claims = [_approved(clerk, supervisor, person, hospital, index) for index in range(56)]
    services.payment_batch_create(claims=[claims.pop()], by=finance)  # the year's payment counter exists from now on
    counts, batches = [], []
    for chosen in (claims[:5], claims[5:]):
        ContentType.objects.clear_cache()  # both runs start cold
        with CaptureQueriesContext(connection) as queries:
            batches.append(services.payment_batch_create(claims=chosen, by=finance))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    for batch, chosen in zip(batches, (claims[:5], claims[5:]), strict=True):
        batch = PaymentBatch.objects.get(pk=batch.pk)
        assert batch.claim_count == len(chosen) and batch.job_id
        assert batch.total_amount == sum(claim.fund_payment for claim in chosen)
        assert set(batch.claims.values_list("pk", flat=True)) == {claim.pk for claim in chosen}
        for claim in Claim.objects.filter(pk__in=[claim.pk for claim in chosen]):
            assert claim.status == Claim.Status.PAYMENT_NOTIFIED
            latest = claim.history.order_by("-history_id").first()
            assert latest.status == Claim.Status.PAYMENT_NOTIFIED and latest.payment_batch_id == batch.pk
            assert latest.history_type == "~" and latest.history_user_id == finance.pk
            entry = entries_for(claim).first()
            assert (entry.from_state, entry.to_state, entry.user_id) == (Claim.Status.APPROVED, claim.status, finance.pk)
            assert entry.message == f"列入付款通知 {batch.number}"
        assert entries_for(batch).get().message.startswith(f"付款通知 {len(chosen)} 笔")
    assert audit_chain.verify().ok


def test_a_deadline_filter_lists_the_most_urgent_first_and_marks_who_was_told(claim, clerk, hospital, client):
    from django.urls import reverse

    from reimbursement.models import ClaimNotice

    window = DeadlineWindow.for_today()
    recent = window.today - timedelta(days=10)
    made = [claim] + [
        services.claim_create(by=clerk, person=claim.person, ticked=ALL_INPATIENT_TICKS, details=inpatient_details(
            hospital, admission_date=recent - timedelta(days=5), discharge_date=recent, invoice_numbers=f"PJ91{n}"))
        for n in range(2)
    ]
    for claim_made, days in zip(made, (2, 5, 1), strict=True):  # intake order is not urgency order
        Claim.objects.filter(pk=claim_made.pk).update(due_on=window.today - timedelta(days=days))
    ClaimNotice.objects.create(claim=made[1], kind=ClaimNotice.Kind.DELAY, issued_on=window.today, issued_by=clerk)
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reimbursement:claim_list"), {"deadline": "overdue"})
    rows = list(response.context["page"])
    assert [row.pk for row in rows] == [made[1].pk, made[0].pk, made[2].pk]  # five, two, one day(s) overdue
    assert [row.has_delay_notice for row in rows] == [True, False, False]
    assert response.context["by_urgency"] and "按办理期限由近及远排列" in response.content.decode()
    unfiltered = client.get(reverse("reimbursement:claim_list"))
    assert [row.pk for row in unfiltered.context["page"]] == [made[2].pk, made[1].pk, made[0].pk]  # newest intake first
    assert not unfiltered.context["by_urgency"]
    # one query for the told-or-not of the page, whatever the number of rows
    Claim.objects.filter(pk__in=[made[0].pk, made[2].pk]).update(due_on=window.today + timedelta(days=30))
    with CaptureQueriesContext(connection) as fewer:
        assert len(client.get(reverse("reimbursement:claim_list"), {"deadline": "overdue"}).context["page"]) == 1
    assert len(fewer.captured_queries) == len(queries.captured_queries)
