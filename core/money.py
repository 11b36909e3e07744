"""Money helpers: yuan with two decimals, 万元 rounding, amounts in 大写.

Money is always Decimal. The 大写 rules follow the People's Bank rules for
filling in bills (《正确填写票据和结算凭证的基本规定》): a zero inside the number is
written once as 零; 元 is followed by 整 when there are no 角/分; a 角 of zero
with a non-zero 分 is written 零; 10-19 read 壹拾….
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
TEN_THOUSAND = Decimal("10000")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def to_decimal(value: Decimal | int | str | float | None) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"不是有效金额：{value!r}") from exc
    if not amount.is_finite() or abs(amount) >= Decimal("1e15"):
        raise ValueError(f"不是有效金额：{value!r}")
    return amount


def quantize_yuan(value: Decimal | int | str) -> Decimal:
    """Round half up to the cent (never a negative zero)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP) + 0


def format_yuan(value: Decimal | int | str | None, *, grouping: bool = True) -> str:
    """12345.6 -> '12,345.60'."""
    amount = quantize_yuan(value if value is not None else 0)
    return f"{amount:,.2f}" if grouping else f"{amount:.2f}"


def yuan_to_wanyuan(value: Decimal | int | str) -> int:
    """Yuan to whole 万元, rounded half up (advances are set in 万元 with no decimals)."""
    return int((to_decimal(value) / TEN_THOUSAND).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def round_wanyuan(value: Decimal | int | str) -> int:
    """An amount already in 万元, to whole 万元, half up."""
    return int(to_decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _four_digits(number: int) -> str:
    """0 < number < 10000, read with 零 for inner zeros (no leading/trailing 零)."""
    text = ""
    zero_pending = False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            if text:
                zero_pending = True
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def amount_in_words(value: Decimal | int | str) -> str:
    """Decimal('12345.67') -> '壹万贰仟叁佰肆拾伍元陆角柒分'; 100000 -> '壹拾万元整'."""
    amount = quantize_yuan(value)
    sign = ""
    if amount < 0:
        sign, amount = "负", -amount
    cents = int(amount * 100)
    integer, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if integer >= 10**16:
        raise ValueError("金额过大，无法转换为大写。")

    words = ""
    if integer:
        groups = []
        rest = integer
        while rest:
            groups.append(rest % 10000)
            rest //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(words)
                continue
            if words and (need_zero or group < 1000):
                words += "零"
            words += _four_digits(group) + _GROUP_UNITS[index]
            need_zero = False
        words += "元"

    if jiao == 0 and fen == 0:
        return sign + (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return sign + words
