"""Processing time limits for manual reimbursement (江苏规程 第二十八条; the numbers are the
home province's rule-set data, core.jurisdictions ``limits``).

From the day the materials are complete (收齐材料之日):
* a single outpatient claim of 1,000 yuan or less: 5 working days;
* in general: 10 working days;
* special cases (marked by a supervisor with a reason): at most 20 working days.

Legal counting (民法典): "以下" includes the number itself (第1259条), so exactly
1,000.00 yuan is the 5-day case; the start day is not counted (第201条).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from core.jurisdictions import rules_for
from core.workdays import WorkdayDate, add_working_days

CARE_TYPES = ("inpatient", "outpatient", "emergency", "maternity")


def processing_days(*, care_type: str, amount: Decimal, special: bool = False, on: date | None = None) -> int:
    """How many working days the agency has for a claim (the limits in force on ``on``, default today)."""
    if care_type not in CARE_TYPES:
        raise ValueError(
            f"未知的费用类型 {care_type!r}：应为 inpatient（住院）、outpatient（门诊）、emergency（急诊）或 maternity（生育）。"
        )
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str | float):
        raise TypeError(f"金额应为 Decimal，收到的是 {type(amount).__name__}。")
    try:
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    except (InvalidOperation, ValueError):
        raise ValueError(f"金额 {amount!r} 不是有效数字。") from None
    if not value.is_finite():
        raise ValueError(f"金额 {amount!r} 不是有效数字。")
    if value < 0:
        raise ValueError(f"金额不能为负数（收到 {value}）。")
    limits = rules_for(None, on=on).limits
    if special:
        return limits.special_days
    if care_type == "outpatient" and value <= limits.small_amount:
        return limits.small_days
    return limits.general_days


def processing_deadline(complete_on: date, *, care_type: str, amount: Decimal, special: bool = False) -> date:
    """Acceptance interface (domain.md §7): the last day to finish a claim whose
    materials were complete on `complete_on`.

    Returns a `core.workdays.WorkdayDate` (a `date`); its `.confirmed` is False
    when a day counted fell in a year whose holiday schedule is not confirmed.
    """
    if not isinstance(complete_on, date):
        raise TypeError(f"收齐材料日期应为 date，收到的是 {type(complete_on).__name__}。")
    if isinstance(complete_on, datetime):  # count from its calendar day
        complete_on = complete_on.date()
    days = processing_days(care_type=care_type, amount=amount, special=special, on=complete_on)
    result: WorkdayDate = add_working_days(complete_on, days)
    return result
