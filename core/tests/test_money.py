from decimal import Decimal

import pytest

from core.money import amount_in_words, format_yuan, quantize_yuan, round_wanyuan, yuan_to_wanyuan


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100000", "壹拾万元整"),
        ("100000.00", "壹拾万元整"),
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("1.50", "壹元伍角"),
        ("1.05", "壹元零伍分"),
        ("10", "壹拾元整"),
        ("15", "壹拾伍元整"),
        ("101", "壹佰零壹元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("10500", "壹万零伍佰元整"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10000", "壹万元整"),
        ("1000000", "壹佰万元整"),
        ("10000001", "壹仟万零壹元整"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("120000000.3", "壹亿贰仟万元叁角"),
        ("-25.10", "负贰拾伍元壹角"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_amount_in_words_rounds_to_the_cent_half_up():
    assert amount_in_words(Decimal("0.125")) == "壹角叁分"


def test_format_yuan_has_two_decimals_and_thousands_separators():
    assert format_yuan(Decimal("1234567.5")) == "1,234,567.50"
    assert format_yuan(0) == "0.00"
    assert format_yuan(Decimal("12.345")) == "12.35"
    assert format_yuan(Decimal("99.5"), grouping=False) == "99.50"


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [("0", 0), ("4999.99", 0), ("5000", 1), ("15000", 2), ("25000", 3), ("1234567.89", 123), ("-5000", -1)],
)
def test_wanyuan_rounds_half_up(yuan, wan):
    assert yuan_to_wanyuan(Decimal(yuan)) == wan


def test_round_wanyuan_of_an_amount_already_in_wanyuan():
    assert round_wanyuan(Decimal("12.5")) == 13
    assert round_wanyuan(Decimal("12.49")) == 12


def test_quantize_never_uses_float():
    assert quantize_yuan(0.1 + 0.2) == Decimal("0.30")
