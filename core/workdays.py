"""Working days by the State Council holiday schedule, including make-up workdays (调休).

The schedule lives in an editable table (core.models.CalendarDay/CalendarYear),
seeded from the `chinese-calendar` package and extended by importing each new
year's notice. In a year with no confirmed schedule the statutory holidays are
still certain (core.reference.statutory_holidays, from python-holidays) and count
as days off with the weekends; only the make-up workdays (调休) wait for the
notice, so the result says it is unconfirmed: dates returned here are `WorkdayDate` objects that
compare equal to plain dates but carry `.confirmed` (False when any day counted
fell in an unconfirmed year) and `.unconfirmed_years`.

Counting follows the Civil Code: the start day is not counted (第201条), so five
working days from Monday 2026-03-02 end on Monday 2026-03-09.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from core.request_context import request_memo

CACHE_TTL_SECONDS = 60
_CACHE_PREFIX = "workdays:year:"


class WorkdayDate(date):
    """A date computed over the working-day calendar, with how sure it is."""

    confirmed: bool
    unconfirmed_years: tuple[int, ...]

    def __new__(cls, year, month=None, day=None, *, unconfirmed_years: tuple[int, ...] = ()) -> WorkdayDate:
        # Python builds subclass instances as cls(y, m, d) for date arithmetic
        # and replace(); those results carry no certainty information.
        if isinstance(year, date):
            year, month, day = year.year, year.month, year.day
        obj = super().__new__(cls, year, month, day)
        obj.unconfirmed_years = tuple(sorted(set(unconfirmed_years)))
        obj.confirmed = not obj.unconfirmed_years
        return obj

    def __reduce__(self):
        return (_rebuild_workday_date, (self.as_date(), self.unconfirmed_years))

    # Shifting a computed deadline leaves what made it (un)confirmed behind:
    # arithmetic returns plain dates, so callers look the new day up again.
    def __add__(self, other):
        return self.as_date() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self.as_date() - (other.as_date() if isinstance(other, WorkdayDate) else other)

    def as_date(self) -> date:
        return date(self.year, self.month, self.day)

    @property
    def warning(self) -> str:
        if self.confirmed:
            return ""
        years = "、".join(f"{year}年" for year in self.unconfirmed_years)
        return f"{years}的节假日安排尚未确认，本日期按周末和法定节假日推算（调休上班日待公布），请在日历公布后复核。"


def _rebuild_workday_date(value: date, unconfirmed_years: tuple[int, ...]) -> WorkdayDate:
    return WorkdayDate(value, unconfirmed_years=unconfirmed_years)


@dataclass(frozen=True)
class YearCalendar:
    year: int
    confirmed: bool
    exceptions: dict[date, bool]  # day -> is working day, where it differs from Mon-Fri

    def is_working_day(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5


def _load_year(year: int) -> YearCalendar:
    from core.models import CalendarDay, CalendarYear

    confirmed = CalendarYear.objects.filter(year=year, confirmed=True).exists()
    exceptions = dict(
        CalendarDay.objects.filter(date__year=year).values_list("date", "is_working_day")
    )
    if not confirmed:
        exceptions = _with_statutory_holidays(year, exceptions)
    return YearCalendar(year=year, confirmed=confirmed, exceptions=exceptions)


def _with_statutory_holidays(year: int, exceptions: dict[date, bool]) -> dict[date, bool]:
    """An unconfirmed year: the statutory holidays on weekdays are days off (a row an
    administrator entered for the day wins)."""
    from core.reference import statutory_holidays

    days = {day: False for day in statutory_holidays(year) if day.weekday() < 5}
    return {**days, **exceptions}


def _load_year_from_package(year: int) -> YearCalendar:
    """The packaged schedule, used only where the database may not be read
    (e.g. a test that did not ask for database access)."""
    from chinese_calendar import constants

    exceptions: dict[date, bool] = {}
    for day in constants.holidays:
        if day.year == year and day.weekday() < 5:
            exceptions[day] = False
    for day in constants.workdays:
        if day.year == year and day.weekday() >= 5:
            exceptions[day] = True
    known = {day.year for day in constants.holidays}
    if year not in known:
        exceptions = _with_statutory_holidays(year, exceptions)
    return YearCalendar(year=year, confirmed=year in known, exceptions=exceptions)


def _as_day(value: date) -> date:
    """Accept a datetime too (its local calendar day), never silently compare one."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value


def year_calendar(year: int) -> YearCalendar:
    key = f"{_CACHE_PREFIX}{year}"
    memo = request_memo()  # a page's deadlines read the year once, not once a row from the cache
    if memo is not None and key in memo:
        return memo[key]
    calendar = _cached_year(year, key)
    if memo is not None:
        memo[key] = calendar
    return calendar


def _cached_year(year: int, key: str) -> YearCalendar:
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        calendar = _load_year(year)
    except RuntimeError as exc:
        # Only pytest-django's guard for code running without database access;
        # any other failure is real and must surface.
        if "Database access not allowed" not in str(exc):
            raise
        return _load_year_from_package(year)
    cache.set(key, calendar, CACHE_TTL_SECONDS)
    return calendar


def invalidate(*years: int) -> None:
    """Forget cached years after the calendar table changed."""
    keys = [f"{_CACHE_PREFIX}{year}" for year in years]
    cache.delete_many(keys)
    memo = request_memo()
    for key in keys if memo is not None else ():
        memo.pop(key, None)


class _Counter:
    """Looks days up year by year, remembering which years were unconfirmed."""

    def __init__(self) -> None:
        self._years: dict[int, YearCalendar] = {}
        self.unconfirmed: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        calendar = self._years.get(day.year)
        if calendar is None:
            calendar = self._years[day.year] = year_calendar(day.year)
        if not calendar.confirmed:
            self.unconfirmed.add(day.year)
        return calendar.is_working_day(day)


def is_working_day(d: date) -> bool:
    """Acceptance interface (domain.md §7)."""
    d = _as_day(d)
    return year_calendar(d.year).is_working_day(d)


def is_confirmed(d: date) -> bool:
    d = _as_day(d)
    return year_calendar(d.year).confirmed


def add_working_days(start: date, n: int) -> WorkdayDate:
    """Acceptance interface (domain.md §7): the day `n` working days after `start`
    (start not counted). n = 0 returns `start` itself; a negative n counts back."""
    counter = _Counter()
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    day = _as_day(start)
    while remaining:
        day += timedelta(days=step)
        if counter.is_working_day(day):
            remaining -= 1
    return WorkdayDate(day, unconfirmed_years=tuple(counter.unconfirmed))


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    counter = _Counter()
    count = 0
    day, end = _as_day(start), _as_day(end)
    while day < end:
        day += timedelta(days=1)
        if counter.is_working_day(day):
            count += 1
    return count


def next_working_day(d: date) -> WorkdayDate:
    """`d` itself if it is a working day, else the next one."""
    counter = _Counter()
    day = _as_day(d)
    while not counter.is_working_day(day):
        day += timedelta(days=1)
    return WorkdayDate(day, unconfirmed_years=tuple(counter.unconfirmed))


def previous_working_day(d: date) -> WorkdayDate:
    """`d` itself if it is a working day, else the last one before it."""
    counter = _Counter()
    day = _as_day(d)
    while not counter.is_working_day(day):
        day -= timedelta(days=1)
    return WorkdayDate(day, unconfirmed_years=tuple(counter.unconfirmed))
