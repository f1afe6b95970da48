"""Figures in a described situation: numbers with their units (digits or spoken Chinese), and the
comparisons a description implies — a stated limit against the actual figure ("核定2人，现场5人"),
a load beside an excavation against its depth (pure, deterministic)."""

from __future__ import annotations

import re

from .numerals import parse_chinese_numeral

# Longer units first: "300mm" must not be read as 300 m.
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(%|mm|mpa|kpa|kwh|kw·h|千瓦时|度|kv|mw|厘米|公分|米|m|人|名|个|台|小时|h|分钟|min|天|月|年|倍|万吨|吨|t|层|级|方)?")
# Spoken numbers: 五个人, 十几米 (at least 11), 三十多人, 二十来个, 一点二, 三成 (30%).
_CN_NUMBER = re.compile(r"([一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千]*(?:点[零〇一二三四五六七八九]+)?)(几|多|来)?\s*"
                        r"(个|人|名|台|米|层|倍|天|年|月|小时|分钟|级|万吨|吨|成|方|千瓦时|度)")
# 二三十米: a span of two neighbouring figures (20 to 30).
_CN_SPAN = re.compile(r"^([一二三四五六七八])([二三四五六七八九])([十百千]?)$")
_DIGITS = "一二三四五六七八九"
_CN_DECIMALS = {"零": "0", "〇": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
                "八": "8", "九": "9"}


def figures(segment: str) -> list[tuple[float, str, int]]:
    """(value, unit, position) of every number; 12个人 counts people, 8个月 months."""
    for wordy, unit in (("个人", "人 "), ("多人", "人 "), ("个月", "月 "), ("个小时", "小时 ")):
        segment = segment.replace(wordy, unit + " " * (len(wordy) - len(unit)))
    out = [(float(m.group(1)), (m.group(2) or "").lower(), m.start()) for m in _NUMBER.finditer(segment)]
    for m in _CN_NUMBER.finditer(segment):
        unit = m.group(3)
        span = _CN_SPAN.match(m.group(1))
        if span and _DIGITS.index(span[2]) == _DIGITS.index(span[1]) + 1:
            # Both ends at one position: a comparison holds only if it holds for both.
            out += [(spoken_number(span[1] + span[3]), unit, m.start()),
                    (spoken_number(span[2] + span[3]), unit, m.start())]
            continue
        value = spoken_number(m.group(1), m.group(2) or "")
        if value is None:
            continue
        if unit == "成":  # 三成 = 30%
            value, unit = value * 10, "%"
        out.append((value, unit, m.start()))
    # 30万吨 = 300000 t, so that it compares with figures in tonnes.
    return [(v * 10000, "吨", pos) if u == "万吨" else (v, u, pos) for v, u, pos in out]


def spoken_number(numeral: str, approx: str = "") -> float | None:
    """"十一" → 11, "一点二" → 1.2, "十" + "几" → 11 (at least), "三十" + "多" → 30 (at least).
    None when it is no numeral."""
    whole, _, decimals = numeral.replace("两", "二").partition("点")
    try:
        value = float(parse_chinese_numeral(whole))
    except ValueError:
        return None
    if decimals:
        digits = "".join(_CN_DECIMALS.get(ch, "") for ch in decimals)
        if len(digits) != len(decimals):
            return None
        value += float("0." + digits)
    if approx == "几" and whole.endswith("十"):
        value += 1  # 十几 is more than ten
    return value


# A stated limit and the actual figure in the same description ("核定2人，现场5人"): the text gets
# the comparison spelled out so that criteria about exceeding a limit can be matched.
_LIMIT_WORDS = ("核定", "额定", "设计", "限员", "定员", "核载", "限载", "允许", "规定", "批准", "许可", "最多", "上限",
                "控制值", "控制", "需风量", "需要", "要求")
_READING_WORDS = ("实际", "实测", "测得", "现在", "目前", "运行", "显示", "读数", "表上")
_RATED_DEVICE = re.compile(r"(\d+(?:\.\d+)?\s*(?:吨|t)的?(?:天车|行车|桥吊|航吊|门吊|起重机|吊车|塔吊|电动葫芦|葫芦|叉车))")
_QUANTITIES = ("压力", "温度", "载荷", "起重量", "重量", "速度", "浓度", "液位", "电流", "电压", "流量")
_OVER_WORDS = {"人": "超员，超过核定人数", "名": "超员，超过核定人数", "吨": "超载，超过额定载荷",
               "t": "超载，超过额定载荷"}


def _figure(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def with_stated_comparisons(text: str) -> str:
    """`text` (prepared) plus "（推算：5人超过核定的2人，超员…）" for each limit that a figure of the
    same unit in the text exceeds."""
    # "5吨的天车" states the rating of the crane: read it as 额定5吨.
    scan = _RATED_DEVICE.sub(r"额定\1", text)
    # 定员两个 … 五个人: 个 and 名 count people when compared with people.
    numbers = sorted(((v, "人" if u in ("个", "名") else u, pos) for v, u, pos in figures(scan)),
                     key=lambda n: n[2])

    def lead(i: int) -> str:
        """The words just before number i, back to the previous number of its unit or clause mark
        (≤ 8 chars; "设计一年30万吨": 一年 is no figure of tonnes)."""
        _, unit, pos = numbers[i]
        previous = [n[2] for n in numbers[:i] if n[1] == unit]
        start = max(pos - 8, previous[-1] + 1 if previous else 0)
        return re.split(r"[,，;；。]", scan[start:pos])[-1]

    def is_limit(i: int) -> bool:
        return any(w in lead(i) for w in _LIMIT_WORDS)

    def quantity(i: int) -> str:
        return next((q for q in _QUANTITIES if q in lead(i)), "")

    def same_kind(i: int, j: int) -> bool:
        # A figure without a unit ("额定压力1.25MPa，压力表显示1.6") compares only when both name one
        # quantity, or the second is read off the same thing (实际, 显示 …).
        if numbers[j][1] == numbers[i][1] != "":
            return True
        if numbers[j][1] and numbers[i][1]:
            return False
        return quantity(j) == quantity(i) or (not quantity(j) and any(w in lead(j) for w in _READING_WORDS))

    notes = []
    for i, (limit, unit, pos) in enumerate(numbers):
        word = next((w for w in _LIMIT_WORDS if w in lead(i)), "") if unit or quantity(i) else ""
        if not word:
            continue
        # The actual figure: the next one of the same unit that is no limit, else the one before
        # ("实际出了38万吨，设计30万吨").
        later = [j for j in range(i + 1, len(numbers)) if same_kind(i, j) and not is_limit(j)]
        earlier = [j for j in range(i - 1, -1, -1) if same_kind(i, j) and not is_limit(j)]
        if not later and not earlier:
            continue
        actual = numbers[(later or earlier)[0]][0]
        if actual > limit:
            over = _OVER_WORDS.get(unit, f"超过{word}值")
            if unit in ("吨", "t") and word in ("设计", "核定", "批准", "许可"):
                over = f"超能力生产，超过{word}生产能力"  # tonnes against a capacity are output, not a load
            # Criteria state such excesses as a share: 超过限员规定20%, 超核定能力10%.
            short = {"人": "超员", "名": "超员"}.get(unit) or ("超能力" if "能力" in over else "超载" if "超载" in over
                                                          else f"超过{word}")
            share = f"{short}{_figure(round((actual - limit) / limit * 100, 1))}%" if limit > 0 else ""
            notes.append(f"（推算：{_figure(actual)}{unit}超过{word}的{_figure(limit)}{unit}，超过{word}，{over}；{share}）")
        elif actual < limit:
            value = word if word.endswith("值") else word + "值"
            within = "未超员，" if unit in ("人", "名") else ""
            # Minimums are stated as a share too: 实际供风量小于需风量的75%.
            share = f"；为{word}的{_figure(round(actual / limit * 100, 1))}%" if limit > 0 else ""
            notes.append(f"（推算：{_figure(actual)}{unit}低于{word}的{_figure(limit)}{unit}，小于{value}，低于{value}，"
                         f"{within}未超过{word}{share}）")
    notes += _load_within_depth(numbers, lead, scan)
    return text + "".join(notes)


def _load_within_depth(numbers, lead, text: str) -> list[str]:
    """"基坑深3米，堆土离坑边5米": a load beside an excavation is within its reach when it is
    nearer than the excavation is deep."""
    metres = [i for i, n in enumerate(numbers) if n[1] in ("米", "m")]

    def is_depth(i: int) -> bool:  # 深3米 or 3米深
        return "深" in lead(i) or bool(re.match(r"[\d.一二三四五六七八九十两点多]+\s*(?:米|m)深", text[numbers[i][2]:]))
    depth = next((numbers[i][0] for i in metres if is_depth(i)), None)
    gap = next((numbers[i][0] for i in metres if re.search(r"[离距]", lead(i)) and "深" not in lead(i)), None)
    if depth is None or gap is None:
        return []
    where = "大于开挖深度，在开挖深度范围以外" if gap > depth else "在开挖深度范围内"
    return [f"（推算：堆载距坑边{_figure(gap)}米，开挖深度{_figure(depth)}米，{where}）"]
