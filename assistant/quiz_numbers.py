"""Numbers in legal text for quiz questions: find thresholds, dates, penalty ranges and deadlines
with their units, and write plausible wrong versions (same unit and notation, another magnitude).
Pure."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .numerals import parse_chinese_numeral, to_chinese_numeral

_CN = "[〇零一二两三四五六七八九十百千]+"
_AR = r"\d+(?:\.\d+)?"
_NUM = f"(?:{_AR}|{_CN})"
_UNITS = ("万元", "元", "个工作日", "个月", "小时", "min", "日", "天", "年", "人", "名", "米", "mm", "厘米", "cm",
          "公里", "km", "m", "MPa", "kPa", "千伏", "kV", "兆瓦", "MW", "%", "℃", "倍", "吨", "层", "次",
          "立方米", "平方米", "㎡", "ppm")
_UNIT = "|".join(re.escape(u) for u in _UNITS)

# Most specific first: a penalty range must not be read as two separate amounts.
# (kind, pattern, groups holding figures, unit: a group number or a fixed label)
PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[int, ...], int | str], ...] = (
    ("range", re.compile(rf"({_NUM})(万元|元|倍)以上({_NUM})(?:万元|元|倍)以下"), (1, 3), 2),
    ("range", re.compile(rf"百分之({_CN})以上百分之({_CN})以下"), (1, 2), "百分比"),
    ("date", re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"), (1, 2, 3), "日期"),
    ("percent", re.compile(rf"百分之({_CN})"), (1,), "百分比"),
    # "10min" is no "10m": a Latin unit must not run on into more letters.
    ("quantity", re.compile(rf"({_NUM})\s*({_UNIT})(?![A-Za-z])"), (1,), 2),
)
# "第十一条", "一级" and years are not quantities a question should ask about.
_NOT_BEFORE = ("第", "前", "每", "上", "下", "同", "统", "唯", "之")
_COUNTING = ("至少", "进行", "每", "超过", "不少于")
_RATIOS = {
    "easy": (10.0, 0.1, 5.0, 0.2, 20.0),
    "medium": (2.0, 0.5, 3.0, 5.0, 0.2, 10.0),
    "hard": (2.0, 0.5, 1.5, 3.0, 2 / 3, 4.0),
}


@dataclass(frozen=True)
class NumberSpan:
    """One number (or range or date) in a text, with the character spans of its figures."""

    start: int
    end: int
    text: str
    kind: str  # range | date | percent | quantity
    values: tuple[float, ...]
    figures: tuple[tuple[int, int], ...]  # spans of each figure, relative to `start`
    notation: tuple[str, ...]  # per figure: "cn" (二十) or "ar" (20, 1.5)
    unit: str

    @property
    def integral(self) -> bool:
        """Whole numbers written without decimals (1.0% keeps its decimal place)."""
        return all(v == int(v) and "." not in self.text[s:e] for v, (s, e) in zip(self.values, self.figures))


def _value(figure: str) -> tuple[float, str]:
    if re.fullmatch(_AR, figure):
        return float(figure), "ar"
    return float(parse_chinese_numeral(figure.replace("〇", "零"))), "cn"


def find_numbers(text: str) -> list[NumberSpan]:
    """Every quiz-worthy number in `text`, left to right, without overlaps."""
    taken: list[tuple[int, int]] = []
    out: list[NumberSpan] = []
    for kind, pattern, groups, unit_of in PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            before = text[max(0, m.start() - 1):m.start()]
            if before in _NOT_BEFORE or before.isdigit() or before == ".":
                continue
            try:
                parsed = [_value(m.group(g)) for g in groups]
            except ValueError:
                continue
            unit = m.group(unit_of) if isinstance(unit_of, int) else unit_of
            if kind == "quantity" and unit == "年" and parsed[0][1] == "ar" and parsed[0][0] >= 1900:
                continue  # a year, not a duration
            if unit == "次" and not any(w in text[max(0, m.start() - 4):m.start()] for w in _COUNTING):
                continue  # 二次保护装置 is a term, 每年至少进行一次 a count
            taken.append((m.start(), m.end()))
            out.append(NumberSpan(
                start=m.start(), end=m.end(), text=m.group(0), kind=kind,
                values=tuple(v for v, _ in parsed),
                figures=tuple((m.start(g) - m.start(), m.end(g) - m.start()) for g in groups),
                notation=tuple(n for _, n in parsed), unit=unit))
    return sorted(out, key=lambda s: s.start)


def _render(value: float, notation: str, decimals: int) -> str | None:
    if notation == "cn":
        if value != int(value) or not 0 < value < 10000:
            return None
        return to_chinese_numeral(int(value))
    if decimals:
        return f"{value:.{decimals}f}"
    return str(int(value)) if value == int(value) else None


def _nice(x: float, integral: bool, like: float = 0.0) -> float:
    """A round number near x; as round as `like` (40 → multiples of 10), so 百分之四十 is not
    answered by 百分之八."""
    if integral and like >= 10 and like == int(like):
        step = 10 ** (len(str(int(like))) - len(str(int(like)).rstrip("0")))
        return float(round(x / step) * step)
    if integral:
        if x >= 20:
            step = 10 if x < 200 else 50 if x < 1000 else 100
            return float(round(x / step) * step)
        return float(round(x))
    return round(x, 2)


def render(span: NumberSpan, values: tuple[float, ...]) -> str | None:
    """The span's text with its figures replaced by `values` (same notation); None when a value
    cannot be written that way (a fraction in Chinese numerals, a negative amount …)."""
    text = span.text
    for (s, e), value, notation in sorted(zip(span.figures, values, span.notation), reverse=True):
        original = text[s:e]
        decimals = len(original.split(".")[1]) if notation == "ar" and "." in original else 0
        figure = _render(value, notation, decimals)
        if figure is None:
            return None
        text = text[:s] + figure + text[e:]
    return text


def _plausible(span: NumberSpan, values: tuple[float, ...]) -> bool:
    if any(v <= 0 for v in values):
        return False
    if span.unit in ("%", "百分比") and any(v > 100 for v in values):
        return False
    if span.kind == "range" and not values[0] < values[1]:
        return False
    if span.kind == "date":
        year, month, day = values
        return 1949 < year < 2100 and 1 <= month <= 12 and 1 <= day <= 28
    return True


def wrong_versions(span: NumberSpan, rng: random.Random, difficulty: str = "medium", limit: int = 5) -> list[str]:
    """Up to `limit` distinct texts that differ from `span.text` only in magnitude, same unit."""
    candidates: list[tuple[float, ...]] = []
    if span.kind == "date":
        year, month, day = span.values
        for dy in (1, -1, 2, -2, 3):
            candidates.append((year + dy, month, day))
        for dm in (1, -1, 3):
            candidates.append((year, month + dm, day))
    else:
        ratios = list(_RATIOS.get(difficulty, _RATIOS["medium"]))
        for r in ratios:
            candidates.append(tuple(_nice(v * r, span.integral, v) for v in span.values))
        if span.kind == "range":
            lo, hi = span.values
            for r in ratios[:3]:
                candidates.append((lo, _nice(hi * r, span.integral, hi)))
                candidates.append((_nice(lo * r, span.integral, lo), hi))
    rng.shuffle(candidates)
    out: list[str] = []
    for values in candidates:
        if values == span.values or not _plausible(span, values):
            continue
        text = render(span, values)
        if text and text != span.text and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out
