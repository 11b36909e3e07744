"""The header's search: an ID number, a name, a filing or claim number finds the person, never
another region's; the person page shows filings and claims together."""

import pytest
from django.urls import reverse

from core.tests.factories import InsuredPersonFactory, region
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nanjing_person():
    return InsuredPersonFactory(name="王小明", insured_region=region("320100"))


def test_an_id_number_opens_the_person_page(client, clerk, nanjing_person):
    client.force_login(clerk)
    response = client.get(reverse("search"), {"q": nanjing_person.id_number})
    assert response.status_code == 302 and response.url == reverse("person_detail", args=[nanjing_person.pk])


def test_full_width_digits_are_read_as_digits(client, clerk, nanjing_person):
    client.force_login(clerk)
    wide = nanjing_person.id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert client.get(reverse("search"), {"q": wide}).status_code == 302


def test_a_wrong_check_character_says_which(client, clerk, nanjing_person):
    client.force_login(clerk)
    bad = nanjing_person.id_number[:17] + ("0" if nanjing_person.id_number[17] != "0" else "1")
    page = client.get(reverse("search"), {"q": bad}).content.decode()
    assert 'id="search-problem"' in page and "校验" in page


def test_a_filing_number_finds_the_person_and_the_page_shows_filings(client, clerk, nanjing_person):
    filing = FilingFactory(insured_person=nanjing_person)
    client.force_login(clerk)
    response = client.get(reverse("search"), {"q": filing.number.lower()})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert filing.number in page and "异地就医备案" in page and "零星报销" in page


def test_a_name_lists_the_regions_people(client, clerk, nanjing_person):
    InsuredPersonFactory(name="王小明", insured_region=region("320100"))
    client.force_login(clerk)
    page = client.get(reverse("search"), {"q": "王小明"}).content.decode()
    assert page.count("王小明</a>") == 2


def test_another_regions_person_is_not_found_by_any_key(client, clerk_wuxi, nanjing_person):
    filing = FilingFactory(insured_person=nanjing_person)
    client.force_login(clerk_wuxi)
    for query in (nanjing_person.id_number, "王小明", filing.number):
        page = client.get(reverse("search"), {"q": query}).content.decode()
        assert 'id="search-empty"' in page and nanjing_person.masked_id_number not in page
    assert client.get(reverse("person_detail", args=[nanjing_person.pk])).status_code == 404


def test_the_search_box_is_in_the_header_for_counter_staff_only(client, clerk, make_staff):
    from core.models import Role

    client.force_login(clerk)
    assert 'id="global-search"' in client.get(reverse("home")).content.decode()
    client.force_login(make_staff("clearing_x", Role.CLEARING_OFFICER, "320000"))
    assert 'id="global-search"' not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("search"), {"q": "王"}).status_code == 403


def test_the_person_page_keeps_a_constant_number_of_queries(client, clerk, nanjing_person, django_assert_max_num_queries):
    for _ in range(5):
        FilingFactory(insured_person=nanjing_person)
    client.force_login(clerk)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("person_detail", args=[nanjing_person.pk])).status_code == 200



def test_the_person_page_lists_the_persons_audit_assists(client, clerk, clerk_wuxi, nanjing_person):
    from datetime import date
    from decimal import Decimal

    from cooperation import services

    assist = services.assist_create(
        by=clerk, today=date(2026, 3, 16), treatment_region=region("320200"), id_number=nanjing_person.id_number,
        name=nanjing_person.name, sex=nanjing_person.sex, institution_name="无锡市人民医院", hospital_number="ZY1",
        invoice_number="FP1", admission_date=date(2026, 2, 20), discharge_date=date(2026, 3, 10),
        total_amount=Decimal("36820.50"),
    )
    client.force_login(clerk)
    page = client.get(reverse("person_detail", args=[nanjing_person.pk])).content.decode()
    assert "费用协查与问题协同" in page and assist.number in page


def test_persons_named_reads_three_characters_anywhere_and_fewer_at_the_start(db):
    from core.search import is_name_query, persons_named

    for name in ("欧阳小明", "王小明", "李明", "Ali ABDUL"):
        InsuredPersonFactory(name=name, insured_region=region("320100"))

    def names(text):
        return sorted(persons_named(text).values_list("name", flat=True))

    assert names("阳小明") == ["欧阳小明"]  # three or more: anywhere in the name
    assert names("小明") == []  # two: a whole short name or the start of one (a trigram needs three)
    assert names("王小") == ["王小明"] and names("李明") == ["李明"]
    assert names("ali abd") == ["Ali ABDUL"] and names("aLi") == ["Ali ABDUL"]  # case-insensitive
    assert is_name_query("王小明") and is_name_query("Ali 阿里") and not is_name_query("LX3201") and not is_name_query(" ")


def test_rows_matching_any_finds_the_same_rows_as_the_or_and_falls_back_when_matches_are_dense(db):
    """Each condition read on its own, then the rows by key; above the cap the plain OR."""
    from django.db.models import Q

    from core.models import InsuredPerson
    from core.search import rows_matching_any

    people = [InsuredPersonFactory(name=name, insured_region=region("320100")) for name in ("王一", "王二", "李三")]
    wuxi = InsuredPersonFactory(name="王四", insured_region=region("320200"))
    scoped = InsuredPerson.objects.filter(insured_region="320100")
    conditions = [Q(name__startswith="王"), Q(pk=people[2].pk), Q(pk=wuxi.pk)]
    found = rows_matching_any(scoped, *conditions)
    assert set(found) == {people[0], people[1], people[2]}  # never outside the queryset it narrows
    dense = rows_matching_any(scoped, *conditions, cap=2)  # three match: the plain OR, same rows
    assert set(dense) == set(found) and "IN (" not in str(dense.query)
    assert list(rows_matching_any(scoped, Q(name="无此人"))) == []
