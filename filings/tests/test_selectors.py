"""The filing query reimbursement uses (issue item 4), on its edge dates."""

from __future__ import annotations

from datetime import date

import pytest

from core.tests.factories import InsuredPersonFactory, region
from filings.models import Filing, PersonGroup, PersonType
from filings.selectors import FilingStatus, filing_check
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return InsuredPersonFactory(name="钱玉兰")


def check(person, day, treatment="110000", **kwargs):
    return filing_check(person=person, on_date=day, treatment_region=region(treatment), **kwargs)


def test_long_term_filing_covers_from_its_start_day_on(person):
    filing = FilingFactory(insured_person=person, start_date=date(2025, 3, 1), destination=region("110000"))
    assert check(person, date(2025, 2, 28)).status == FilingStatus.NOT_FILED
    result = check(person, date(2025, 3, 1))
    assert result.status == FilingStatus.FILED
    assert result.filing == filing
    assert "已备案：长期异地居住（异地长期居住人员），备案地 北京市，2025-03-01 起长期有效" in result.message
    assert check(person, date(2031, 12, 31)).status == FilingStatus.FILED


def test_temporary_filing_covers_its_last_day_but_not_the_next(person):
    FilingFactory(
        insured_person=person,
        person_type=PersonType.OTHER_TEMPORARY,
        start_date=date(2026, 1, 10),
        end_date=date(2026, 7, 9),
        destination=region("310000"),
    )
    assert check(person, date(2026, 1, 9), "310000").status == FilingStatus.NOT_FILED
    assert check(person, date(2026, 1, 10), "310000").status == FilingStatus.FILED
    assert check(person, date(2026, 7, 9), "310000").status == FilingStatus.FILED
    late = check(person, date(2026, 7, 10), "310000")
    assert late.status == FilingStatus.NOT_FILED
    assert late.filing is None
    assert "2026-01-10 至 2026-07-09" in late.message


def test_stay_admitted_while_valid_is_covered_after_expiry(person):
    filing = FilingFactory(
        insured_person=person,
        person_type=PersonType.REFERRAL,
        start_date=date(2026, 1, 10),
        end_date=date(2026, 7, 9),
        status=Filing.Status.EXPIRED,
    )
    discharge = date(2026, 7, 25)
    assert check(person, discharge).status == FilingStatus.NOT_FILED
    result = check(person, discharge, admission_date=date(2026, 7, 9))
    assert result.status == FilingStatus.FILED
    assert result.filing == filing
    assert "第十三条" in result.message
    assert check(person, discharge, admission_date=date(2026, 7, 10)).status == FilingStatus.NOT_FILED


def test_province_filing_covers_its_cities_but_a_city_filing_not_its_province(person):
    FilingFactory(insured_person=person, destination=region("330000"))
    assert check(person, date(2026, 2, 1), "330100").status == FilingStatus.FILED
    assert check(person, date(2026, 2, 1), "330000").status == FilingStatus.FILED
    assert check(person, date(2026, 2, 1), "340100").status == FilingStatus.NOT_FILED

    other = InsuredPersonFactory()
    FilingFactory(insured_person=other, destination=region("330100"))
    assert check(other, date(2026, 2, 1), "330100").status == FilingStatus.FILED
    assert check(other, date(2026, 2, 1), "330200").status == FilingStatus.NOT_FILED
    assert check(other, date(2026, 2, 1), "330000").status == FilingStatus.NOT_FILED


def test_intra_province_city_destination(person):
    FilingFactory(insured_person=person, destination=region("320500"))
    assert check(person, date(2026, 2, 1), "320500").status == FilingStatus.FILED
    assert check(person, date(2026, 2, 1), "320200").status == FilingStatus.NOT_FILED


@pytest.mark.parametrize("status", [Filing.Status.CHANGED, Filing.Status.CANCELLED])
def test_filing_ended_later_still_answers_for_the_days_it_was_valid(person, status):
    # terminated_on is the last day the filing was valid.
    FilingFactory(insured_person=person, start_date=date(2025, 1, 1), status=status, terminated_on=date(2026, 2, 28))
    result = check(person, date(2026, 2, 28))
    assert result.status == FilingStatus.FILED
    assert f"现为“{Filing.Status(status).label}”" in result.message
    assert check(person, date(2026, 3, 1)).status == FilingStatus.NOT_FILED


@pytest.mark.parametrize("status", [Filing.Status.DRAFT, Filing.Status.PENDING_REVIEW, Filing.Status.REJECTED])
def test_drafts_applications_and_rejections_never_count(person, status):
    FilingFactory(insured_person=person, start_date=date(2026, 1, 1), status=status)
    assert check(person, date(2026, 2, 1)).status == FilingStatus.NOT_FILED


def test_emergency_without_filing_is_deemed_filed(person):
    result = check(person, date(2026, 2, 1), emergency=True)
    assert result.status == FilingStatus.DEEMED_FILED
    assert result.filing is None
    assert "视同已备案" in result.message
    assert result.is_covered


def test_emergency_with_a_covering_filing_names_the_filing(person):
    filing = FilingFactory(insured_person=person, start_date=date(2026, 1, 1))
    result = check(person, date(2026, 2, 1), emergency=True)
    assert result.status == FilingStatus.FILED
    assert result.filing == filing


def test_an_old_emergency_record_covers_no_ordinary_visit(person):
    """Emergency is deemed filed; a record of type 异地急诊抢救人员 (no longer created)
    never makes an ordinary visit FILED."""
    FilingFactory(insured_person=person, person_type=PersonType.EMERGENCY, start_date=date(2026, 1, 1), materials=[])
    ordinary = check(person, date(2026, 2, 1))
    assert ordinary.status == FilingStatus.NOT_FILED and ordinary.filing is None
    emergency = check(person, date(2026, 2, 1), emergency=True)
    assert emergency.status == FilingStatus.DEEMED_FILED and emergency.filing is None


def test_retroactive_filing_covers_days_before_it_was_made_as_late(person):
    filing = FilingFactory(
        insured_person=person,
        person_type=PersonType.OTHER_TEMPORARY,
        retroactive=True,
        start_date=date(2026, 3, 2),
        end_date=date(2026, 9, 1),
        applied_on=date(2026, 3, 20),
        admission_date=date(2026, 3, 2),
        settlement_state="self_paid",
        discharge_date=date(2026, 3, 9),
        manual_reimbursement_eligible=True,
    )
    result = check(person, date(2026, 3, 9), admission_date=date(2026, 3, 2))
    assert result.status == FilingStatus.LATE_FILED
    assert result.filing == filing
    assert "可申请手工报销" in result.message
    # A visit after the 补办 was made is simply filed.
    assert check(person, date(2026, 4, 1)).status == FilingStatus.FILED
    assert check(person, date(2026, 3, 1)).status == FilingStatus.NOT_FILED


def test_in_time_filing_preferred_over_late_one(person):
    FilingFactory(
        insured_person=person,
        person_type=PersonType.OTHER_TEMPORARY,
        retroactive=True,
        start_date=date(2026, 3, 1),
        end_date=date(2026, 8, 31),
        applied_on=date(2026, 3, 20),
    )
    long_term = FilingFactory(insured_person=person, start_date=date(2026, 3, 5))
    result = check(person, date(2026, 3, 10))
    assert result.status == FilingStatus.FILED
    assert result.filing == long_term


def test_long_term_preferred_over_temporary_for_the_same_day(person):
    FilingFactory(insured_person=person, person_type=PersonType.REFERRAL, start_date=date(2026, 1, 1))
    long_term = FilingFactory(insured_person=person, start_date=date(2025, 1, 1))
    result = check(person, date(2026, 2, 1))
    assert result.filing == long_term
    assert result.filing.person_group == PersonGroup.LONG_TERM
    assert result.filing.is_long_term


def test_other_persons_filing_does_not_count(person):
    FilingFactory(start_date=date(2026, 1, 1))
    assert check(person, date(2026, 2, 1)).status == FilingStatus.NOT_FILED


def test_not_filed_message_points_to_the_filing_for_another_place(person):
    FilingFactory(insured_person=person, destination=region("440100"), start_date=date(2026, 1, 1))
    result = check(person, date(2026, 2, 1), "110000")
    assert result.status == FilingStatus.NOT_FILED
    assert "广州市" in result.message and "北京市" in result.message


def test_filing_exposes_type_and_group_for_reimbursement(person):
    filing = FilingFactory(insured_person=person, person_type=PersonType.POSTED_WORKER)
    assert filing.person_type == "posted_worker"
    assert filing.person_group == "long_term"
    assert filing.group == PersonGroup.LONG_TERM
    referral = FilingFactory(insured_person=person, person_type=PersonType.REFERRAL, destination=region("310000"))
    assert referral.person_group == "temporary"
    assert {t.value for t in PersonType} == {
        "retired_resettled",
        "long_term_resident",
        "posted_worker",
        "referral",
        "emergency",
        "other_temporary",
    }


def test_query_count_is_constant(person, django_assert_max_num_queries):
    for index in range(5):
        FilingFactory(insured_person=person, destination=region("110000"), start_date=date(2025, 1, 1 + index))
    beijing = region("110000")
    with django_assert_max_num_queries(1):
        filing_check(person=person, on_date=date(2026, 2, 1), treatment_region=beijing)


def test_expiry_during_the_stay_is_mentioned_only_when_the_filing_ended_before_discharge(person):
    """第十三条: only a filing whose last valid day is before the discharge needs the note."""
    FilingFactory(
        insured_person=person,
        person_type=PersonType.OTHER_TEMPORARY,
        start_date=date(2026, 1, 10),
        end_date=date(2027, 1, 9),
    )
    long_valid = check(person, date(2026, 3, 10), admission_date=date(2026, 3, 2))
    assert long_valid.status == FilingStatus.FILED
    assert "到期" not in long_valid.message and "第十三条" not in long_valid.message
    ended = check(person, date(2027, 1, 15), admission_date=date(2027, 1, 5))
    assert ended.status == FilingStatus.FILED
    assert "备案有效期至 2027-01-09（出院前已届满），入院时有效，整个住院期间按已备案结算（第十三条）" in ended.message
    # the last valid day itself is the discharge day: still valid, nothing to say
    same_day = check(person, date(2027, 1, 9), admission_date=date(2027, 1, 5))
    assert "第十三条" not in same_day.message


def test_home_figures_overdue_are_the_backlog_less_what_is_still_in_time(clerk):
    from datetime import timedelta

    from django.utils import timezone

    from filings.models import UploadStatus
    from filings.selectors import dashboard_counts

    today = timezone.localdate()
    now = timezone.now()
    for due in (today - timedelta(days=1), today, None):
        FilingFactory(status=Filing.Status.PENDING_REVIEW, review_due_on=due, upload_status=UploadStatus.NOT_REQUIRED)
    for since in (now - timedelta(days=2), now, None):
        FilingFactory(upload_status=UploadStatus.PENDING, upload_pending_since=since)
    counts = dashboard_counts(user=clerk, today=today)
    assert counts["pending_review"] == 3 and counts["review_overdue"] == 1
    assert counts["not_uploaded"] == 3 and counts["upload_overdue"] == 1
    listed = Filing.objects.for_user(clerk)
    assert counts["review_overdue"] == listed.filter(status=Filing.Status.PENDING_REVIEW, review_due_on__lt=today).count()
