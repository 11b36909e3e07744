"""The 费用协查 and 问题协同 deadlines (江苏规程 第五十六、五十七条; domain.md §5, §7).

Pure functions over dates and amounts: no database except the working-day
calendar behind `core.workdays.add_working_days` (start day not counted).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.workdays import add_working_days

#: 第五十六条: 一次性异地住院医疗总费用超过3万元（含3万元）.
ASSIST_THRESHOLD = Decimal("30000.00")


def assist_refusal(amount: str, *, article: str) -> str:
    """Why a stay below the threshold cannot go to 费用协查; ``article`` is the home province's
    (江苏规程 第五十六条, 赣医保发〔2025〕17号 三(二), else 医保发〔2024〕21号 三(二))."""
    return (
        f"依据{article}，参保地只可对一次性异地住院医疗总费用3万元以上（含3万元）的疑似违规费用申请费用协查；"
        f"本次费用总额 {amount} 元未达到 30,000.00 元。其他费用请通过“问题协同”提出（医保发〔2024〕21号 三(二)）。"
    )

#: 第五十六条: 原则上需于次月26日前完成费用协查.
ASSIST_ANSWER_DAY = 26
#: 第五十六条: 参保地收到协查结果后5个工作日内确认.
ASSIST_CONFIRM_WORKING_DAYS = 5

#: 第五十七条: 备案类2个工作日, 系统故障类1个工作日, 其他类最长不超过10个工作日.
COORDINATION_REPLY_WORKING_DAYS = {"filing": 2, "system": 1, "other": 10}
#: 第五十七条: 超过10个工作日未确认的, 默认结果确认.
COORDINATION_DEEMED_CONFIRMED_WORKING_DAYS = 10


def assist_allowed(total_amount: Decimal) -> bool:
    """A single out-of-area inpatient stay may go to 费用协查 when its total is ≥ 30,000.00 (含)."""
    return Decimal(total_amount) >= ASSIST_THRESHOLD


def assist_answer_due(received_on: date) -> date:
    """The 26th of the month after `received_on`; the 26th counts even when it is not a working day
    (the 规程 says 次月26日前, a calendar date, not a number of working days)."""
    year, month = (received_on.year + 1, 1) if received_on.month == 12 else (received_on.year, received_on.month + 1)
    return date(year, month, ASSIST_ANSWER_DAY)


def assist_confirm_due(answered_on: date) -> date:
    """5 working days after the answer arrived (start day not counted)."""
    return add_working_days(answered_on, ASSIST_CONFIRM_WORKING_DAYS)


def assist_period(due_on: date) -> str:
    """The statistics period (YYYY-MM) a request belongs to: the month its answer is due."""
    return f"{due_on:%Y-%m}"


def coordination_reply_due(kind: str, received_on: date) -> date:
    """备案类 (filing) 2, 系统故障类 (system) 1, 其他 (other) 10 working days after receipt."""
    try:
        days = COORDINATION_REPLY_WORKING_DAYS[kind]
    except KeyError:
        raise ValueError(f"未知的问题类型：{kind!r}（应为 filing、system 或 other）") from None
    return add_working_days(received_on, days)


def coordination_deemed_confirmed_on(replied_on: date) -> date:
    """Not confirmed by the requester within 10 working days of the reply: deemed confirmed on this day."""
    return add_working_days(replied_on, COORDINATION_DEEMED_CONFIRMED_WORKING_DAYS)


def deadline_flag(due_on: date | None, today: date, soon_limit: date) -> str:
    """'overdue', 'due_today', 'due_soon' (within the window) or '' for a queue row."""
    if due_on is None:
        return ""
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "due_today"
    if due_on <= soon_limit:
        return "due_soon"
    return ""
