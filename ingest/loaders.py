"""Loaders: turn a file (Markdown/TXT with front matter, PDF, DOCX) into SourceDocuments.

A SourceDocument is format-free: metadata plus body paragraphs, one per line, ready for
`ingest.structure`. A PDF compilation yields several SourceDocuments.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.normalize import clean_input
from ingest.errors import IngestError
from ingest.structure import body_lines

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx"}
# Markdown is the verified form; when two sources give the same document, it wins.
FORMAT_PRIORITY = {".md": 0, ".markdown": 0, ".txt": 1, ".docx": 2, ".pdf": 3}

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


@dataclass
class SourceDocument:
    slug: str
    meta: dict[str, Any]
    lines: list[str]
    source_path: str
    source_format: str
    file_hash: str
    warnings: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(repr(sorted((k, str(v)) for k, v in self.meta.items())).encode())
        h.update("\n".join(self.lines).encode())
        return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM) only; anything else is refused with a clear message."""
    if not data.strip():
        raise IngestError(path, "文件为空", "file is empty")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(path, "不是文本文件（含二进制内容）", "not a text file (binary content)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            data.decode("gb18030")
            hint = "，疑似GBK/GB18030编码，请另存为UTF-8"
        except UnicodeDecodeError:
            pass
        raise IngestError(
            path,
            f"文件不是UTF-8编码（第{exc.start}字节处无法解码）{hint}",
            f"not UTF-8 text (undecodable byte at offset {exc.start})",
        ) from None


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise IngestError(path, f"文件头（YAML）格式错误：{exc}", f"invalid YAML front matter: {exc}")
    if not isinstance(meta, dict):
        raise IngestError(path, "文件头（YAML）不是键值对", "front matter is not a mapping")
    # YAML turns 2023-05-15 into a date; the corpus speaks in ISO strings.
    return {k: ("" if v is None else v if isinstance(v, (list, bool)) else str(v)) for k, v in meta.items()}, text[m.end():]


def _title_from_body(lines: list[str]) -> str:
    for line in lines:
        if line.startswith("# "):
            return line[2:].strip()
    return lines[0].lstrip("# ").strip() if lines else ""


def load_text(path: Path) -> list[SourceDocument]:
    data = path.read_bytes()
    text = decode_text(path, data)
    meta, body = split_front_matter(path, text)
    # Official text stays as it is; only line endings are unified.
    lines = body_lines(body.replace("\r\n", "\n").replace("\r", "\n"))
    if "title" not in meta or not meta.get("title"):
        meta["title"] = _title_from_body(lines) or path.stem
    slug = str(meta.get("slug") or path.stem)
    return [SourceDocument(slug, meta, lines, str(path), path.suffix.lower(), file_sha256(path))]


def load_docx(path: Path) -> list[SourceDocument]:
    import zipfile

    try:
        import docx  # python-docx
        from docx.document import Document as _DocxDocument  # noqa: F401
        document = docx.Document(str(path))
    except zipfile.BadZipFile:
        raise IngestError(path, "DOCX文件已损坏或不是DOCX格式", "not a valid DOCX (bad zip)") from None
    except Exception as exc:  # python-docx raises several types for broken packages
        raise IngestError(path, f"无法读取DOCX：{exc}", f"cannot read DOCX: {exc}") from None
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            text = clean_input(text)
            if text:
                lines.append(_docx_heading(child, text))
        elif tag == "tbl":
            lines.append(_docx_table(child))
    lines = [ln for ln in lines if ln]
    if not lines:
        raise IngestError(path, "DOCX中没有文字", "DOCX contains no text")
    title = (document.core_properties.title or "").strip() or lines[0].lstrip("# ")
    if lines and lines[0].lstrip("# ") == title:
        lines = lines[1:]
    meta = {"title": title}
    return [SourceDocument(path.stem, meta, lines, str(path), ".docx", file_sha256(path))]


def _docx_heading(paragraph, text: str) -> str:
    style = ""
    ppr = paragraph.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pPr")
    if ppr is not None:
        pstyle = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pStyle")
        if pstyle is not None:
            style = pstyle.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "")
    m = re.match(r"(?i)heading\s*(\d)|title", style)
    if m:
        level = int(m.group(1)) if m.group(1) else 1
        return "#" * level + " " + text
    return text


def _docx_table(tbl) -> str:
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    rows = []
    for tr in tbl.iter(f"{ns}tr"):
        cells = []
        for tc in tr.iter(f"{ns}tc"):
            text = "".join(t.text or "" for t in tc.iter(f"{ns}t"))
            cells.append(f"<td>{html.escape(text.strip(), quote=False)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>" if rows else ""


def load_file(path: Path, known_titles: dict[str, str] | None = None) -> list[SourceDocument]:
    """Load one file of any supported format. `known_titles` maps titles to slugs (manifest)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(path, f"不支持的文件类型：{suffix or '无扩展名'}", f"unsupported file type {suffix!r}")
    if suffix in TEXT_SUFFIXES:
        return load_text(path)
    if suffix == ".docx":
        docs = load_docx(path)
    else:
        from ingest.pdf import load_pdf

        docs = load_pdf(path, known_titles or {})
    if known_titles:
        for doc in docs:
            doc.slug = known_titles.get(_title_key(doc.meta.get("title", "")), doc.slug)
    return docs


def _title_key(title: str) -> str:
    from assistant.normalize import for_matching

    return for_matching(title)


def title_index(titles_to_slugs: dict[str, str]) -> dict[str, str]:
    """Manifest titles → slugs, keyed for matching (width, spacing and script folded)."""
    return {_title_key(t): s for t, s in titles_to_slugs.items()}
