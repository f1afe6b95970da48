"""Numbers as inspectors say them, and a stated limit compared with the actual figure."""

from __future__ import annotations

import re

import pytest

from assistant.criteria import NUMBER, PRESENT, Condition
from assistant.matching import MET, evaluate_condition, prepare
from assistant.quantities import figures, spoken_number, with_stated_comparisons


@pytest.mark.parametrize("numeral, approx, value", [
    ("十一", "", 11), ("一点二", "", 1.2), ("零点五", "", 0.5), ("十", "几", 11), ("三十", "多", 30),
    ("二十", "来", 20), ("两百", "", 200),
])
def test_spokenfigures(numeral, approx, value):
    assert spoken_number(numeral, approx) == pytest.approx(value)


def test_no_numeral_is_none():
    assert spoken_number("几") is None
    assert spoken_number("一点x") is None


def test_three_tenths_is_thirty_percent():
    assert (30.0, "%") in [(v, u) for v, u, _ in figures(prepare("产量超了三成"))]


def test_ten_odd_minutes_exceed_ten_minutes():
    condition = Condition("持续超过10分钟", NUMBER, terms=("持续",), op=">", value=10, unit="分钟")
    assert evaluate_condition(condition, prepare("甲烷超限持续了十几分钟")).status == MET


@pytest.mark.parametrize("text, words", [
    ("装药工房核定2人，现场有5个人在干活", "超员"),
    ("运人车核载12人，实际坐了18人", "超过核定人数"),
    ("起重机额定3吨，吊了5吨", "超载"),
])
def test_an_actual_figure_over_the_stated_limit_is_spelled_out(text, words):
    augmented = with_stated_comparisons(prepare(text))
    assert augmented.startswith(prepare(text)) and words in augmented
    condition = Condition("超员或超载", PRESENT, terms=(words,))
    assert evaluate_condition(condition, augmented).status == MET


@pytest.mark.parametrize("text", ["装药工房核定5人，现场有2个人", "核定2人，实际2人", "现场5人，核定……", "起重机额定3吨，吊了5人"])
def test_no_excess_when_within_the_limit_or_other_units(text):
    augmented = with_stated_comparisons(prepare(text))
    assert augmented.startswith(prepare(text))
    assert not re.search(r"(?<!未)(超过|超员)", augmented), augmented


def test_head_counts_in_ge_and_ren_are_compared():
    augmented = with_stated_comparisons(prepare("装药工房定员两个，我进去数了五个人在干活"))
    assert "超员" in augmented


@pytest.mark.parametrize("text, words", [
    ("石灰石矿设计一年30万吨，去年实际出了38万吨", "超能力26.7%"),   # 万吨, a year in between
    ("去年实际出了38万吨，设计能力30万吨", "超过设计"),               # the limit stated after
    ("矿上核定能力九十万吨，今年已经出了一百零五万吨", "超能力16.7%"),  # spoken, with 零
    ("规定单班最多35人，今天早班下去了46个", "超员31.4%"),
])
def test_an_excess_is_also_stated_as_a_share_of_the_limit(text, words):
    assert words in with_stated_comparisons(prepare(text))


def test_a_figure_short_of_a_required_minimum_is_spelled_out():
    augmented = with_stated_comparisons(prepare("浸润线埋深只有3米，控制值是6米"))
    assert "低于控制值" in augmented and not re.search(r"(?<!未)超过", augmented)


def test_a_figure_within_the_limit_says_no_excess():
    augmented = with_stated_comparisons(prepare("运人车核载22人，今天坐了20人"))
    assert "低于核载" in augmented and "未超员" in augmented
    assert not re.search(r"(?<!未)(超过|超员)", augmented), augmented


def test_a_shortfall_is_also_stated_as_a_share_of_the_requirement():
    augmented = with_stated_comparisons(prepare("掘进工作面需风量600方每分，实测才400方"))
    assert "为需风量的66.7%" in augmented


@pytest.mark.parametrize("text", ["锅炉额定压力1.25，现在运行压力1.4", "容器设计压力1.6，实际1.8",
                                  "锅炉额定压力1.25MPa，现场压力表显示1.6", "这台5吨的天车吊了8吨的模具"])
def test_figures_without_a_unit_compare_when_they_name_one_quantity(text):
    assert "超过" in with_stated_comparisons(prepare(text))


@pytest.mark.parametrize("text", ["额定压力1.25，温度30", "设计压力1.6，有3台", "额定压力1.25，运行压力1.0",
                                  "额定压力1.25MPa，有3台", "这台5吨的天车吊了3吨"])
def test_figures_without_a_unit_of_another_quantity_or_lower_state_no_excess(text):
    assert not re.search(r"(?<!未)超过", with_stated_comparisons(prepare(text)))


@pytest.mark.parametrize("text, status", [
    ("进风井口二三十米堆着柴油桶", MET),          # both ends within 50 m
    ("进风井口七八十米堆着柴油桶", "contradicted"),
    ("进风井口五六十米堆着柴油桶", "unknown"),     # the span straddles the limit: ask
])
def test_a_spoken_span_decides_only_when_both_ends_agree(text, status):
    condition = Condition("距离不超过50米", NUMBER, terms=("井口",), op="<=", value=50, unit="m|米")
    assert evaluate_condition(condition, prepare(text)).status == status


@pytest.mark.parametrize("text", ["锂电池三十多度电", "锂电池30kWh", "锂电池30千瓦时"])
def test_battery_energy_in_du_or_kwh(text):
    condition = Condition("电量2kWh以上", NUMBER, terms=("锂电池",), op=">=", value=2, unit="kwh|千瓦时|度")
    assert evaluate_condition(condition, prepare(text)).status == MET


@pytest.mark.parametrize("text, words", [
    ("基坑深3米放坡开挖，堆土离坑边5米", "在开挖深度范围以外"),
    ("沟槽挖了4米深，土就堆在距槽边2米的地方", "在开挖深度范围内"),
])
def test_a_load_beside_an_excavation_is_compared_with_its_depth(text, words):
    assert words in with_stated_comparisons(prepare(text))


def test_no_depth_comparison_without_both_figures():
    assert "开挖深度" not in with_stated_comparisons(prepare("堆土离坑边5米"))
