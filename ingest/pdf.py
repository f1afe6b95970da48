"""PDF loader: a text PDF (one document or a compilation) → SourceDocuments.

Extracted PDF text is hard-wrapped, carries page furniture and puts spaces between CJK
characters and digits. This module splits a compilation into its documents, drops each
document's title block and restores one paragraph per line, the form `ingest.structure`
expects. Scanned, encrypted and broken PDFs are refused with a message, never turned
into empty documents.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader

from assistant.normalize import close_cjk_digit_gaps, for_matching
from ingest.errors import IngestError
from ingest.loaders import SourceDocument, file_sha256
from ingest.structure import (
    ARTICLE_RE,
    CAPTION_RE,
    CHAPTER_RE,
    DECIMAL_RE,
    GB_ITEM_RE,
    GB_RE,
    HEADING_RE,
    ITEM_RE,
    LIST_RE,
    SUB_RE,
)

# A PDF counts as scanned when less than this share of its pages carries text (at least
# MIN_PAGE_CHARS characters), or when it has hardly any text at all.
MIN_TEXT_PAGE_SHARE = 0.1
MIN_PAGE_CHARS = 10
MIN_TOTAL_CHARS = 20
# A wrapped title is at most this many lines.
MAX_TITLE_LINES = 3
# Page-width estimate: this share of lines is at least as wide as a full line.
FULL_LINE_PERCENTILE = 0.9
# Line widths are estimated in half-width units (a CJK character is 2). A line that had
# room for the next line's first character was ended on purpose; the room must exceed the
# estimate's error, which grows with every non-CJK character.
BASE_WIDTH_ERROR = 1.0
NARROW_CHAR_ERROR = 0.3
MIN_EXACT_LINES = 10
# Fewer lines than this give no reliable full-line width; the whole PDF's is used.
MIN_LINES_FOR_WIDTH = 20

TOC_KEYS = {"目录", "目次", "contents", "tableofcontents"}
SENTENCE_END = tuple("。：；！？:;!?")

_PAGE_NUMBER_RE = re.compile(
    r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})$"
)
_DOC_NUMBER_RE = re.compile(
    r"^(?:\S.{0,30}(?:〔\s*\d{4}\s*〕|\[\s*\d{4}\s*\]|第)\s*[\d〇零一二三四五六七八九十百]+\s*号"
    r"|(?:GB|AQ|[A-Z]{2,4})(?:/T)?\s*\d+(?:\.\d+)?\s*[—–-]\s*\d{4})$"
)
# Numbered sub-points such as "(1)" stay with their clause but start their own line.
_SUB_POINT_RE = re.compile(r"^[（(]\d+[）)]")
_MARKERS = (ARTICLE_RE, CHAPTER_RE, LIST_RE, ITEM_RE, SUB_RE, GB_RE, GB_ITEM_RE, CAPTION_RE,
            _SUB_POINT_RE)
_NARROW = set("iljtfI.,:;'|!()[]/-")
_SPACES = re.compile(r"[ \t\u00a0]+")
_OPENING = "（(《〈「『【〔“‘["
_CLOSING = "，。、；：？！）)》〉」』】〕”’],.;:?!%"
_FIRST_TOKEN_RE = re.compile(
    rf"[{re.escape(_OPENING)}]*(?:[0-9A-Za-z][!-~]*|\S)[{re.escape(_CLOSING)}]*"
)
_PUNCT_GAP_RE = re.compile(r"(?<=[（《〈「『【〔“])[ ]+|[ ]+(?=[，。、；：？！）》〉」』】〕”])")


# Where a document starts: (index of its first line, its title, how many lines the title
# takes up there).
_Start = tuple[int, str, int]


@dataclass
class _Section:
    """One document's stretch of the PDF: its title, body lines and pages (from the page
    it starts on to the page the next document starts on)."""

    title: str
    lines: list[str] = field(default_factory=list)
    pages: range = range(0)


# -- entry point -------------------------------------------------------------------------


def load_pdf(path: Path, known_titles: dict[str, str]) -> list[SourceDocument]:
    """Load a text PDF. `known_titles` maps matching keys of manifest titles to slugs."""
    reader = _open(path)
    texts = _page_texts(path, reader)
    _refuse_scanned(path, texts)
    pages = [_drop_page_numbers(_tidy_lines(text)) for text in texts]
    # Documents of one PDF share its page layout; short ones borrow its line width.
    pdf_full = full_line_width([line for page in pages for line in page])
    sections = _split(reader, pages, known_titles, pdf_full)
    textless = [p for p, text in enumerate(texts) if _char_count(text) < MIN_PAGE_CHARS]
    file_hash = file_sha256(path)
    docs = []
    for index, section in enumerate(sections, 1):
        slug = known_titles.get(for_matching(section.title)) or _fallback_slug(path, index, len(sections))
        doc = _source_document(path, slug, section, file_hash, pdf_full)
        doc.warnings += _textless_page_warnings(slug, section, textless)
        docs.append(doc)
    return docs


def _textless_page_warnings(slug: str, section: _Section, textless: list[int]) -> list[str]:
    # A scanned page inside a text PDF would otherwise lose its clauses silently.
    numbers = [p + 1 for p in textless if p in section.pages]
    if not numbers:
        return []
    listed = "、".join(map(str, numbers))
    return [f"{slug}: PDF第{listed}页没有可提取的文字（可能是扫描页），其内容未收录"
            f" / page(s) {listed} have no extractable text (scanned?) and were skipped"]


def _fallback_slug(path: Path, index: int, count: int) -> str:
    stem = re.sub(r"\s+", "-", path.stem.strip()) or "pdf"
    return stem if count == 1 else f"{stem}-{index}"


def _source_document(path: Path, slug: str, section: _Section, file_hash: str,
                     pdf_full: float) -> SourceDocument:
    lines = list(section.lines)
    doc_number = ""
    if lines and _DOC_NUMBER_RE.match(lines[0]):
        doc_number = close_cjk_digit_gaps(lines.pop(0))
    full = full_line_width(lines) if len(lines) >= MIN_LINES_FOR_WIDTH else pdf_full
    paragraphs = restore_paragraphs(lines, full)
    if not paragraphs:
        raise IngestError(
            path,
            f"PDF中《{section.title}》没有可提取的正文（可能是扫描页，需要先做文字识别OCR）",
            f"no extractable body text for {section.title!r} (scanned pages need OCR)",
        )
    meta = {"title": section.title, "doc_number": doc_number}
    return SourceDocument(slug, meta, paragraphs, str(path), ".pdf", file_hash)


# -- opening and text ------------------------------------------------------------------


def _open(path: Path) -> PdfReader:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(path, f"无法读取文件：{exc.strerror}", f"cannot read file: {exc.strerror}") from None
    if size == 0:
        raise IngestError(path, "文件为空", "file is empty")
    try:
        reader = PdfReader(path)
    except Exception:  # pypdf raises many types for damaged files
        raise IngestError(path, "PDF文件已损坏或不是PDF格式", "not a valid PDF (damaged or wrong format)") from None
    # Even an empty user password is refused: the owner restricted the file on purpose,
    # and decrypting needs an optional crypto dependency.
    if reader.is_encrypted:
        raise IngestError(path, "PDF文件已加密，无法读取，请提供未加密的版本", "PDF is encrypted")
    return reader


def _page_texts(path: Path, reader: PdfReader) -> list[str]:
    try:
        return [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # broken content streams, fonts, xrefs
        raise IngestError(path, f"无法提取PDF文字：{exc}", f"cannot extract PDF text: {exc}") from None


def _char_count(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def _refuse_scanned(path: Path, texts: list[str]) -> None:
    counts = [_char_count(t) for t in texts]
    text_pages = sum(1 for c in counts if c >= MIN_PAGE_CHARS)
    if sum(counts) < MIN_TOTAL_CHARS or text_pages < MIN_TEXT_PAGE_SHARE * len(texts):
        raise IngestError(
            path,
            "PDF没有可提取的文字，可能是扫描件或图片PDF，需要先做文字识别（OCR）",
            "no extractable text: scanned/image-only PDF, needs OCR",
        )


def _tidy_lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def _drop_page_numbers(lines: list[str]) -> list[str]:
    # Only the first and last line of a page can be a page number; inside a page a bare
    # number is table content.
    if lines and _PAGE_NUMBER_RE.match(lines[-1]):
        lines = lines[:-1]
    if lines and _PAGE_NUMBER_RE.match(lines[0]):
        lines = lines[1:]
    return lines


# -- splitting into documents ----------------------------------------------------------


def _split(reader: PdfReader, pages: list[list[str]], known_titles: dict[str, str],
           full: float) -> list[_Section]:
    lines = [line for page in pages for line in page]
    page_starts = _page_starts(pages)
    starts = (_outline_starts(reader, lines, page_starts)
              or _title_starts(lines, page_starts, known_titles)
              or [_first_line_title(lines, page_starts, pages, full)])
    return _sections(starts, lines, page_starts)


def _sections(starts: list[_Start], lines: list[str], page_starts: list[int]) -> list[_Section]:
    """Cut `lines` at each start; contents pages are no documents."""
    ends = [begin for begin, _, _ in starts[1:]] + [len(lines)]
    sections = []
    for (begin, title, title_lines), end in zip(starts, ends):
        if _is_toc(title):
            continue
        end_page = _page_of(page_starts, end) if end < len(lines) else len(page_starts)
        pages = range(_page_of(page_starts, begin), end_page)
        sections.append(_Section(title, lines[begin + title_lines:end], pages))
    return sections


def _page_of(page_starts: list[int], line_index: int) -> int:
    """The page holding line `line_index` (pages without lines hold none)."""
    return max(0, bisect.bisect_right(page_starts, line_index) - 1)


def _page_starts(pages: list[list[str]]) -> list[int]:
    starts, total = [], 0
    for page in pages:
        starts.append(total)
        total += len(page)
    return starts


def _outline_starts(reader: PdfReader, lines: list[str], page_starts: list[int]) -> list[_Start]:
    """A start per top-level bookmark, if there are at least two."""
    entries = []
    for title, page in _top_level_bookmarks(reader):
        if page >= len(page_starts):
            continue
        begin = page_starts[page]
        end = page_starts[page + 1] if page + 1 < len(page_starts) else len(lines)
        if entries and entries[-1][0] >= begin:
            begin = entries[-1][0] + 1  # two documents on one page
        found = _find_title(lines, begin, end, for_matching(title))
        index, count = found if found else (begin, 0)
        entries.append((index, title, count))
    return entries if len(entries) >= 2 else []


def _top_level_bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    try:
        outline = reader.outline
    except Exception:  # a damaged outline is as good as none
        return []
    marks = []
    for item in outline:
        if isinstance(item, list):
            continue  # children of the previous entry
        try:
            page = reader.get_destination_page_number(item)
        except Exception:
            continue
        title = str(getattr(item, "title", "") or "").strip()
        if title and page is not None and page >= 0:
            marks.append((title, page))
    marks.sort(key=lambda m: m[1])
    return marks


def _find_title(lines: list[str], begin: int, end: int, key: str) -> tuple[int, int] | None:
    """First line and line count of the title `key` within lines[begin:end]."""
    for i in range(begin, end):
        count = _title_match(lines, i, {key})
        if count:
            return i, count
    return None


def _title_match(lines: list[str], i: int, keys: set[str]) -> int:
    """How many lines from `i` spell one of `keys` (a title may wrap), or 0."""
    acc = ""
    for count in range(1, MAX_TITLE_LINES + 1):
        if i + count > len(lines):
            return 0
        acc += for_matching(lines[i + count - 1])
        if acc in keys:
            return count
        if not any(k.startswith(acc) for k in keys):
            return 0
    return 0


def _title_starts(lines: list[str], page_starts: list[int],
                  known_titles: dict[str, str]) -> list[_Start]:
    """Documents start where a page opens with a known (manifest) title."""
    starts: list[_Start] = []
    keys = set(known_titles)
    for begin in page_starts:
        count = _title_match(lines, begin, keys) if begin < len(lines) else 0
        if not count:
            continue
        title = close_cjk_digit_gaps("".join(lines[begin:begin + count]))
        # A title repeated at the top of a later page of the same document is no new start.
        if starts and for_matching(starts[-1][1]) == for_matching(title):
            continue
        starts.append((begin, title, count))
    return starts


def _first_line_title(lines: list[str], page_starts: list[int], pages: list[list[str]],
                      full: float) -> _Start:
    """The whole PDF is one document; its title is its first line(s) after any contents page."""
    begin = next((page_starts[p] for p, page in enumerate(pages)
                  if page and not _is_toc(page[0])), 0)
    if begin >= len(lines):
        return begin, "", 0
    count = 1
    # A wrapped title continues on short lines that are neither a doc number nor a clause.
    while (count < MAX_TITLE_LINES and begin + count < len(lines)
           and not lines[begin + count - 1].endswith(SENTENCE_END)
           and _width(lines[begin + count]) < full / 2
           and not _DOC_NUMBER_RE.match(lines[begin + count])
           and not _is_marker(lines[begin + count])):
        count += 1
    return begin, close_cjk_digit_gaps("".join(lines[begin:begin + count])), count


def _is_toc(title: str) -> bool:
    return for_matching(title) in TOC_KEYS


# -- paragraphs ------------------------------------------------------------------------


def restore_paragraphs(lines: list[str], full: float | None = None) -> list[str]:
    """Join hard-wrapped lines into paragraphs: one per structural unit or sentence block.

    `full` is the width of a full line; by default it is estimated from `lines`.
    """
    if full is None:
        full = full_line_width(lines)
    paragraphs: list[str] = []
    current, prev, in_table = "", "", False
    for line in lines:
        if current and _breaks_before(prev, line, full, in_table):
            paragraphs.append(_tidy_paragraph(current))
            current = ""
        if not current:
            current, in_table = line, bool(CAPTION_RE.match(line))
        else:
            current += _joiner(prev, line, full, in_table) + line
        prev = line
    if current:
        paragraphs.append(_tidy_paragraph(current))
    return paragraphs


def _breaks_before(prev: str, line: str, full: float, in_table: bool) -> bool:
    if HEADING_RE.match(prev) or HEADING_RE.match(line):
        return True
    if _is_marker(line):
        # A marker-like start after a full, unfinished line is a wrap: "…依照\n第三条规定".
        return prev.endswith(SENTENCE_END) or _ended_early(prev, line, full)
    if in_table:
        return False  # rows and wrapped cells stay with their caption
    return _ended_early(prev, line, full)


def _joiner(prev: str, line: str, full: float, in_table: bool) -> str:
    if in_table and _ended_early(prev, line, full):
        return "\n"  # a table row keeps its own line
    if prev[-1:].isascii() and prev[-1:].isalpha() and line[:1].isascii() and line[:1].isalpha():
        return " "  # a wrapped Latin phrase
    return ""


def _ended_early(prev: str, line: str, full: float) -> bool:
    """Whether `prev` ended by choice: the start of `line` would have fitted on it."""
    token = _first_token(line)
    return _width(prev) + _width(token) <= full - _width_error(prev + token)


def _width_error(text: str) -> float:
    # CJK widths are exact; every other character's width is a guess.
    return BASE_WIDTH_ERROR + NARROW_CHAR_ERROR * sum(1 for ch in text if not _is_wide(ch))


def _first_token(line: str) -> str:
    """What a line breaker must keep together at the start of `line`.

    Opening brackets stay with what follows, closing punctuation with what precedes, and
    a Latin or digit run is not split: "（GB50089）要求" → "（GB50089）".
    """
    m = _FIRST_TOKEN_RE.match(line)
    return m.group(0) if m else line[:1]


def _tidy_paragraph(text: str) -> str:
    text = close_cjk_digit_gaps(text)
    # Extraction spaces next to full-width brackets and punctuation are never text.
    return _PUNCT_GAP_RE.sub("", text)


def _is_marker(line: str) -> bool:
    # "1.5%时…" opening a line is a wrapped number, not sub-item 1.
    return not DECIMAL_RE.match(line) and any(p.match(line) for p in _MARKERS)


def _width(line: str) -> float:
    """Estimated display width in half-width units (a CJK character is 2)."""
    return sum(_char_width(ch) for ch in line)


def _char_width(ch: str) -> float:
    if ch == " ":
        return 0.0  # extraction spaces mostly mark a font change, not room on the page
    if _is_wide(ch) or unicodedata.east_asian_width(ch) == "A":
        return 2.0  # ambiguous-width “”·≤ are full width in CJK fonts
    if ch in _NARROW:
        return 0.6
    if ch.isupper() or ch in "mw%@":
        return 1.4
    return 1.1


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def full_line_width(lines: list[str]) -> float:
    """The width of a full line: a high percentile of the line widths.

    Lines of CJK characters only are measured exactly, so they are preferred.
    """
    lines = [line for line in lines if not HEADING_RE.match(line)]
    exact = [line for line in lines if all(_is_wide(ch) for ch in line)]
    widths = sorted(_width(line) for line in (exact if len(exact) >= MIN_EXACT_LINES else lines))
    if not widths:
        return 0.0
    return float(widths[min(len(widths) - 1, int(FULL_LINE_PERCENTILE * len(widths)))])
