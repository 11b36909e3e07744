"""Lists count up to a cap and read a deep page's rows by their keys (scale, issue 15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import InsuredPerson
from core.pagination import CappedPaginator
from core.tests.factories import InsuredPersonFactory, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    for n in range(7):
        InsuredPersonFactory(name=f"分页{n}", insured_region=region("320100"))
    return InsuredPerson.objects.filter(name__startswith="分页").select_related("insured_region").order_by("-name")


def test_the_count_stops_at_the_cap_and_so_do_the_pages(people):
    paginator = CappedPaginator(people, 2, cap=5)
    assert paginator.count == 5 and paginator.capped and paginator.num_pages == 3
    assert paginator.get_page(99).number == 3  # past the cap: the last page within it
    exact = CappedPaginator(people, 2, cap=7)
    assert exact.count == 7 and not exact.capped and exact.num_pages == 4


def test_a_deep_page_has_the_rows_and_order_of_a_plain_slice(people):
    expected = [person.name for person in people]
    paginator = CappedPaginator(people, 2)
    pages = [[person.name for person in paginator.page(n)] for n in paginator.page_range]
    assert sum(pages, []) == expected and pages[1] == expected[2:4]
    with CaptureQueriesContext(connection) as queries:
        rows = list(paginator.page(3))
    assert len(queries.captured_queries) == 2 and rows[0].insured_region.code == "320100"  # keys, then rows


def test_a_list_that_is_not_a_queryset_pages_as_before():
    paginator = CappedPaginator(list(range(5)), 2, cap=3)
    assert paginator.count == 5 and not paginator.capped and list(paginator.page(3)) == [4]


def test_a_capped_list_says_so(client, clerk, monkeypatch):
    from filings.tests.factories import FilingFactory

    for _ in range(3):
        FilingFactory()
    monkeypatch.setattr("core.pagination.LIST_COUNT_CAP", 2)
    client.force_login(clerk)
    page = client.get(reverse("filings:list")).content.decode()
    assert "共 2+ 条" in page
    monkeypatch.setattr("core.pagination.LIST_COUNT_CAP", 10)
    assert "共 3 条" in client.get(reverse("filings:list")).content.decode()
