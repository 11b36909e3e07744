"""Absurd periods and allotments get a Chinese refusal, never a 500 (issue 14, finding 5)."""

import io

import pytest
from django.urls import reverse

from clearing import rules
from clearing.models import ClearingPeriod, CrossAllotment

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client, clearing_officer):
    client.force_login(clearing_officer)
    return client


def test_period_9999_12_is_refused_with_the_range(officer):
    response = officer.post(reverse("clearing:period_create"), {"period": "9999-12"}, follow=True)
    assert response.status_code == 200
    assert "清算所属期“9999-12”超出可办理的年份范围（2000–2099年）" in response.content.decode()
    assert not ClearingPeriod.objects.exists()


@pytest.mark.parametrize("year", ["9999", "99999", "abc", "-1"])
def test_the_period_list_ignores_an_impossible_year(officer, year):
    assert officer.get(reverse("clearing:period_list"), {"year": year}).status_code == 200


def test_parse_period_bounds():
    assert rules.parse_period("2099-12") == (2099, 12)
    with pytest.raises(ValueError):
        rules.parse_period("2100-01")


@pytest.mark.parametrize("amount", ["99999999999999999999", "100000000"])
def test_a_huge_allotment_is_a_form_error(officer, amount):
    response = officer.post(reverse("clearing:allotments", args=[2026]), {"p_110000": amount})
    assert response.status_code == 200
    assert "额度过大：不能超过 99,999,999 万元" in response.content.decode()
    assert not CrossAllotment.objects.exists()


def test_a_huge_allotment_in_a_file_is_a_row_error(officer):
    upload = io.BytesIO("省份,额度（万元）\n北京,99999999999999999999\n".encode())
    upload.name = "allotments.csv"
    response = officer.post(reverse("clearing:allotments", args=[2026]), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "第 2 行：额度“99999999999999999999”超出范围" in response.content.decode()
    assert not CrossAllotment.objects.exists()
