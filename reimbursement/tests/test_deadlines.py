"""processing_deadline: the acceptance interface (domain.md §3, §7; 江苏规程 第二十八条)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.models import CalendarYear
from core.workdays import WorkdayDate
from reimbursement.deadlines import processing_days, processing_deadline

D = Decimal


def test_outpatient_exactly_1000_is_the_five_day_case():
    # "以下" includes the number (民法典 第1259条); the start day is not counted (第201条).
    assert processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("1000.00")) == date(2026, 3, 9)


def test_outpatient_one_cent_over_1000_is_the_ten_day_case():
    assert processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("1000.01")) == date(2026, 3, 16)


def test_outpatient_small_amounts_and_zero_are_five_days():
    assert processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("999.99")) == date(2026, 3, 9)
    assert processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("0")) == date(2026, 3, 9)
    assert processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("1000")) == date(2026, 3, 9)


@pytest.mark.parametrize("care_type", ["inpatient", "emergency", "maternity"])
def test_small_amounts_of_other_care_types_take_ten_days(care_type):
    # Only a single *outpatient* claim of ≤ 1,000 yuan is the small case.
    assert processing_deadline(date(2026, 3, 2), care_type=care_type, amount=D("500.00")) == date(2026, 3, 16)


@pytest.mark.parametrize("care_type", ["inpatient", "outpatient", "emergency", "maternity"])
def test_special_case_is_twenty_working_days_whatever_the_amount(care_type):
    assert processing_deadline(date(2026, 3, 2), care_type=care_type, amount=D("100.00"), special=True) == date(
        2026, 3, 30
    )


def test_start_day_not_counted_from_a_friday():
    # Fri 2026-03-06 + 5 working days: Mon 9 … Fri 13.
    assert processing_deadline(date(2026, 3, 6), care_type="outpatient", amount=D("80")) == date(2026, 3, 13)


def test_start_on_a_weekend_counts_from_monday():
    # Sat 2026-03-07: the first working day counted is Mon 9.
    assert processing_deadline(date(2026, 3, 7), care_type="outpatient", amount=D("80")) == date(2026, 3, 13)


def test_counting_across_the_2026_spring_festival_with_make_up_saturdays():
    # Holidays 02-15..02-23; make-up workdays Sat 02-14 and Sat 02-28.
    # From Thu 02-12: 13, 14 (Sat, make-up), 24, 25, 26 -> five working days end on Thu 02-26.
    assert processing_deadline(date(2026, 2, 12), care_type="outpatient", amount=D("300")) == date(2026, 2, 26)
    # Ten: 13, 14, 24, 25, 26, 27, 28 (Sat, make-up), Mar 2, 3, 4.
    assert processing_deadline(date(2026, 2, 12), care_type="inpatient", amount=D("8000")) == date(2026, 3, 4)


def test_make_up_saturday_can_be_the_deadline_itself():
    # From Mon 02-23 (a holiday): 24, 25, 26, 27, 28 (Sat, make-up workday).
    assert processing_deadline(date(2026, 2, 23), care_type="outpatient", amount=D("999")) == date(2026, 2, 28)


def test_counting_across_national_day_with_make_up_days():
    # National Day 10-01..10-07; make-up Sun 09-20 and Sat 10-10.
    # From Fri 09-18: 20 (Sun, make-up), 21, 22, 23, 24 -> 09-24.
    assert processing_deadline(date(2026, 9, 18), care_type="outpatient", amount=D("1000.00")) == date(2026, 9, 24)
    # From Tue 09-29: 30, 10-08, 10-09, 10-10 (Sat, make-up), 10-12 -> 10-12 for five days.
    assert processing_deadline(date(2026, 9, 29), care_type="outpatient", amount=D("1000.00")) == date(2026, 10, 12)
    # Ten days from 09-29: 30, 8, 9, 10, 12, 13, 14, 15, 16, 19.
    assert processing_deadline(date(2026, 9, 29), care_type="emergency", amount=D("1000.00")) == date(2026, 10, 19)


@pytest.mark.django_db
def test_deadline_is_a_workday_date_that_flags_an_unconfirmed_year():
    result = processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("100"))
    assert isinstance(result, WorkdayDate)
    assert result.confirmed
    CalendarYear.objects.filter(year=2031).delete()
    late = processing_deadline(date(2031, 12, 24), care_type="inpatient", amount=D("100"))
    assert not late.confirmed
    assert 2031 in late.unconfirmed_years or 2032 in late.unconfirmed_years


def test_a_datetime_counts_from_its_calendar_day():
    assert processing_deadline(datetime(2026, 3, 2, 16, 30), care_type="outpatient", amount=D("1")) == date(2026, 3, 9)


@pytest.mark.parametrize("care_type", ["Outpatient", "clinic", "", None, "chronic"])
def test_unknown_care_type_is_refused_with_a_clear_message(care_type):
    with pytest.raises(ValueError, match="未知的费用类型"):
        processing_deadline(date(2026, 3, 2), care_type=care_type, amount=D("1"))


def test_negative_amount_is_refused():
    with pytest.raises(ValueError, match="金额不能为负数"):
        processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=D("-0.01"))


@pytest.mark.parametrize("amount", [D("NaN"), D("Infinity"), "abc"])
def test_not_a_number_is_refused(amount):
    with pytest.raises(ValueError, match="不是有效数字"):
        processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=amount)


def test_amount_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="金额应为 Decimal"):
        processing_deadline(date(2026, 3, 2), care_type="outpatient", amount=None)


def test_start_date_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="收齐材料日期应为 date"):
        processing_deadline("2026-03-02", care_type="outpatient", amount=D("1"))


def test_processing_days_table():
    assert processing_days(care_type="outpatient", amount=D("1000.00")) == 5
    assert processing_days(care_type="outpatient", amount=D("1000.001")) == 10
    assert processing_days(care_type="inpatient", amount=D("1")) == 10
    assert processing_days(care_type="outpatient", amount=D("1"), special=True) == 20
