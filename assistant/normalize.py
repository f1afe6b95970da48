"""The one place that normalizes Chinese text, for ingest and for every query path.

Two outputs are kept apart on purpose:
- `clean_input` repairs what users and PDFs do to text (pinyin annotations, traditional
  characters, stray whitespace) while keeping it readable;
- `for_matching` folds everything that must not affect matching (full-width forms,
  all whitespace, case) and is never shown to anyone.
Official text is never passed through either when it is quoted.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A pinyin syllable: optional initial, vowels (at least one), optional n/ng/r final.
_SYLLABLE = rf"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?[aeiouüv{_TONED}]+(?:ng|n|r)?"
# Annotations follow a CJK character: 發(fā)布, 區(qū), with ASCII or full-width brackets.
_PINYIN_ANNOTATION = re.compile(rf"(?<=[{CJK}])[(（]({_SYLLABLE})[)）]", re.IGNORECASE)
_HAS_TONE = re.compile(f"[{_TONED}]")
# Toneless syllables are accepted only from this short list, so "(a)" or "(de)" style
# list markers and English words in brackets are left alone.
_NEUTRAL = {"de", "le", "me", "ne", "zi", "men", "ma", "ba", "zhe", "guo", "li", "shang"}

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACE_RUN = re.compile(r"[ \t\u00a0\u3000]+")
_CJK_ASCII_GAP = re.compile(rf"(?<=[{CJK}，。；：、）〕》”])[ \u00a0]+(?=[0-9A-Za-z%])")
_ASCII_CJK_GAP = re.compile(rf"(?<=[0-9A-Za-z%³²])[ \u00a0]+(?=[{CJK}（〔《“，。；：、])")
_ALL_SPACE = re.compile(r"\s+")
# Only real tag names: coal table cells contain "1000<A≤2500" and "A>10000" as plain text.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def strip_pinyin_annotations(text: str) -> str:
    """Remove reading aids such as `發(fā)布` → `發布`, leaving other brackets alone."""

    def keep_or_drop(m: re.Match[str]) -> str:
        syllable = m.group(1)
        if _HAS_TONE.search(syllable) or syllable.lower() in _NEUTRAL:
            return ""
        return m.group(0)

    return _PINYIN_ANNOTATION.sub(keep_or_drop, text)


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC `t2s`)."""
    if not text:
        return text
    return _t2s().convert(text)


def close_cjk_digit_gaps(text: str) -> str:
    """Remove the spaces PDF extraction puts between CJK and digits: `第 10 号` → `第10号`."""
    text = _CJK_ASCII_GAP.sub("", text)
    return _ASCII_CJK_GAP.sub("", text)


def clean_input(text: str) -> str:
    """Repair user or extracted text for processing: annotations, script, whitespace.

    Keeps punctuation width and line breaks; collapses runs of spaces.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_pinyin_annotations(text)
    text = to_simplified(text)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def fold_width(text: str) -> str:
    """Full-width ASCII forms and ideographic space → half-width (NFKC), case-folded.

    NFKC would also rewrite characters such as `㎡`, which is what matching wants.
    """
    return unicodedata.normalize("NFKC", text).lower()


def strip_markup(text: str) -> str:
    """HTML tables in the coal standard → their cell text."""
    if "<" not in text:
        return text
    return html.unescape(_TAG.sub(" ", text))


def for_matching(text: str) -> str:
    """The matching key of a text: cleaned, simplified, width-folded, without whitespace.

    Two texts that differ only in line breaks, spacing, bracket width or script give the
    same key. Used to compare PDF-derived clauses with the Markdown originals and to match
    user phrases against clause text.
    """
    text = clean_input(strip_markup(text))
    text = fold_width(text)
    return _ALL_SPACE.sub("", text)


def for_search(text: str) -> str:
    """Text handed to the tokenizer and the embedder: cleaned and width-folded, spaces kept."""
    text = clean_input(strip_markup(text))
    return _SPACE_RUN.sub(" ", fold_width(text)).strip()
