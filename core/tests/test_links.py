"""core.links: an object's link made from its URL pattern reversed once, equal to reverse()."""

from datetime import UTC, date, datetime

import pytest
from django.template import engines
from django.urls import reverse, set_script_prefix

from core.links import object_url
from filings.models import Filing
from reimbursement.models import Claim


@pytest.mark.parametrize("prefix", ["/", "/yidi/"])
def test_an_object_url_is_what_reverse_gives(prefix):
    set_script_prefix(prefix)
    try:
        for name, pk in (("reimbursement:claim_detail", 7), ("filings:detail", 123456789), ("reimbursement:claim_detail", 0)):
            assert object_url(name, pk) == reverse(name, args=[pk])
        assert object_url("filings:detail", 5).startswith(prefix)
        assert Claim(pk=42).get_absolute_url() == reverse("reimbursement:claim_detail", args=[42])
        assert Filing(pk=42).get_absolute_url() == reverse("filings:detail", args=[42])
    finally:
        set_script_prefix("/")


def test_isodate_is_the_date_filters_y_m_d():
    template = engines["django"].from_string('{% load yidi %}{{ value|isodate }}|{{ value|date:"Y-m-d" }}')
    late_utc = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # already 12-05 in Beijing
    for value in (date(2026, 1, 9), late_utc, None, "", "2026-01-09"):
        ours, djangos = template.render({"value": value}).split("|")
        assert ours == djangos, value
    assert template.render({"value": late_utc}).startswith("2026-12-05")


def test_isominute_and_link_are_what_the_date_filter_and_url_tag_give():
    late_utc = datetime(2026, 12, 4, 17, 5, tzinfo=UTC)
    template = engines["django"].from_string(
        '{% load yidi %}{{ value|isominute }}|{{ value|date:"Y-m-d H:i" }}|{{ 17|link:"filings:materials" }}|{% url "filings:materials" 17 %}'
    )
    ours, djangos, link, url = template.render({"value": late_utc}).split("|")
    assert ours == djangos == "2026-12-05 01:05" and link == url
    assert engines["django"].from_string("{% load yidi %}{{ value|isominute }}").render({"value": None}) == ""
