"""The notices say what the 规程 says, no more: 附件13's wording (第四十八条(三)), deadlines in a
year whose holiday arrangement is unpublished, drafts before issue, stamp dates on working days,
附件11's head on every page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clearing import notices, services
from clearing.forms import EmergencyForm, StampDateForm
from clearing.models import ClearingPeriod
from clearing.tests.factories import Row, import_rows
from clearing.tests.test_advances import result
from core.models import CalendarYear, Region

pytestmark = pytest.mark.django_db

UNCONFIRMED_NOTE = "该年度节假日安排尚未公布，期限按周末推算，公布后如有变化另行告知"


def pages_text(content: bytes) -> list[str]:
    return ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def text(content: bytes) -> str:
    return "".join(pages_text(content))


def notice(files, kind: str, region: str | None = None):
    return next(f for f in files if f.kind == kind and (region is None or f.region.code == region))


@pytest.fixture
def computed(tmp_path, clearing_officer):
    import_rows(
        tmp_path,
        [
            Row("W1", "320100", "320200", fund_amount="1000.00"),
            Row("W2", "320100", "330100", fund_amount="300.00"),
            Row("W3", "510100", "320100", fund_amount="88.80", insurance_type="390"),
        ],
    )
    return services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)


def issue(period, officer, stamp: date) -> ClearingPeriod:
    services.clearing_issue_notices(period=period, by=officer, stamp_date=stamp)
    return ClearingPeriod.objects.get(pk=period.pk)


def test_annex13_body_is_the_seeds_sentence_only_article_48_3(computed, clearing_officer):
    """第四十八条(三) / 附件13: “你单位XXXX年XX月跨省异地就医费用收款明细清单如下” — the province pays
    “及时”; no 10-working-day promise and no advance sentence."""
    period = issue(computed, clearing_officer, date(2026, 3, 26))
    body = text(notice(notices.period_notice_files(period), "clearing.annex13", "320100").render())
    assert "你单位2026年02月跨省异地就医费用收款明细清单如下：" in body
    for promise in ("个工作日", "预付金", "拨付到位", "前）"):
        assert promise not in body, promise
    assert "88.80" in body and "收款方：南京市" in body


def test_deadline_in_an_unpublished_calendar_year_is_flagged_on_every_notice(computed, clearing_officer):
    """第四十七条(二)/第四十八条(二): 10 working days from a stamp of 2026-12-24 end in 2027, whose
    arrangement is not published: 附件10 and 12 print the 受理回执's note beside the date."""
    CalendarYear.objects.filter(year=2027).delete()
    period = issue(computed, clearing_officer, date(2026, 12, 24))
    files = notices.period_notice_files(period)
    annex12 = text(notice(files, "clearing.annex12", "320100").render())
    annex10 = text(notice(files, "clearing.annex10").render())
    assert "2027年1月" in annex12 and UNCONFIRMED_NOTE in annex12
    assert UNCONFIRMED_NOTE in annex10
    assert UNCONFIRMED_NOTE not in text(notice(files, "clearing.annex13", "320100").render())  # no deadline there


def test_deadline_in_a_published_year_carries_no_note(computed, clearing_officer):
    period = issue(computed, clearing_officer, date(2026, 3, 26))
    annex12 = text(notice(notices.period_notice_files(period), "clearing.annex12", "320100").render())
    assert "2026年4月10日前" in annex12 and UNCONFIRMED_NOTE not in annex12


def test_emergency_increase_annex6_flags_an_unconfirmed_deadline_article_31_2(jiangsu_policy, clearing_officer):
    """第三十一条(二): 附件6 counts 5+5 working days from its stamp; into 2027 it carries the note."""
    CalendarYear.objects.filter(year=2027).delete()
    result("2025-05", "320100", "310000", "300000.00")
    services.cross_allotments_save(year=2026, amounts={"310000": 10}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    result("2026-11", "320100", "310000", "95000.00")
    increase = services.emergency_increase_create(
        period=ClearingPeriod.objects.get(period="2026-11"), province=Region.objects.get(code="310000"), amount=8,
        by=clearing_officer, stamp_date=date(2026, 12, 24),
    )
    (only,) = notices.emergency_notice_files(increase)
    assert UNCONFIRMED_NOTE in text(only.render())


def test_a_notice_rendered_before_issue_is_a_draft_without_a_binding_deadline(computed, clearing_officer):
    """第四十七、四十八条: the deadline counts from the stamp date, which a month not yet issued does
    not have: its notices say 草稿 and print no date to pay by."""
    files = notices.period_notice_files(computed)
    annex12 = text(notice(files, "clearing.annex12", "320100").render())
    annex10 = text(notice(files, "clearing.annex10").render())
    for body in (annex12, annex10):
        assert "草稿" in body and "尚未下达" in body
        assert "前）" not in body
    assert "于签章之日起10个工作日内上缴至省级财政专户" in annex12
    issued = issue(computed, clearing_officer, date(2026, 3, 26))
    annex12 = text(notice(notices.period_notice_files(issued), "clearing.annex12", "320100").render())
    assert "草稿" not in annex12 and "（2026年4月10日前）" in annex12


def test_advance_notices_before_issue_are_drafts_article_30_1(jiangsu_policy, clearing_officer):
    """第三十条(一): 附件3 before it is issued says 草稿 and “收到本通知书10个工作日内”, no date."""
    result("2025-03", "320100", "320200", "600000.00")
    services.intra_advances_compute(year=2026, by=clearing_officer)
    letter = text(notice(notices.advance_notice_files(2026, "intra"), "clearing.annex03").render())
    assert "草稿" in letter and "收到本通知书10个工作日内" in letter and "前，解缴" not in letter


@pytest.mark.parametrize("day", ["2026-03-28", "2026-10-01", "2026-02-17"])  # Saturday, 国庆, 春节
def test_stamp_date_form_refuses_a_non_working_day(day):
    form = StampDateForm({"stamp_date": day})
    assert not form.is_valid()
    assert "不是工作日" in form.errors["stamp_date"][0]
    assert StampDateForm({"stamp_date": "2026-02-14"}).is_valid()  # a make-up Saturday (调休) is a working day


def test_emergency_form_refuses_a_non_working_stamp_date(db):
    form = EmergencyForm({"province": "310000", "amount": "5", "stamp_date": "2026-05-01"},
                         provinces=Region.objects.filter(code="310000"))
    assert not form.is_valid() and "不是工作日" in form.errors["stamp_date"][0]


def test_issuing_on_a_weekend_is_refused_on_the_page(client, computed, clearing_officer):
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:period_action", args=["2026-02", "issue"]), {"stamp_date": "2026-03-28"},
                           follow=True)
    assert "签章日期 2026-03-28 不是工作日" in response.content.decode()
    assert ClearingPeriod.objects.get().status == ClearingPeriod.Status.COMPUTED


def test_annex11_second_page_repeats_title_label_and_month(computed, clearing_officer):
    """附件11: the 付款省 block starts a new page, which repeats the 附件 label, the title and the month."""
    period = issue(computed, clearing_officer, date(2026, 3, 26))
    pages = pages_text(notice(notices.period_notice_files(period), "clearing.annex11").render())
    assert len(pages) == 2
    for page in pages:
        for words in ("附件11", "江苏省跨省异地就医费用清算明细表", "清算所属月份：2026年02月"):
            assert words in page, words
