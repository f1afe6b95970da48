"""SourceDocument + manifest → Document and its Clauses (pure)."""

from __future__ import annotations

from assistant.model import Document, ParsedDocument
from ingest.loaders import SourceDocument
from ingest.manifest import Manifest
from ingest.structure import structure


def _short_status(status: str) -> str:
    for sep in ("（", "(", "。", "，", ","):
        status = status.split(sep, 1)[0]
    return status.strip()


def build_document(source: SourceDocument, manifest: Manifest) -> ParsedDocument:
    """Structure the body and merge the metadata; warnings list manifest mismatches."""
    meta = source.meta
    entry = manifest.get(source.slug)
    warnings = list(source.warnings)
    # The manifest check applies to files that carry front matter (our corpus); a PDF or
    # DOCX a user hands in only has a title, which matched the manifest to find its slug.
    if source.source_format in (".md", ".markdown", ".txt"):
        warnings += manifest.check(source.slug, meta)
    body = structure(source.slug, source.lines)
    warnings += body.warnings

    def pick(name: str) -> str:
        value = meta.get(name)
        if value in (None, "") and entry is not None:
            value = getattr(entry, name, "")
        return str(value or "")

    missing = meta.get("missing") or []
    document = Document(
        slug=source.slug,
        title=pick("title"),
        doc_number=pick("doc_number"),
        issuer=pick("issuer"),
        kind=pick("kind"),
        issued=pick("issued"),
        effective=pick("effective"),
        status=(entry.status if entry and entry.status else _short_status(pick("status"))),
        status_note=str(meta.get("status") or ""),
        scope=pick("scope"),
        industries=entry.industries if entry else (),
        domains=entry.domains if entry else (),
        role=entry.role if entry else "",
        short_title=entry.short_title if entry else "",
        replaces=entry.replaces if entry else (),
        replaced_by=entry.replaced_by if entry else (),
        complete=bool(meta.get("complete", True)) if not isinstance(meta.get("complete"), str)
        else meta.get("complete", "true").lower() != "false",
        missing=tuple(str(m) for m in missing) if isinstance(missing, list) else (str(missing),),
        official_url=pick("official_url"),
        family=body.family,
        lead_in=body.lead_in,
        preamble=body.preamble,
        source_path=source.source_path,
        source_format=source.source_format,
        file_hash=source.file_hash,
        content_hash=source.content_hash,
        clause_count=len(body.clauses),
    )
    return ParsedDocument(document=document, clauses=body.clauses, warnings=warnings)
