"""A corpus document uploaded by an admin: checked before anything lands where the ingest reads.

The checks run on the bytes, whatever the file is called: the type is sniffed from the content
(PDF header, DOCX = a zip holding word/document.xml, Markdown/TXT = UTF-8 text with YAML front
matter), then size, pages, encryption and decompression bombs are checked before any parser
expands the file, and finally the file is parsed exactly as the ingest will parse it (scanned
PDFs, broken files and texts without clauses are refused here, not at ingest). An accepted file
is staged under the uploads folder's hidden `.staging` (never read by the ingest) and moved into
place by one rename.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.model import ParsedDocument
from ingest.documents import build_document
from ingest.errors import IngestError
from ingest.loaders import (
    decode_text,
    file_sha256,
    load_file,
    split_front_matter,
    title_index,
)
from ingest.manifest import Manifest
from ingest.structure import StructureError

UPLOADS = "uploads"
STAGING = ".staging"
FORMATS = {"pdf": ".pdf", "docx": ".docx", "md": ".md", "txt": ".txt"}
# A real PDF of a few hundred pages has thousands of objects; millions is an attack on the parser.
MAX_PDF_OBJECTS = 500_000
MAX_ZIP_ENTRIES = 2_000
# Below this size a high compression ratio is ordinary repetitive XML, not a bomb.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")
_DOCX_PAGES = re.compile(rb"<(?:\w+:)?Pages>\s*(\d+)\s*</(?:\w+:)?Pages>")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pages: int
    max_unzipped_bytes: int
    max_zip_ratio: int


class UploadRefused(Exception):
    """The upload is refused; `zh` says why (shown to the admin), `too_large` → 413, else 422."""

    def __init__(self, zh: str, too_large: bool = False):
        super().__init__(zh)
        self.zh = zh
        self.too_large = too_large


class UploadConflict(UploadRefused):
    """The upload would replace a document of the configured corpus (→ 409)."""


@dataclass
class CheckedUpload:
    """An upload that passed every check, staged and ready to be moved into the uploads folder."""

    original_name: str
    stored_name: str
    format: str
    size: int
    pages: int | None
    sha256: str
    documents: list[ParsedDocument]
    staged: Path

    def discard(self) -> None:
        shutil.rmtree(self.staged.parent, ignore_errors=True)
        # Leave no trace of a refused upload: the staging and uploads folders go when empty.
        for folder in (self.staged.parent.parent, self.staged.parent.parent.parent):
            try:
                folder.rmdir()
            except OSError:
                break


def uploads_dir(data_dir: Path) -> Path:
    return Path(data_dir) / UPLOADS


def sniff(data: bytes) -> str:
    """The format by content: pdf | docx | text; anything else is refused with what it looks like."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(_OLE_MAGIC):
        # Encrypted Office files are OLE containers holding an "EncryptedPackage" stream.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UploadRefused("文件已加密（受密码保护的Office文档），请提供未加密的版本")
        raise UploadRefused("不支持旧版Word（.doc）等OLE格式，请另存为DOCX后上传")
    if data.startswith(_IMAGE_MAGIC):
        raise UploadRefused("上传的是图片文件，不能作为法规文本入库；请提供文字版PDF、DOCX或Markdown")
    return "text"


def check_zip(data: bytes, limits: UploadLimits) -> int | None:
    """Refuse zip bombs and non-DOCX zips before anything expands them; the declared page count."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UploadRefused("DOCX文件已损坏或不是DOCX格式") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise UploadRefused(f"压缩包内文件过多（{len(entries)} 个，上限 {MAX_ZIP_ENTRIES}），疑似压缩炸弹")
        if any(e.flag_bits & 0x1 for e in entries):
            raise UploadRefused("DOCX文件已加密，请提供未加密的版本")
        total = sum(e.file_size for e in entries)
        if total > limits.max_unzipped_bytes:
            raise UploadRefused(f"DOCX解压后过大（{total // (1024 * 1024)} MiB，上限 "
                                f"{limits.max_unzipped_bytes // (1024 * 1024)} MiB），疑似压缩炸弹")
        for e in entries:
            if e.file_size >= RATIO_CHECK_MIN_BYTES and e.file_size > limits.max_zip_ratio * max(e.compress_size, 1):
                raise UploadRefused(f"DOCX中的 {e.filename} 压缩比异常（超过 {limits.max_zip_ratio} 倍），疑似压缩炸弹")
        names = {e.filename for e in entries}
        if "word/document.xml" not in names:
            raise UploadRefused("ZIP文件不是DOCX文档（缺少 word/document.xml）")
        if "docProps/app.xml" not in names:
            return None
        # Sizes are checked above, so reading this small entry is safe.
        m = _DOCX_PAGES.search(archive.read("docProps/app.xml"))
    return int(m.group(1)) if m else None


def check_pdf(data: bytes) -> int:
    """Refuse broken, encrypted and absurd PDFs before text extraction; the page count."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UploadRefused("PDF文件已加密，无法读取，请提供未加密的版本")
        declared = int(reader.trailer.get("/Size", 0) or 0)
        if declared > MAX_PDF_OBJECTS:
            raise UploadRefused(f"PDF对象数量异常（{declared} 个，上限 {MAX_PDF_OBJECTS}），拒绝解析")
        return len(reader.pages)
    except UploadRefused:
        raise
    except Exception:  # noqa: BLE001 — pypdf raises many types for damaged files, including its own limits
        raise UploadRefused("PDF文件已损坏或不是PDF格式") from None


def check_text(data: bytes) -> str:
    """UTF-8 text that starts with YAML front matter giving at least the title."""
    try:
        text = decode_text(Path("upload"), data)
        meta, _ = split_front_matter(Path("upload"), text)
    except IngestError as exc:
        raise UploadRefused(exc.zh) from None
    if not meta:
        raise UploadRefused("Markdown/TXT文件须以YAML文件头开头（--- 换行 title: 标题 … ---），以便记录文号、状态等信息")
    if not str(meta.get("title") or "").strip():
        raise UploadRefused("文件头缺少 title（文件标题）")
    slug = str(meta.get("slug") or "")
    if slug and not SAFE_NAME.match(slug):
        raise UploadRefused("文件头中的 slug 只能包含字母、数字、点、下划线和连字符")
    return slug


def stored_stem(original_name: str, data: bytes, declared_slug: str = "") -> str:
    """The file's stem in the uploads folder, which is also the document's slug when the file
    does not name one: the declared slug, the ASCII file name, or upload-<hash>."""
    if declared_slug:
        return declared_slug
    stem = Path(original_name.replace("\\", "/")).stem.strip()
    stem = re.sub(r"\s+", "-", stem)
    if SAFE_NAME.match(stem) and not stem.startswith("."):
        return stem
    import hashlib

    return "upload-" + hashlib.sha256(data).hexdigest()[:10]


def validate(data: bytes, original_name: str, limits: UploadLimits, manifest: Manifest,
             data_dir: Path, protected_slugs: frozenset[str] = frozenset()) -> CheckedUpload:
    """Check and parse an upload; staged in the uploads folder's `.staging`. Raises UploadRefused."""
    if not data:
        raise UploadRefused("上传的文件为空")
    if len(data) > limits.max_bytes:
        raise UploadRefused(f"文件过大（上限 {limits.max_bytes // (1024 * 1024)} MiB）", too_large=True)
    kind = sniff(data)
    pages: int | None = None
    declared_slug = ""
    if kind == "pdf":
        pages = check_pdf(data)
    elif kind == "docx":
        pages = check_zip(data, limits)
    else:
        declared_slug = check_text(data)
        kind = "txt" if original_name.lower().endswith(".txt") else "md"
    if pages is not None and pages > limits.max_pages:
        raise UploadRefused(f"页数过多（{pages} 页，上限 {limits.max_pages} 页）", too_large=True)
    name = stored_stem(original_name, data, declared_slug) + FORMATS[kind]
    staged = uploads_dir(data_dir) / STAGING / uuid.uuid4().hex / name
    staged.parent.mkdir(parents=True)
    checked = CheckedUpload(original_name, name, kind, len(data), pages, "", [], staged)
    try:
        staged.write_bytes(data)
        checked.sha256 = file_sha256(staged)
        checked.documents = _parse(staged, manifest)
        _check_documents(checked.documents, protected_slugs)
    except BaseException:
        checked.discard()
        raise
    return checked


def _parse(path: Path, manifest: Manifest) -> list[ParsedDocument]:
    """Parse as the ingest does; its refusals (scanned, broken, no clauses) become UploadRefused."""
    try:
        sources = load_file(path, title_index(manifest.titles()))
        return [build_document(s, manifest) for s in sources]
    except IngestError as exc:
        raise UploadRefused(exc.zh) from None
    except StructureError as exc:
        raise UploadRefused(str(exc).split(" / ", 1)[0]) from None


def _check_documents(documents: list[ParsedDocument], protected_slugs: frozenset[str]) -> None:
    for doc in documents:
        slug = doc.document.slug
        if not SAFE_NAME.match(slug):
            raise UploadRefused(f"文档标识 {slug!r} 不合法：只能包含字母、数字、点、下划线和连字符")
        if slug in protected_slugs:
            raise UploadConflict(f"文档 {slug}（{doc.document.title}）已在语料目录中，上传文件不能覆盖正式语料；"
                                 "如需更新，请修改语料目录后运行 hazard ingest")
        if not doc.clauses:
            raise UploadRefused(f"《{doc.document.title}》中未识别出条款（第X条、一、或 4.1 编号），不能入库")


def store(checked: CheckedUpload, data_dir: Path) -> Path:
    """Move a checked upload into the uploads folder (one rename); an earlier upload of the same
    document in another format is removed so the two never compete for the slug."""
    folder = uploads_dir(data_dir)
    target = folder / checked.stored_name
    stem = target.stem
    for other in folder.iterdir():
        if other.is_file() and other.stem == stem and other.name != target.name:
            other.unlink()
    os.replace(checked.staged, target)
    checked.discard()
    return target


def list_uploads(data_dir: Path) -> list[Path]:
    folder = uploads_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def remove_upload(data_dir: Path, name: str) -> bool:
    """Delete an uploaded file by its stored name; False when there is none."""
    if not SAFE_NAME.match(name):
        return False
    path = uploads_dir(data_dir) / name
    if not path.is_file():
        return False
    path.unlink()
    return True
