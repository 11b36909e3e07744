"""The 协查 and 协同 rules (domain.md §7) across the 2026 holidays and make-up workdays
(调休 01-04, 02-14, 02-28, 05-09, 09-20, 10-10)."""

from datetime import date
from decimal import Decimal

import pytest

from cooperation.rules import (
    assist_allowed,
    assist_answer_due,
    assist_confirm_due,
    coordination_deemed_confirmed_on,
    coordination_reply_due,
)

pytestmark = pytest.mark.django_db  # the working-day calendar is a table


@pytest.mark.parametrize(
    ("amount", "allowed"),
    [("30000.00", True), ("30000", True), ("29999.99", False), ("30000.01", True), ("0.01", False),
     ("125000.00", True)],
)
def test_assist_threshold_includes_30000(amount, allowed):
    # 第五十六条: 超过3万元（含3万元）.
    assert assist_allowed(Decimal(amount)) is allowed


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 15), date(2026, 2, 26)),
        (date(2026, 1, 31), date(2026, 2, 26)),
        (date(2026, 2, 1), date(2026, 3, 26)),
        (date(2026, 12, 31), date(2027, 1, 26)),  # year end
        (date(2026, 3, 31), date(2026, 4, 26)),  # a Sunday: the 26th is kept (次月26日前)
        (date(2026, 8, 3), date(2026, 9, 26)),  # a Saturday: kept as well
        (date(2026, 9, 26), date(2026, 10, 26)),
    ],
)
def test_assist_answer_is_due_on_the_26th_of_the_next_month(received, due):
    assert assist_answer_due(received) == due


@pytest.mark.parametrize(
    ("answered", "due"),
    [
        (date(2026, 3, 2), date(2026, 3, 9)),  # plain week, start day not counted
        (date(2026, 2, 13), date(2026, 2, 27)),  # Saturday 02-14 is a workday, Spring Festival 02-16..02-23 is not
        (date(2026, 1, 2), date(2026, 1, 8)),  # from a holiday; Sunday 01-04 is a workday
        (date(2026, 4, 30), date(2026, 5, 11)),  # 劳动节 05-01..05-05; Saturday 05-09 is a workday
        (date(2026, 9, 30), date(2026, 10, 13)),  # 国庆 10-01..10-07; Saturday 10-10 is a workday
    ],
)
def test_assist_confirmation_is_due_five_working_days_after_the_answer(answered, due):
    assert assist_confirm_due(answered) == due


@pytest.mark.parametrize(
    ("kind", "received", "due"),
    [
        ("system", date(2026, 3, 2), date(2026, 3, 3)),
        ("filing", date(2026, 3, 2), date(2026, 3, 4)),
        ("other", date(2026, 3, 2), date(2026, 3, 16)),
        ("system", date(2026, 2, 13), date(2026, 2, 14)),  # the make-up Saturday counts
        ("filing", date(2026, 2, 13), date(2026, 2, 24)),  # then the whole Spring Festival is skipped
        ("filing", date(2026, 2, 27), date(2026, 3, 2)),  # Saturday 02-28 is a workday
        ("other", date(2026, 9, 18), date(2026, 10, 9)),  # Sunday 09-20 counts; 中秋 09-25 and 国庆 do not
        ("filing", date(2026, 9, 30), date(2026, 10, 9)),
        ("system", date(2026, 5, 8), date(2026, 5, 9)),  # Saturday 05-09 is a workday
    ],
)
def test_coordination_reply_limits_are_2_1_10_working_days(kind, received, due):
    assert coordination_reply_due(kind, received) == due


def test_unknown_coordination_kind_is_refused():
    with pytest.raises(ValueError, match="未知的问题类型"):
        coordination_reply_due("urgent", date(2026, 3, 2))


@pytest.mark.parametrize(
    ("replied", "deemed"),
    [
        (date(2026, 3, 2), date(2026, 3, 16)),
        (date(2026, 2, 13), date(2026, 3, 5)),  # 02-14 and 02-28 count, Spring Festival does not
        (date(2026, 4, 30), date(2026, 5, 18)),
        (date(2026, 9, 30), date(2026, 10, 20)),  # 10-08, 09, 10(Sat), 12..16, 19, 20
    ],
)
def test_coordination_is_deemed_confirmed_ten_working_days_after_the_reply(replied, deemed):
    assert coordination_deemed_confirmed_on(replied) == deemed
