"""assistant.numerals: Chinese numerals of article and item numbers."""

from __future__ import annotations

import pytest

from assistant.numerals import parse_chinese_numeral, to_chinese_numeral


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("十九", 19),
        ("二十", 20),
        ("二十一", 21),
        ("九十九", 99),
        ("一百", 100),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一百一十九", 119),
        ("一百九十九", 199),
    ],
)
def test_known_values_both_ways(text, value):
    assert parse_chinese_numeral(text) == value
    assert to_chinese_numeral(value) == text


@pytest.mark.parametrize("n", range(1, 200))
def test_round_trip_1_to_199(n):
    assert parse_chinese_numeral(to_chinese_numeral(n)) == n


def test_formatting_1_to_199_is_unique():
    forms = [to_chinese_numeral(n) for n in range(1, 200)]
    assert len(set(forms)) == 199


@pytest.mark.parametrize(("text", "value"), [("一十一", 11), ("两", 2), ("〇", 0), ("零", 0)])
def test_variant_forms_parse(text, value):
    assert parse_chinese_numeral(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "11", "第十", "三条", "十a", "十十", "一二", "五零", "十百", "零十", "百百"],
)
def test_invalid_numeral_raises(text):
    with pytest.raises(ValueError):
        parse_chinese_numeral(text)


@pytest.mark.parametrize("n", [-1, 10000])
def test_out_of_range_number_raises(n):
    with pytest.raises(ValueError):
        to_chinese_numeral(n)
