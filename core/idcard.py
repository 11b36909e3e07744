"""公民身份号码 (GB 11643-1999): validation and what the number tells.

18 characters: a 6-digit address code, an 8-digit birth date (digits 7-14),
a 3-digit sequence whose last digit's parity is the sex (odd = male), and a
check character computed by ISO 7064 MOD 11-2 (0-9 or X).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1880, 1, 1)


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    birth_date: date
    sex: str  # "M" or "F", as core.models.Sex

    @property
    def region_code(self) -> str:
        return self.number[:6]

    @property
    def county_warning(self) -> str:
        """A note, never a refusal: the address code is no current county (区县). Codes change
        (撤县设区) and old cards keep the code they were issued with, so the number stays valid."""
        from core.reference import county_name

        if county_name(self.region_code) is not None:
            return ""
        return f"提示：身份证号前6位{self.region_code}不是现行的县级行政区划代码（可能是调整前的旧代码），请核对证件。"


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    """Strip surrounding blanks and full-width characters a clerk may type; upper-case x."""
    text = (value or "").strip().translate(_FULL_WIDTH).replace(" ", "")
    return text.upper()


def is_whole_id_number(number: str) -> bool:
    """A normalized search text shaped as a whole ID number (17 digits and a check character)."""
    return len(number) == 18 and number[:17].isdigit()


def is_id_tail(number: str) -> bool:
    """A normalized search text that can be the last digits of an ID number (four or more;
    the last may be the check character X)."""
    return len(number) >= 4 and (number.isdigit() or (number[:-1].isdigit() and number.endswith("X")))


_FULL_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"ｘ": "X", "Ｘ": "X"})


def parse_id_number(value: str, *, today: date | None = None) -> IdNumberInfo:
    """Validate and decode an ID number, raising ValidationError with a specific message."""
    if value is None or not str(value).strip():
        raise ValidationError("请填写公民身份号码。", code="id_required")
    number = normalize_id_number(str(value))
    if len(number) != 18:
        raise ValidationError(
            f"公民身份号码应为18位，您输入的是{len(number)}位。", code="id_length", params={"length": len(number)}
        )
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        if not re.fullmatch(r"[0-9]{17}", number[:17]):
            raise ValidationError("公民身份号码前17位只能是数字。", code="id_characters")
        raise ValidationError("公民身份号码第18位（校验码）只能是数字0-9或字母X。", code="id_characters")
    from core.reference import is_known_id_prefix

    if not is_known_id_prefix(number[:2]):
        raise ValidationError(
            f"公民身份号码前两位{number[:2]}不是任何省级行政区划的代码，号码有误，请对照证件核对。", code="id_province"
        )
    birth_text = number[6:14]
    try:
        birth = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:8]))
    except ValueError:
        raise ValidationError(
            f"公民身份号码第7-14位的出生日期{birth_text}不是有效日期。", code="id_birth_date"
        ) from None
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(
            f"公民身份号码中的出生日期{birth:%Y-%m-%d}晚于今天，不可能是有效号码。", code="id_birth_future"
        )
    if birth < _EARLIEST_BIRTH:
        raise ValidationError(f"公民身份号码中的出生日期{birth:%Y-%m-%d}过早，不是有效日期。", code="id_birth_date")
    # The expected character is not shown: a clerk would type it in instead of
    # finding the digit that was really mistyped.
    if number[17] != check_character(number[:17]):
        raise ValidationError(
            "公民身份号码校验码错误：第18位与前17位不符，号码中有抄错的数字，请对照证件逐位核对。",
            code="id_check",
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumberInfo(number=number, birth_date=birth, sex=sex)


def validate_id_number(value: str) -> None:
    """Acceptance interface (domain.md §7): raise ValidationError if `value` is not a valid ID number."""
    parse_id_number(value)


def mask_id_number(number: str) -> str:
    """320106199001011234 -> 320106********1234 (lists show no birth date)."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def build_id_number(region_code: str, birth_date: date, sequence: int) -> str:
    """A valid number for the given parts (demo data and tests); an odd sequence is a man."""
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)


def id_number_hash(value: str) -> str:
    """The blind index of an ID number (core.crypto): what exact search compares.

    Every column holding an ID number uses the same purpose, so a person's hash finds
    their cooperation requests too."""
    from core.crypto import blind_index

    return blind_index(normalize_id_number(value), "id_number")


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


def _mask_if_valid(match) -> str:
    text = match[0].upper()
    # Only a number with a right check character (not a filing number, not a settlement id).
    return mask_id_number(text) if check_character(text[:17]) == text[17] else text


def find_id_numbers(text: str) -> list[str]:
    """The whole, valid ID numbers written in `text`."""
    return [found.upper() for found in _ID_IN_TEXT.findall(text) if check_character(found[:17]) == found[17].upper()]


def redact_id_numbers(value):
    """`value` (text, or lists/dicts of it) with every whole ID number masked as lists show it.

    The audit trail and job payloads keep what happened, not whom it identifies in full:
    a message or a row error quoting a number keeps only its region code and last four."""
    if isinstance(value, str):
        return _ID_IN_TEXT.sub(_mask_if_valid, value)
    if isinstance(value, dict):
        return {key: redact_id_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_id_numbers(item) for item in value]
    return value
