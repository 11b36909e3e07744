"""Home figures kept in the cache (core.figures.kept_figures): read again only once a row they count
changes in the user's region, or after YIDI_HOME_FIGURES_TTL seconds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.figures import figures_changed
from core.models import Role
from core.tests.factories import make_user
from reimbursement import services
from reimbursement.models import Claim
from reimbursement.tests.test_views import make_claims


def tile(page: str, label: str) -> str:
    return page[page.index(label):][:120]


def counted(client) -> tuple[str, int]:
    """The clerk's home page, and how many of its queries counted claims for the figures."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    return page, sum('AS "incomplete"' in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def kept(settings):
    settings.YIDI_HOME_FIGURES_TTL = 60


def test_figures_are_kept_until_a_claim_of_the_region_changes(client, kept, policy, hospital, clerk,
                                                                django_capture_on_commit_callbacks):
    make_claims(3, clerk, hospital)  # 2 incomplete, 1 accepted
    client.force_login(clerk)
    page, counts = counted(client)
    assert counts == 1 and '<div class="display-6 text-primary">1</div>' in tile(page, "审核中")
    page, counts = counted(client)
    assert counts == 0 and '<div class="display-6 text-primary">1</div>' in tile(page, "审核中")  # kept
    with django_capture_on_commit_callbacks(execute=True):
        make_claims(1, clerk, hospital)  # a second accepted claim: saved, so the figures are stale
    page, counts = counted(client)
    assert counts == 1 and '<div class="display-6 text-primary">2</div>' in tile(page, "审核中")


def test_a_change_elsewhere_keeps_this_regions_figures_but_not_the_provinces(client, kept, policy, hospital, clerk,
                                                                               django_capture_on_commit_callbacks):
    province = make_user("province_clerk", Role.CLERK, "320000")
    make_claims(1, clerk, hospital)
    client.force_login(clerk)
    counted(client)
    client.force_login(province)
    counted(client)
    with django_capture_on_commit_callbacks(execute=True):
        figures_changed("reimbursement", "320200")  # 无锡
    assert counted(client)[1] == 1  # the province's figures include 无锡's
    client.force_login(clerk)
    assert counted(client)[1] == 0  # 南京's did not change


def test_a_bulk_update_of_the_services_marks_the_figures_stale(client, kept, policy, hospital, clerk, finance,
                                                                django_capture_on_commit_callbacks):
    make_claims(2, clerk, hospital)
    claim = Claim.objects.get(status=Claim.Status.ACCEPTED)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.APPROVED, fund_payment="100.00")
    client.force_login(finance)
    page = client.get(reverse("home")).content.decode()
    assert '<div class="display-6 text-primary">1</div>' in tile(page, "待出付款通知")
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_batch_create(by=finance, claims=[claim])  # one bulk UPDATE, no save signals
    page = client.get(reverse("home")).content.decode()
    assert '<div class="display-6 text-primary">0</div>' in tile(page, "待出付款通知")


def test_without_a_shared_cache_the_figures_are_counted_every_time(client, settings, policy, hospital, clerk):
    settings.YIDI_HOME_FIGURES_TTL = 0
    make_claims(1, clerk, hospital)
    client.force_login(clerk)
    assert counted(client)[1] == 1
    assert counted(client)[1] == 1


def test_filing_figures_follow_a_saved_filing(client, kept, clerk, django_capture_on_commit_callbacks):
    from filings.models import Filing
    from filings.tests.factories import FilingFactory

    client.force_login(clerk)
    assert '<div class="display-6 text-primary">0</div>' in tile(client.get(reverse("home")).content.decode(), "有效备案")
    with django_capture_on_commit_callbacks(execute=True):
        FilingFactory(status=Filing.Status.ACTIVE)  # of 南京, the factory's default region
    assert '<div class="display-6 text-primary">1</div>' in tile(client.get(reverse("home")).content.decode(), "有效备案")


def test_the_payments_and_approvals_totals_are_kept_until_a_claim_changes(client, kept, policy, hospital, clerk, finance,
                                                                          supervisor, django_capture_on_commit_callbacks):
    from decimal import Decimal

    from django.db.models import F
    from django.utils import timezone

    make_claims(3, clerk, hospital)
    ids = list(Claim.objects.order_by("pk").values_list("pk", flat=True))
    Claim.objects.filter(pk__in=ids).update(status=Claim.Status.APPROVED, fund_payment=Decimal("100.00"),
                                            personal_payment=F("total_amount") - Decimal("100.00"), decided_at=timezone.now())

    def payments():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("reimbursement:payments"))
        return response.context["approved_count"], response.context["approved_total"], sum(
            'SUM("reimbursement_claim"."fund_payment")' in query["sql"] for query in queries.captured_queries)

    def approvals():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("reimbursement:approvals"))
        return response.context["page"].paginator.count, sum(
            query["sql"].startswith('SELECT COUNT(*)') for query in queries.captured_queries)

    client.force_login(finance)
    assert payments() == (3, Decimal("300.00"), 1)
    assert payments() == (3, Decimal("300.00"), 0)  # kept
    client.force_login(supervisor)
    assert approvals() == (0, 1)
    assert approvals() == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        claim = Claim.objects.get(pk=ids[0])
        claim.status = Claim.Status.SUBMITTED
        claim.save(update_fields=["status"])
    assert approvals() == (1, 1)
    client.force_login(finance)
    assert payments() == (2, Decimal("200.00"), 1)
