from datetime import date

import pytest
from django.db import IntegrityError

from core import workdays
from core.models import CalendarDay, CalendarYear
from core.services import CalendarRow, calendar_import_year, parse_calendar_rows
from core.workdays import add_working_days, is_working_day, working_days_between

pytestmark = pytest.mark.django_db


def test_start_day_is_not_counted():
    # domain.md §3: 5 working days from Monday 2026-03-02 ends Monday 2026-03-09.
    assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)


def test_zero_days_is_the_start_day():
    assert add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # 元旦
        (date(2026, 1, 4), True),  # Sunday, make-up workday
        (date(2026, 2, 14), True),  # Saturday, make-up workday before Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival, a Monday
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up workday
        (date(2026, 5, 9), True),
        (date(2026, 9, 20), True),  # Sunday, make-up workday before National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2026, 3, 7), False),  # ordinary Saturday
    ],
)
def test_2026_holidays_and_make_up_days(day, working):
    assert is_working_day(day) is working


def test_counting_across_the_spring_festival_uses_make_up_saturdays():
    # Fri 02-13 +1 -> Sat 02-14 (make-up); then the holiday 02-15..02-23; then 02-24..
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)


def test_counting_across_national_day():
    # Fri 09-25 + 5: 09-28, 29, 30, (10-01..07 off), 10-08, 10-09
    assert add_working_days(date(2026, 9, 25), 5) == date(2026, 10, 9)
    assert add_working_days(date(2026, 9, 25), 6) == date(2026, 10, 10)


def test_negative_counts_go_back():
    assert add_working_days(date(2026, 3, 9), -5) == date(2026, 3, 2)


def test_previous_and_next_working_day_skip_weekends_and_holidays():
    assert workdays.previous_working_day(date(2026, 12, 5)) == date(2026, 12, 4)  # Saturday -> Friday
    assert workdays.previous_working_day(date(2026, 10, 7)) == date(2026, 9, 30)  # National Day holidays
    assert workdays.previous_working_day(date(2026, 12, 4)) == date(2026, 12, 4)
    assert workdays.next_working_day(date(2026, 12, 5)) == date(2026, 12, 7)


def test_working_days_between():
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_a_confirmed_year_is_reported_confirmed():
    result = add_working_days(date(2026, 3, 2), 10)
    assert result.confirmed is True
    assert result.warning == ""


def test_year_without_calendar_counts_weekends_and_statutory_holidays_and_says_so():
    CalendarYear.objects.filter(year=2027).delete()
    CalendarDay.objects.filter(date__year=2027).delete()
    workdays.invalidate(2027)
    result = add_working_days(date(2026, 12, 30), 2)  # Thu 12-31, Fri 01-01 元旦 (certain), Mon 01-04
    assert result == date(2027, 1, 4)
    assert result.confirmed is False
    assert result.unconfirmed_years == (2027,)
    assert "2027年的节假日安排尚未确认" in result.warning
    assert is_working_day(date(2027, 1, 1)) is False  # 元旦 is certain before the notice


def test_one_working_day_after_new_years_eve_2026_is_monday_4_january_2027():
    CalendarYear.objects.filter(year=2027).delete()
    CalendarDay.objects.filter(date__year=2027).delete()
    workdays.invalidate(2027)
    result = add_working_days(date(2026, 12, 31), 1)
    assert result == date(2027, 1, 4) and not result.confirmed


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 2, 5), "春节（除夕）"), (date(2027, 2, 8), "春节"), (date(2027, 4, 5), "清明节"),
        (date(2027, 6, 9), "端午节"), (date(2027, 9, 15), "中秋节"), (date(2030, 10, 3), "国庆节"),
        (date(2031, 1, 22), "春节（除夕）"),
    ],
)
def test_statutory_holidays_of_an_unpublished_year_are_days_off(day, name):
    from core.reference import statutory_holidays

    CalendarYear.objects.filter(year=day.year).delete()
    workdays.invalidate(day.year)
    assert statutory_holidays(day.year)[day] == name
    assert is_working_day(day) is False
    assert not workdays.is_confirmed(day)


def test_make_up_workdays_wait_for_the_notice():
    from core.reference import statutory_holidays

    # python-holidays would "observe" 2027's 春节 on Tue 02-09 and Wed 02-10; only the notice decides that.
    assert date(2027, 2, 9) not in statutory_holidays(2027)
    CalendarYear.objects.filter(year=2027).delete()
    workdays.invalidate(2027)
    assert is_working_day(date(2027, 2, 9)) is True
    assert is_working_day(date(2027, 2, 20)) is False  # a Saturday stays a day off until a notice says otherwise


@pytest.mark.parametrize("year", range(2021, 2027))
def test_statutory_holidays_agree_with_chinese_calendar_in_published_years(year):
    """python-holidays and chinese-calendar kept side by side: every statutory day off that
    python-holidays computes is a day off in the published schedule chinese-calendar knows."""
    import chinese_calendar

    from core.reference import statutory_holidays

    days = statutory_holidays(year)
    assert len(days) >= 11
    for day, name in days.items():
        if name == "春节（除夕）" and year < 2025:  # 除夕 became statutory with the 2025 revision
            continue
        assert chinese_calendar.is_holiday(day), (day, name)


def test_importing_a_new_year_confirms_it_and_changes_deadlines(django_capture_on_commit_callbacks):
    rows = parse_calendar_rows(
        [
            {"日期": "2027-01-01", "类型": "休息", "名称": "元旦"},
            {"日期": "2027-02-20", "类型": "上班", "名称": "春节调休上班"},
        ],
        year=2027,
    )
    with django_capture_on_commit_callbacks(execute=True):
        calendar_import_year(year=2027, rows=rows, notice="国务院办公厅关于2027年部分节假日安排的通知")
    assert is_working_day(date(2027, 1, 1)) is False
    assert is_working_day(date(2027, 2, 20)) is True
    result = add_working_days(date(2026, 12, 30), 2)
    assert result == date(2027, 1, 4) and result.confirmed


def test_editing_the_table_takes_effect_after_invalidation():
    assert is_working_day(date(2026, 6, 1)) is True
    CalendarDay.objects.create(date=date(2026, 6, 1), is_working_day=False, name="临时休假")
    workdays.invalidate(2026)
    assert is_working_day(date(2026, 6, 1)) is False


def test_calendar_rows_report_every_problem_with_row_numbers():
    from core.errors import DomainError

    with pytest.raises(DomainError) as excinfo:
        parse_calendar_rows(
            [
                {"日期": "2027-13-01", "类型": "休息"},
                {"日期": "2028-01-01", "类型": "休息"},
                {"日期": "2027-01-01", "类型": "放羊"},
                {"日期": "2027-01-02", "类型": "休息"},
                {"日期": "2027-01-02", "类型": "休息"},
            ],
            year=2027,
        )
    text = excinfo.value.message
    assert "第2行：日期“2027-13-01”无效" in text
    assert "第3行：日期 2028-01-01 不在 2027 年" in text
    assert "第4行：类型“放羊”无法识别" in text
    assert "第6行：日期 2027-01-02 重复" in text


def test_refused_import_writes_nothing():
    before = CalendarDay.objects.count()
    with pytest.raises(IntegrityError):
        calendar_import_year(year=2027, rows=[CalendarRow(day=date(2027, 1, 1), is_working_day=False)] * 2)
    assert CalendarDay.objects.count() == before
    assert not CalendarYear.objects.filter(year=2027, source="import").exists()


def test_works_without_database_access_from_the_packaged_calendar(django_db_blocker):
    """The acceptance functions stay usable in code that has no database access."""
    from django.core.cache import cache

    cache.clear()
    with django_db_blocker.block():
        assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
        assert is_working_day(date(2026, 2, 14)) is True


def test_a_datetime_counts_as_its_calendar_day():
    from datetime import datetime

    assert is_working_day(datetime(2026, 10, 1, 9, 30)) is False
    assert add_working_days(datetime(2026, 9, 30, 17, 0), 1) == date(2026, 10, 8)


def test_shifting_a_computed_date_drops_its_certainty():
    from datetime import timedelta

    from core.workdays import WorkdayDate

    unconfirmed = WorkdayDate(date(2027, 1, 4), unconfirmed_years=(2027,))
    shifted = unconfirmed + timedelta(days=1)
    assert type(shifted) is date and shifted == date(2027, 1, 5)
    assert unconfirmed - date(2027, 1, 1) == timedelta(days=3)


@pytest.mark.django_db
def test_a_request_reads_each_years_calendar_from_the_cache_once(rf):
    """A page of deadlines asks for the year's calendar once a row; within a request it comes from
    the request's memo after the first time, and a calendar import in the request forgets it."""
    from unittest import mock

    from core.request_context import _current_request

    def reads(calls) -> int:
        return sum(str(call.args[0]).startswith(workdays._CACHE_PREFIX) for call in calls)

    token = _current_request.set(rf.get("/"))
    try:
        with mock.patch.object(workdays.cache, "get", wraps=workdays.cache.get) as get:
            for _ in range(5):
                workdays.is_confirmed(date(2026, 3, 2))
            assert reads(get.call_args_list) == 1
            workdays.invalidate(2026)
            workdays.is_confirmed(date(2026, 3, 2))
            assert reads(get.call_args_list) == 2
    finally:
        _current_request.reset(token)
    with mock.patch.object(workdays.cache, "get", wraps=workdays.cache.get) as get:  # no request: no memo
        workdays.is_confirmed(date(2026, 3, 2))
        workdays.is_confirmed(date(2026, 3, 2))
        assert reads(get.call_args_list) == 2
