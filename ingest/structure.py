"""Structure a document body (one paragraph per line) into Clause objects.

Pure: takes lines of text, returns clauses. Loaders (Markdown, PDF, DOCX) turn their
formats into such lines first, so every format goes through the same structuring.

Three numbering families (ARCHITECTURE.md):
- 条/项: 第十一条 → （十） → 1. ;
- lists with no articles: 一、 takes the article position (and, in the metal-mine
  standard, 一、 is a part with （一） items and 1. sub-items below it);
- GB dotted clauses: 4.3 → b).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.model import (
    ARTICLE,
    FAMILY_ARTICLES,
    FAMILY_GB,
    FAMILY_LIST,
    ITEM,
    SUB_ITEM,
    Clause,
)
from assistant.numerals import CHINESE_NUMERAL_CHARS, parse_chinese_numeral

N = f"[{CHINESE_NUMERAL_CHARS}]+"
# "第三条第二款…" / "第三条、第四条…" at a line start are cross-references, not headings.
ARTICLE_RE = re.compile(rf"^第({N})条(?![第、和至])")
CHAPTER_RE = re.compile(rf"^第({N})([章节])(?:\s|　|$)")
LIST_RE = re.compile(rf"^({N})、")
ITEM_RE = re.compile(rf"^[（(]({N})[）)]")
SUB_RE = re.compile(r"^(\d{1,2})[.．、](\d)?")
# "1.0%", "1.5%": a decimal number that opens a line, never a sub-item marker.
DECIMAL_RE = re.compile(r"^\d{1,2}[.．](?:0|\d%)")
GB_RE = re.compile(r"^(\d+(?:\.\d+)+)(?:\s|　|$)")
GB_ITEM_RE = re.compile(r"^([a-z])\)")
# Lines that stay with the innermost clause: tables, their captions, (1) sub-points, ① marks.
ATTACHED_RE = re.compile(r"^(<table|表\s*\d|[（(]\d+[）)]|[①-⑳])")
CAPTION_RE = re.compile(r"^(<table|表\s*\d)")
HEADING_RE = re.compile(r"^(#{1,6})\s*(.*)$")
COMMENT_RE = re.compile(r"<!--.*?-->", re.S)


class StructureError(ValueError):
    """The body has text but no recognizable clause structure."""


@dataclass
class _Unit:
    level: str
    article: int | str
    item: int | str | None = None
    sub_item: int | None = None
    lines: list[str] = field(default_factory=list)
    lead_in: str = ""
    chapter: str = ""
    children: list["_Unit"] = field(default_factory=list)
    in_table: bool = False


@dataclass
class StructuredBody:
    family: str
    clauses: list[Clause]
    preamble: str
    lead_in: str  # list family: the sentence before the first item
    warnings: list[str]


def body_lines(text: str) -> list[str]:
    """Split a Markdown/plain body into paragraphs, keeping each HTML table as one line."""
    text = COMMENT_RE.sub("", text)
    out: list[str] = []
    table: list[str] | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if table is not None:
            table.append(line)
            if "</table>" in line:
                out.append("\n".join(table))
                table = None
            continue
        if line.startswith("<table") and "</table>" not in line:
            table = [line]
            continue
        if line:
            out.append(line)
    if table:
        out.append("\n".join(table))
    return out


def detect_family(lines: list[str]) -> str | None:
    plain = [HEADING_RE.sub(r"\2", ln) for ln in lines]
    if any(ARTICLE_RE.match(ln) for ln in plain):
        return FAMILY_ARTICLES
    if any(GB_RE.match(ln) for ln in plain):
        return FAMILY_GB
    if any(LIST_RE.match(ln) for ln in plain):
        return FAMILY_LIST
    return None


def _strip_number(line: str, pattern: re.Pattern[str]) -> str:
    m = pattern.match(line)
    return line[m.end():].strip(" 　") if m else line


def structure(slug: str, lines: list[str]) -> StructuredBody:
    """Structure `lines` of document `slug` into clauses with stable IDs."""
    family = detect_family(lines)
    if family is None:
        if any(not HEADING_RE.match(ln) for ln in lines):
            raise StructureError(
                f"未识别到条款结构（第X条、一、或 4.1 编号）/ no articles found in {slug}"
            )
        return StructuredBody(FAMILY_ARTICLES, [], "", "", [])
    parser = _Parser(slug, family)
    for line in lines:
        parser.feed(line)
    return parser.finish()


class _Parser:
    def __init__(self, slug: str, family: str):
        self.slug = slug
        self.family = family
        self.units: list[_Unit] = []
        self.preamble: list[str] = []
        self.chapter = ""
        self.article: _Unit | None = None
        self.item: _Unit | None = None
        self.sub: _Unit | None = None
        self.last_number: int | float = 0
        self.article_lead = ""
        self.warnings: list[str] = []

    # -- feeding -------------------------------------------------------------------------
    def feed(self, line: str) -> None:
        heading = HEADING_RE.match(line)
        if heading:
            level, line = len(heading.group(1)), heading.group(2).strip()
            if level == 1 or not line:
                return  # the document title
            if not (CHAPTER_RE.match(line) or LIST_RE.match(line) or GB_RE.match(line)):
                if self.article is None:
                    self.preamble.append(line)
                return
        if self.family == FAMILY_ARTICLES and CHAPTER_RE.match(line) and not ARTICLE_RE.match(line):
            self._chapter(line)
            return
        if self._starts_article(line):
            return
        if self.article is None:
            self.preamble.append(line)
            return
        if self._starts_item(line) or self._starts_sub(line):
            return
        self._continuation(line)

    def _chapter(self, line: str) -> None:
        m = CHAPTER_RE.match(line)
        title = re.sub(r"[ 　]+", " ", line).strip()
        if m and m.group(2) == "章":
            self.chapter = title
        else:  # 节 within the current chapter
            self.chapter = f"{self.chapter.split(' / ')[0]} / {title}" if self.chapter else title

    def _starts_article(self, line: str) -> bool:
        if self.family == FAMILY_ARTICLES:
            m = ARTICLE_RE.match(line)
            number: int | str | None = _numeral(m.group(1)) if m else None
            pattern = ARTICLE_RE
        elif self.family == FAMILY_LIST:
            m = LIST_RE.match(line)
            number = _numeral(m.group(1)) if m else None
            pattern = LIST_RE
        else:
            m = GB_RE.match(line)
            number = m.group(1) if m else None
            pattern = GB_RE
        if number is None:
            return False
        order_key = _gb_key(number) if isinstance(number, str) else number
        if order_key <= self.last_number:
            # A cross-reference that happens to open a line ("第三条规定的……"), or a
            # restart of list numbering that belongs to a lower level.
            return False
        self.last_number = order_key
        self.article = _Unit(ARTICLE, number, lines=[line], chapter=self.chapter)
        self.units.append(self.article)
        self.item = self.sub = None
        self.article_lead = _strip_number(line, pattern)
        return True

    def _starts_item(self, line: str) -> bool:
        assert self.article is not None
        if self.family == FAMILY_GB:
            m = GB_ITEM_RE.match(line)
            number: int | str | None = m.group(1) if m else None
        else:
            m = ITEM_RE.match(line)
            number = _numeral(m.group(1)) if m else None
        if number is None:
            return False
        existing = {u.item for u in self.article.children}
        if number in existing:
            self.warnings.append(
                f"{self.slug}: 第{self.article.article}条 item {number} repeats; kept in the article text"
            )
            self._continuation(line, force_article=True)
            return True
        self._open_item(number, line)
        return True

    def _open_item(self, number: int | str, line: str) -> None:
        assert self.article is not None
        self.item = _Unit(ITEM, self.article.article, number, lines=[line],
                          lead_in=self.article_lead, chapter=self.chapter)
        self.article.children.append(self.item)
        self.article.lines.append(line)
        self.sub = None

    def _starts_sub(self, line: str) -> bool:
        if self.family == FAMILY_GB:
            return False
        m = SUB_RE.match(line)
        if not m or DECIMAL_RE.match(line):
            return False
        assert self.article is not None
        number = int(m.group(1))
        # Under an article whose items are themselves "1.", "2." … the next one is an item too.
        item_level = self.item is None or SUB_RE.match(self.item.lines[0]) is not None
        siblings = self.article.children if item_level else self.item.children
        last = max((int(u.item if item_level else u.sub_item) for u in siblings), default=0)
        # "1.0%" opens no sub-item, but "7.2个掘进工作面" after sub-item 6 does.
        if m.group(2) is not None and number != last + 1:
            return False
        if item_level:
            # "1." directly under an article: it is the article's item.
            if number in {u.item for u in self.article.children}:
                return False
            self._open_item(number, line)
            return True
        if number in {u.sub_item for u in self.item.children}:
            return False
        lead = "\n".join(x for x in (self.article_lead, self.item.lines[0]) if x)
        self.sub = _Unit(SUB_ITEM, self.article.article, self.item.item, number, lines=[line],
                         lead_in=lead, chapter=self.chapter)
        self.item.children.append(self.sub)
        self.item.lines.append(line)
        self.article.lines.append(line)
        return True

    def _continuation(self, line: str, force_article: bool = False) -> None:
        assert self.article is not None
        innermost = self.sub or self.item
        attached = innermost is not None and not force_article and (
            ATTACHED_RE.match(line) or innermost.in_table
        )
        if self.family != FAMILY_ARTICLES and innermost is not None and not force_article:
            # Lists and GB clauses have no 款: a wrapped line continues the current unit.
            attached = True
        if attached:
            assert innermost is not None
            if CAPTION_RE.match(line):
                innermost.in_table = True
            for unit in (self.sub, self.item):
                if unit is not None:
                    unit.lines.append(line)
            self.article.lines.append(line)
            return
        # A new paragraph (款) of the article: it ends the current item.
        self.article.lines.append(line)
        self.item = self.sub = None
        self.article_lead = line

    # -- output --------------------------------------------------------------------------
    def finish(self) -> StructuredBody:
        lead_in = ""
        if self.family == FAMILY_LIST:
            lead_in = next((p for p in reversed(self.preamble)
                            if p.endswith(("：", ":")) and ("情形" in p or "隐患" in p)), "")
        clauses: list[Clause] = []
        for unit in self.units:
            part_title = ""
            if self.family == FAMILY_LIST and unit.children:
                part_title = unit.lines[0]
            self._emit(unit, None, lead_in if self.family == FAMILY_LIST else "", part_title, clauses)
        return StructuredBody(self.family, clauses, "\n".join(self.preamble), lead_in, self.warnings)

    def _emit(self, unit: _Unit, parent_id: str | None, doc_lead: str, part_title: str,
              out: list[Clause]) -> None:
        parts = [unit.article, unit.item, unit.sub_item]
        clause_id = ":".join([self.slug] + [str(p) for p in parts if p is not None])
        lead = unit.lead_in
        if part_title and unit.level != ARTICLE:
            # Under a part the lead-in is the part heading (+ the item line for sub-items).
            lead = part_title if unit.level == ITEM else f"{part_title}\n{unit.lead_in.split(chr(10))[-1]}"
        elif doc_lead and unit.level == ARTICLE:
            lead = doc_lead
        clause = Clause(
            clause_id=clause_id,
            doc_slug=self.slug,
            level=unit.level,
            article=unit.article,
            item=unit.item,
            sub_item=unit.sub_item,
            text="\n".join(unit.lines),
            lead_in=lead,
            parent_id=parent_id,
            chapter=unit.chapter,
            part_title=part_title,
            order=len(out),
        )
        out.append(clause)
        for child in unit.children:
            self._emit(child, clause_id, doc_lead, part_title, out)


def _numeral(text: str) -> int | None:
    """A malformed numeral ("十十") opens no clause; the line stays text."""
    try:
        return parse_chinese_numeral(text)
    except ValueError:
        return None


def _gb_key(number: str) -> float:
    # "4.10" must sort after "4.9": compare as tuples folded into a float.
    parts = [int(p) for p in number.split(".")]
    key = 0.0
    for i, p in enumerate(parts):
        key += p / (1000 ** i)
    return key
