"""Chinese numerals as used in article and item numbers (一 … 一百一十九, 〇/零)."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

CHINESE_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)


def parse_chinese_numeral(text: str) -> int:
    """`十一` → 11, `一百零五` → 105, `二十` → 20. Raises ValueError on anything else."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, digit, last_unit = 0, None, 10 ** 9
    for ch in text:
        if ch in _DIGITS:
            if digit:  # two digits in a row ("一二", "五零") is no numeral
                raise ValueError(f"not a Chinese numeral: {text!r}")
            digit = _DIGITS[ch]
        else:
            unit = _UNITS[ch]
            if unit >= last_unit or digit == 0:  # "十十", "十百", "零十"
                raise ValueError(f"not a Chinese numeral: {text!r}")
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    return total + (digit or 0)


def to_chinese_numeral(n: int) -> str:
    """11 → `十一`, 105 → `一百零五`, 119 → `一百一十九` (the form laws use)."""
    if n < 0 or n >= 10000:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return "零"
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    zero_pending = False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit_value % 10
        if d == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        # 10–19 are written 十、十一 … without the leading 一.
        if not (unit == "十" and d == 1 and n < 20):
            parts.append(digits[d])
        parts.append(unit)
    return "".join(parts)
