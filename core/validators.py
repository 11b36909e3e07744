from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with a Chinese message (its zh-hans catalogue lacks this one)."""

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                f"密码太短：至少需要{self.min_length}个字符，您输入的是{len(password)}个。",
                code="password_too_short",
                params={"min_length": self.min_length},
            )

    def get_help_text(self):
        return f"密码至少需要{self.min_length}个字符。"


# --- Plausibility of what staff type in (issue 14, finding 5) ------------------------------------
# Shared by forms, services and the live panels so that an absurd value gets a Chinese
# message instead of an error page, and an implausible claim is refused before it is stored.

#: One manual claim (零星报销) above ten million yuan is a typing error, not a hospital stay.
MAX_CLAIM_AMOUNT = Decimal("9999999.99")
#: What a money column can hold at all (max_digits=14): beyond it nothing is computed.
MAX_STORED_AMOUNT = Decimal("999999999999.99")
#: Care older than this many years is not a claim the counter can still take in.
CARE_LOOKBACK_YEARS = 5
#: Advances and allotments are whole 万元; a province's figure beyond this is a typing error
#: (and would not fit the database's integer column).
MAX_WAN_YUAN = 99_999_999


def parse_amount(value, *, limit: Decimal = MAX_STORED_AMOUNT) -> Decimal | None:
    """A finite amount typed into a form (blank, text, NaN, Infinity, 1e20 and anything
    beyond `limit` either way give None): for previews that must never fail."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or abs(amount) > limit:
        return None
    return amount


def care_date_problems(admission: date | None, discharge: date | None, *, birth_date: date | None,
                       today: date) -> list[str]:
    """Why the dates of a stay or visit cannot be real (empty list when they can)."""
    problems = []
    earliest = _years_before(today, CARE_LOOKBACK_YEARS)
    for label, day in (("入院（就诊）日期", admission), ("出院（就诊）日期", discharge)):
        if day is None:
            continue
        if day < earliest:
            problems.append(
                f"{label} {day:%Y-%m-%d} 早于 {earliest:%Y-%m-%d}（{CARE_LOOKBACK_YEARS}年前），"
                "不是可以受理的零星报销，请核对年份。"
            )
            break
        if birth_date is not None and day < birth_date:
            problems.append(f"{label} {day:%Y-%m-%d} 早于参保人的出生日期 {birth_date:%Y-%m-%d}，请核对。")
            break
    return problems


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


#: Unicode categories no name, account or invoice number contains: control characters
#: (Cc), invisible format characters such as U+202E RIGHT-TO-LEFT OVERRIDE or zero-width
#: spaces (Cf) and lone surrogates (Cs). Private-use and recently assigned code points
#: stay allowed: rare characters in names (生僻字) are still typed that way.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs"}


def hidden_characters(value: str) -> list[str]:
    """The forbidden characters in `value`, as U+XXXX codes (empty when it is clean)."""
    found = []
    for char in value or "":
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES and char not in ("\n", "\r", "\t"):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def plain_text_problem(value: str, label: str) -> str | None:
    """A Chinese message when `value` holds invisible or control characters, else None."""
    found = hidden_characters(value)
    if not found:
        return None
    return (
        f"{label}中含有不可见的控制字符（{'、'.join(found[:3])}），可能会改变文字的显示顺序，"
        "请删除后重新输入（不要从其他文档中复制粘贴）。"
    )


def validate_plain_text(value: str, label: str = "填写的内容") -> None:
    problem = plain_text_problem(value, label)
    if problem:
        raise ValidationError(problem, code="hidden_characters")
