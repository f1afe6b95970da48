"""PDF loader: a text PDF (one document or a compilation) → SourceDocuments.

Extracted PDF text is hard-wrapped, carries page furniture and puts spaces between CJK
characters and digits. This module splits a compilation into its documents, drops each
document's title block and restores one paragraph per line, the form `ingest.structure`
expects. Scanned, encrypted and broken PDFs are refused with a message, never turned
into empty documents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.normalize import close_cjk_digit_gaps, for_matching
from ingest.errors import IngestError
from ingest.loaders import SourceDocument, file_sha256
from ingest.structure import (
    ARTICLE_RE,
    CAPTION_RE,
    CHAPTER_RE,
    GB_ITEM_RE,
    GB_RE,
    HEADING_RE,
    ITEM_RE,
    LIST_RE,
    SUB_RE,
)

# A PDF counts as scanned when fewer pages than this carry text.
MIN_TEXT_PAGE_SHARE = 0.1
MIN_PAGE_CHARS = 10
MIN_TOTAL_CHARS = 20
# A wrapped title is at most this many lines.
MAX_TITLE_LINES = 3
# Page-width estimate: this share of lines is at least as wide as a full line.
FULL_LINE_PERCENTILE = 0.9
# A line ending this much (in half-width units, i.e. two CJK characters) before the
# full width was ended on purpose; one that ends before this share of it always was.
SHORT_LINE_MARGIN = 4
VERY_SHORT_SHARE = 0.6

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
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass
class _Section:
    """One document's stretch of the PDF: its title and its body lines."""

    title: str
    lines: list[str] = field(default_factory=list)


# -- entry point -------------------------------------------------------------------------


def load_pdf(path: Path, known_titles: dict[str, str]) -> list[SourceDocument]:
    """Load a text PDF. `known_titles` maps matching keys of manifest titles to slugs."""
    reader = _open(path)
    pages = _page_lines(path, reader)
    sections = _split(reader, pages, known_titles)
    file_hash = file_sha256(path)
    docs = []
    for index, section in enumerate(sections, 1):
        slug = known_titles.get(for_matching(section.title)) or _fallback_slug(path, index, len(sections))
        docs.append(_source_document(path, slug, section, file_hash))
    return docs


def _fallback_slug(path: Path, index: int, count: int) -> str:
    stem = re.sub(r"\s+", "-", path.stem.strip()) or "pdf"
    return stem if count == 1 else f"{stem}-{index}"


def _source_document(path: Path, slug: str, section: _Section, file_hash: str) -> SourceDocument:
    lines = list(section.lines)
    doc_number = ""
    if lines and _DOC_NUMBER_RE.match(lines[0]):
        doc_number = close_cjk_digit_gaps(lines.pop(0))
    paragraphs = restore_paragraphs(lines)
    if not paragraphs:
        raise IngestError(
            path,
            f"PDF中《{section.title}》没有可提取的正文（可能是扫描页，需要先做文字识别OCR）",
            f"no extractable body text for {section.title!r} (scanned pages need OCR)",
        )
    meta = {"title": section.title, "doc_number": doc_number}
    return SourceDocument(slug, meta, paragraphs, str(path), ".pdf", file_hash)


# -- opening and text ------------------------------------------------------------------


def _open(path: Path):
    from pypdf import PdfReader

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


def _page_lines(path: Path, reader) -> list[list[str]]:
    """Each page's text lines, tidied, without page numbers; refuses image-only PDFs."""
    try:
        texts = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # broken content streams, fonts, xrefs
        raise IngestError(path, f"无法提取PDF文字：{exc}", f"cannot extract PDF text: {exc}") from None
    _refuse_scanned(path, texts)
    return [_drop_page_numbers(_tidy_lines(text)) for text in texts]


def _refuse_scanned(path: Path, texts: list[str]) -> None:
    counts = [len(re.sub(r"\s", "", t)) for t in texts]
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


def _split(reader, pages: list[list[str]], known_titles: dict[str, str]) -> list[_Section]:
    lines = [line for page in pages for line in page]
    page_starts = _page_starts(pages)
    starts = _outline_starts(reader, lines, page_starts)
    if not starts:
        starts = _title_starts(lines, page_starts, known_titles)
    if not starts:
        starts = [_first_line_title(lines, page_starts, pages)]
    sections = []
    for (begin, title, title_lines), nxt in zip(starts, starts[1:] + [(len(lines), "", 0)]):
        if _is_toc(title):
            continue
        sections.append(_Section(title, lines[begin + title_lines:nxt[0]]))
    return sections


def _page_starts(pages: list[list[str]]) -> list[int]:
    starts, total = [], 0
    for page in pages:
        starts.append(total)
        total += len(page)
    return starts


def _outline_starts(reader, lines: list[str], page_starts: list[int]) -> list[tuple[int, str, int]]:
    """(first line, title, number of title lines) per top-level bookmark, if ≥ 2."""
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


def _top_level_bookmarks(reader) -> list[tuple[str, int]]:
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


def _title_match(lines: list[str], i: int, keys) -> int:
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


def _title_starts(lines: list[str], page_starts: list[int], known_titles: dict[str, str]):
    """Documents start where a page opens with a known (manifest) title."""
    starts: list[tuple[int, str, int]] = []
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


def _first_line_title(lines: list[str], page_starts: list[int], pages) -> tuple[int, str, int]:
    """The whole PDF is one document; its title is its first line(s) after any contents page."""
    begin = next((page_starts[p] for p, page in enumerate(pages)
                  if page and not _is_toc(page[0])), 0)
    if begin >= len(lines):
        return begin, "", 0
    full = full_line_width(lines)
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


def restore_paragraphs(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines into paragraphs, one per structural unit or sentence block."""
    full = full_line_width(lines)
    paragraphs: list[str] = []
    current = ""
    in_table = False
    prev = ""
    for line in lines:
        if current and _breaks_before(prev, line, full, in_table):
            paragraphs.append(close_cjk_digit_gaps(current))
            current = ""
        if not current:
            current, in_table = line, bool(CAPTION_RE.match(line))
        else:
            current += _joiner(prev, line, full, in_table) + line
        prev = line
    if current:
        paragraphs.append(close_cjk_digit_gaps(current))
    return paragraphs


def _breaks_before(prev: str, line: str, full: float, in_table: bool) -> bool:
    if HEADING_RE.match(prev) or HEADING_RE.match(line):
        return True
    ended = prev.endswith(SENTENCE_END) or _is_short(prev, full)
    if _is_marker(line):
        # A marker-like start after a full, unfinished line is a wrap: "…依照\n第三条规定".
        return ended
    if in_table:
        return False  # rows and wrapped cells stay with their caption
    return (prev.endswith(SENTENCE_END) and _is_short(prev, full)) or _width(prev) < VERY_SHORT_SHARE * full


def _joiner(prev: str, line: str, full: float, in_table: bool) -> str:
    if in_table and _is_short(prev, full):
        return "\n"  # table rows keep their own lines
    if prev[-1:].isascii() and prev[-1:].isalpha() and line[:1].isascii() and line[:1].isalpha():
        return " "  # a wrapped Latin phrase
    return ""


def _is_marker(line: str) -> bool:
    return any(p.match(line) for p in _MARKERS)


def _is_short(line: str, full: float) -> bool:
    return _width(line) <= full - SHORT_LINE_MARGIN


def _width(line: str) -> int:
    """Display width in half-width units; extraction spaces take no room on the page."""
    return sum(0 if ch == " " else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def full_line_width(lines: list[str]) -> float:
    """The width of a full line in this document: a high percentile of line widths."""
    widths = sorted(_width(line) for line in lines if not HEADING_RE.match(line))
    if not widths:
        return 0.0
    return float(widths[min(len(widths) - 1, int(FULL_LINE_PERCENTILE * len(widths)))])
