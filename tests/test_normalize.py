"""assistant.normalize: pinyin annotations, script, width, whitespace, markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.normalize import (
    clean_input,
    close_cjk_digit_gaps,
    for_matching,
    for_search,
    strip_pinyin_annotations,
    to_simplified,
)

NEWS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "news"
PINYIN_ANNOTATION = re.compile(r"[一-龥]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)")


# -- pinyin annotations ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("發(fā)布", "发布"),
        ("新吳區(qū)人民政府", "新吴区人民政府"),
        ("專(zhuān)項檢查", "专项检查"),
        ("生產(chǎn)安全", "生产安全"),
        ("綠(lǜ)色通道", "绿色通道"),
        ("發（fā）布", "发布"),  # full-width brackets
        ("區（qū）", "区"),
    ],
)
def test_pinyin_annotation_is_removed(raw, expected):
    assert clean_input(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "（一）未设置测试报警装置的",
        "(一)未设置测试报警装置的",
        "测试浴室(含澡堂)未设置排风",
        "测试条款(a)",
        "测试设备(pump)房",
        "测试压力(MPa)超限",
        "第(二)项",
    ],
)
def test_ordinary_brackets_are_kept(text):
    assert strip_pinyin_annotations(text) == text
    assert clean_input(text) == text


def test_toneless_neutral_syllable_is_removed_but_other_toneless_words_stay():
    assert strip_pinyin_annotations("测试的(de)装置") == "测试的装置"
    assert strip_pinyin_annotations("测试(you)装置") == "测试(you)装置"


def test_annotation_not_after_cjk_is_kept():
    assert strip_pinyin_annotations("(fā)布") == "(fā)布"


# -- script ---------------------------------------------------------------------------------
def test_traditional_is_converted_to_simplified():
    assert to_simplified("測試企業應當設置報警裝置") == "测试企业应当设置报警装置"
    assert clean_input("發佈時間：測試區") == "发布时间：测试区"


def test_simplified_text_is_unchanged_by_to_simplified():
    text = "测试企业未按规定设置安全出口的"
    assert to_simplified(text) == text


# -- clean_input whitespace -----------------------------------------------------------------
def test_clean_input_collapses_spaces_and_keeps_line_breaks():
    assert clean_input("  测试  企业\u3000\u3000隐患 \r\n 第二行\r第三行  ") == "测试 企业 隐患\n第二行\n第三行"


def test_clean_input_keeps_punctuation_width():
    assert clean_input("（一）测试，ｋＰａ") == "（一）测试，ｋＰａ"


# -- for_matching ---------------------------------------------------------------------------
def test_for_matching_folds_bracket_width():
    assert for_matching("（一）未设置报警") == for_matching("(一)未设置报警") == "(一)未设置报警"


def test_for_matching_folds_fullwidth_digits_and_letters():
    assert for_matching("３０ｋＰａ") == for_matching("30kPa") == "30kpa"


def test_for_matching_ignores_whitespace_and_line_breaks():
    assert for_matching("有下列\n情形 之一的\u3000\t") == for_matching("有下列情形之一的") == "有下列情形之一的"


def test_for_matching_strips_html_table_tags():
    table = "<table>\n<tr><td>压力</td><td>≤30kPa</td></tr>\n</table>"
    assert for_matching(table) == "压力≤30kpa"
    assert "<" not in for_matching(table)


def test_for_matching_unescapes_entities_inside_tables():
    assert for_matching("<td>1000&lt;A≤2500</td>") == "1000<a≤2500"


def test_for_matching_folds_script_and_pinyin():
    assert for_matching("測試發(fā)布") == for_matching("测试发布") == "测试发布"


def test_for_search_keeps_single_spaces():
    assert for_search("测试  ＧＢ　45067") == "测试 gb 45067"


# -- close_cjk_digit_gaps -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("第 10 号", "第10号"),
        ("2023 年 3 月 15 日", "2023年3月15日"),
        ("测试部令 第 10 号", "测试部令 第10号"),
        ("浓度 1.0% 以上", "浓度1.0%以上"),
    ],
)
def test_close_cjk_digit_gaps(raw, expected):
    assert close_cjk_digit_gaps(raw) == expected


@pytest.mark.parametrize("text", ["GB 45067", "GB 45067-2024", "safety first for all", "test 10 kPa"])
def test_close_cjk_digit_gaps_keeps_ascii_spacing(text):
    assert close_cjk_digit_gaps(text) == text


# -- odd input ------------------------------------------------------------------------------
def test_control_characters_and_zero_width_are_dropped():
    assert clean_input("\x00测\x07试\u200b隐\ufeff患\x1b") == "测试隐患"


def test_emoji_does_not_crash_and_is_kept():
    assert clean_input("测试😀隐患") == "测试😀隐患"
    assert for_matching("测试 😀 隐患") == "测试😀隐患"


@pytest.mark.parametrize("func", [clean_input, for_matching, for_search, to_simplified,
                                  strip_pinyin_annotations, close_cjk_digit_gaps])
def test_empty_string_gives_empty_string(func):
    assert func("") == ""


# -- real news samples (traditional script with pinyin annotations) -------------------------
def _annotated_samples() -> list[Path]:
    if not NEWS_DIR.is_dir():
        return []
    return [p for p in sorted(NEWS_DIR.glob("*.txt"))
            if PINYIN_ANNOTATION.search(p.read_text(encoding="utf-8"))]


def test_news_samples_exist():
    assert _annotated_samples(), f"no annotated news samples under {NEWS_DIR}"


@pytest.mark.parametrize("path", _annotated_samples(), ids=lambda p: p.name)
def test_news_sample_is_clean_and_simplified(path):
    raw = path.read_text(encoding="utf-8")
    out = clean_input(raw)
    assert PINYIN_ANNOTATION.findall(out) == []
    assert to_simplified(out) == out
    assert "(" in raw and len(out) < len(raw)
    if "發(fā)布" in raw:
        assert "发布" in out
        assert "發布" not in out and "發" not in out
