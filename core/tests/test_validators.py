"""Shared plausibility checks (issue 14, finding 5): pure functions, no database."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.idcard import build_id_number, validate_id_number
from core.validators import care_date_problems, hidden_characters, parse_amount, validate_plain_text

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize("text", ["1e20", "-1e20", "1e400", "NaN", "Infinity", "abc", "", None, "1000000000000"])
def test_an_absurd_amount_is_no_amount(text):
    assert parse_amount(text) is None


def test_an_ordinary_amount_is_read():
    assert parse_amount(" 1234.56 ") == Decimal("1234.56")


def test_care_in_1900_is_refused_with_the_year_to_check():
    problems = care_date_problems(date(1900, 1, 2), date(1900, 1, 5), birth_date=date(1950, 1, 1), today=TODAY)
    assert problems == ["入院（就诊）日期 1900-01-02 早于 2021-12-05（5年前），不是可以受理的零星报销，请核对年份。"]


def test_care_before_the_persons_birth_is_refused():
    problems = care_date_problems(date(2024, 5, 1), date(2024, 5, 3), birth_date=date(2024, 6, 1), today=TODAY)
    assert problems == ["入院（就诊）日期 2024-05-01 早于参保人的出生日期 2024-06-01，请核对。"]


def test_recent_care_of_a_living_person_passes():
    assert care_date_problems(date(2026, 3, 2), date(2026, 3, 10), birth_date=date(1950, 1, 1), today=TODAY) == []


@pytest.mark.parametrize("name", ["\u202e三张", "张\u200b三", "张三\x07", "李\u2066四\u2069"])
def test_names_with_invisible_control_characters_are_refused(name):
    with pytest.raises(ValidationError) as excinfo:
        validate_plain_text(name, "姓名")
    assert "姓名中含有不可见的控制字符" in excinfo.value.messages[0]


def test_the_override_character_is_named_in_the_message():
    assert hidden_characters("\u202e三张") == ["U+202E"]


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿依古丽·买买提", "\U0002a6a5"])
def test_real_names_pass(name):
    validate_plain_text(name, "姓名")


def test_an_id_number_with_an_unknown_region_is_refused():
    number = build_id_number("990000", date(1980, 1, 1), 11)
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(number)
    assert "前两位99不是任何省级行政区划的代码" in excinfo.value.messages[0]
    assert excinfo.value.code == "id_province"


@pytest.mark.parametrize("region", ["110101", "320106", "650102", "810000", "830000"])
def test_id_numbers_of_every_province_and_of_hong_kong_macao_taiwan_pass(region):
    validate_id_number(build_id_number(region, date(1980, 1, 1), 11))
