from datetime import date

import pytest
from django.core.exceptions import ValidationError

from core.idcard import build_id_number, mask_id_number, parse_id_number, validate_id_number

VALID_WITH_X = "11010519491231002X"  # the standard's own worked example


def message_of(value: str) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(value)
    return excinfo.value.messages[0]


@pytest.mark.parametrize(
    "value",
    [VALID_WITH_X, "11010519491231002x", " 11010519491231002X ", build_id_number("320106", date(1990, 1, 1), 123)],
)
def test_valid_numbers_pass(value):
    validate_id_number(value)


def test_lower_case_x_is_normalised():
    assert parse_id_number("11010519491231002x").number == VALID_WITH_X


def test_full_width_digits_typed_by_an_input_method_are_accepted():
    full_width = "".join(chr(0xFF10 + int(ch)) if ch.isdigit() else ch for ch in VALID_WITH_X)
    assert parse_id_number(full_width).number == VALID_WITH_X


def test_birth_date_and_sex_come_from_the_number():
    info = parse_id_number(VALID_WITH_X)
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "F"  # 17th digit 2 is even
    man = parse_id_number(build_id_number("320106", date(1980, 2, 29), 15))
    assert man.sex == "M" and man.birth_date == date(1980, 2, 29)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "请填写公民身份号码"),
        ("1101051949123100", "应为18位，您输入的是16位"),
        ("1101051949123100211", "应为18位，您输入的是19位"),
        ("1101051949A231002X", "前17位只能是数字"),
        ("11010519491231002Y", "第18位（校验码）只能是数字0-9或字母X"),
        ("110105194912310021", "校验码错误：第18位与前17位不符"),
    ],
)
def test_bad_numbers_say_what_is_wrong(value, expected):
    assert expected in message_of(value)


def test_impossible_birth_date_is_named():
    first17 = "11010519900230001"  # 30 February
    from core.idcard import check_character

    assert "出生日期19900230不是有效日期" in message_of(first17 + check_character(first17))


def test_future_birth_date_is_refused():
    future = build_id_number("320106", date(2099, 1, 1), 11)
    assert "晚于今天" in message_of(future)


def test_birth_date_checked_before_check_character():
    # Wrong check character AND impossible date: the date is the first thing a clerk must fix.
    assert "不是有效日期" in message_of("110105199013010010")


def test_mask_keeps_region_and_last_four():
    assert mask_id_number("320106199001011234") == "320106********1234"
    assert mask_id_number("") == ""


def test_digits_of_other_scripts_are_refused():
    arabic_indic = "".join(chr(0x0660 + int(ch)) if ch.isdigit() else ch for ch in VALID_WITH_X)
    assert "前17位只能是数字" in message_of(arabic_indic)


def test_number_whose_first_two_digits_are_no_province_is_refused():
    number = build_id_number("990101", date(1980, 1, 1), 11)  # 99: no province; check character right
    message = message_of(number)
    assert "前两位99不是任何省级行政区划的代码" in message


@pytest.mark.parametrize("prefix", ["650102", "360702", "810000"])
def test_numbers_of_every_province_and_hong_kong_pass(prefix):
    validate_id_number(build_id_number(prefix, date(1980, 1, 1), 11))


def test_unknown_county_code_is_only_a_warning():
    # 320103 (南京 白下区) was merged into 秦淮区 in 2013: old cards still carry it.
    info = parse_id_number(build_id_number("320103", date(1950, 5, 1), 11))
    assert "不是现行的县级行政区划代码" in info.county_warning
    assert parse_id_number(build_id_number("320106", date(1950, 5, 1), 11)).county_warning == ""
