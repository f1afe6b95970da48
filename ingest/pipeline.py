"""Incremental, crash-safe ingest: files → clauses → a new index generation → atomic switch.

- Per-file content hashes: an unchanged corpus is a no-op that loads no model.
- A changed or removed file replaces or removes exactly its documents' clauses; vectors of
  unchanged clause text come from the embedding cache, so only new text is embedded.
- A file that fails keeps its previous version in the index (nothing is lost) and makes the
  run fail; the other files are still indexed.
- The new generation is written beside the current one and published by one rename.
- Extra source folders (documents uploaded by an admin) are ingested with the corpus; their
  files are named `@<folder>/<path>` in reports and sources.json, and a document of theirs
  that the manifest does not list is marked unverified (UPLOAD_NOTE).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

from assistant.model import ParsedDocument
from ingest import generations as gen
from ingest.documents import build_document
from ingest.errors import DuplicateSlugError, IngestError
from ingest.loaders import FORMAT_PRIORITY, SUPPORTED_SUFFIXES, file_sha256, load_file, title_index
from ingest.manifest import Manifest, load_manifest
from ingest.structure import StructureError

PIPELINE_VERSION = "3"
EMBED_CHARS = 320
VECTOR_KEYS = ("embedding", "vectors")  # fingerprint keys that concern vectors only
ADDED, UPDATED, UNCHANGED, REMOVED, FAILED, SKIPPED = "新增", "更新", "未变", "删除", "失败", "跳过"
UPLOAD_NOTE = "上传文档，未经核实"
EXTRA_PREFIX = "@"


@dataclass
class DocReport:
    path: str
    slug: str = ""
    status: str = UNCHANGED
    clauses: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class IngestReport:
    generation: str
    changed: bool
    docs: list[DocReport]
    embedded: int = 0
    reused_vectors: int = 0
    seconds: float = 0.0

    @property
    def failures(self) -> list[DocReport]:
        return [d for d in self.docs if d.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failures


ProgressFactory = Callable[..., object]


def discover(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise IngestError(corpus_dir, "语料目录不存在", "corpus directory not found")
    files = sorted(
        p for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        and p.name.lower() != "readme.md" and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )
    if not files:
        raise IngestError(corpus_dir, "语料目录中没有可入库的文件（md/txt/pdf/docx）", "no ingestible files")
    return files


def discover_sources(corpus_dir: Path, extra_dirs: Sequence[Path] = ()) -> dict[Path, str]:
    """Every ingestible file → its name in reports: the corpus path, or `@<folder>/<path>` for an
    extra folder (which may be missing or empty: nobody has uploaded anything yet)."""
    names = {p: str(p.relative_to(corpus_dir)) for p in discover(corpus_dir)}
    for folder in extra_dirs:
        if folder.is_dir() and any(folder.iterdir()):
            try:
                found = discover(folder)
            except IngestError:
                continue
            names.update({p: f"{EXTRA_PREFIX}{folder.name}/{p.relative_to(folder)}" for p in found})
    return names


def manifest_hash(manifest_path: Path | None) -> str:
    if manifest_path is None:
        data = resources.files("corpus").joinpath("manifest.yaml").read_bytes()
    else:
        data = manifest_path.read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


def fingerprint(embedding_key: str, manifest_path: Path | None) -> dict[str, str]:
    return {"pipeline": PIPELINE_VERSION, "embedding": embedding_key, "manifest": manifest_hash(manifest_path)}


def _previous(data_dir: Path) -> tuple[dict | None, dict[str, ParsedDocument]]:
    name = gen.current_name(data_dir)
    if name is None:
        return None, {}
    path = gen.generations_dir(data_dir) / name
    sources = gen.read_json(path / "sources.json")
    from assistant.store import ClauseStore

    store = ClauseStore.from_dict(gen.read_json(path / "store.json"))
    parsed = {slug: ParsedDocument(doc, store.clauses_of(slug)) for slug, doc in store.documents.items()}
    return sources, parsed


def ingest(corpus_dir: Path, data_dir: Path, embedding_key: str,
           make_embeddings: Callable[[], object | None], manifest_path: Path | None = None,
           progress: ProgressFactory | None = None, extra_dirs: Sequence[Path] = (),
           keep_generations: int = gen.KEEP_PREVIOUS, vector_store=None) -> IngestReport:
    """Bring the index in `data_dir` up to date with `corpus_dir` plus `extra_dirs` (uploads).
    `vector_store` (an `ingest.chroma_server.ChromaServer`) keeps the vectors on a Chroma server
    instead of in the generation's folder."""
    started = time.perf_counter()
    corpus_dir, data_dir = corpus_dir.resolve(), data_dir.resolve()
    extra_dirs = [d.resolve() for d in extra_dirs]
    with gen.ingest_lock(data_dir):
        _drop_vectors(vector_store, gen.prune(data_dir, keep_generations))
        names = discover_sources(corpus_dir, extra_dirs)
        files = list(names)
        # Only folders that gave files count: an empty uploads folder leaves an index as it was.
        extras_used = [str(d) for d in extra_dirs
                       if any(names[p].startswith(EXTRA_PREFIX) and p.is_relative_to(d) for p in files)]
        hashes = {names[p]: file_sha256(p) for p in files}
        fp = fingerprint(embedding_key, manifest_path)
        if vector_store is not None:
            fp["vectors"] = "chroma-server"
        old_sources, old_docs = _previous(data_dir)
        if old_sources and old_sources.get("fingerprint") == fp and old_sources.get("files") == hashes \
                and old_sources.get("corpus_dir") == str(corpus_dir) \
                and old_sources.get("extra_dirs", []) == extras_used \
                and (vector_store is None or vector_store.holds(gen.current_path(data_dir))):
            reports = [DocReport(path=p, slug=s, status=UNCHANGED, clauses=old_docs[s].document.clause_count)
                       for p, slugs in old_sources["file_slugs"].items() for s in slugs if s in old_docs]
            return IngestReport(gen.current_name(data_dir) or "", False, reports,
                                seconds=time.perf_counter() - started)
        manifest = load_manifest(manifest_path)
        # Parsed clauses do not depend on the embedding model or where the vectors are kept.
        reuse_ok = bool(old_sources) and {k: v for k, v in old_sources["fingerprint"].items() if k not in VECTOR_KEYS} \
            == {k: v for k, v in fp.items() if k not in VECTOR_KEYS}
        parsed, reports, file_slugs, recorded = _parse_all(names, hashes, manifest, old_sources,
                                                           old_docs, reuse_ok)
        _mark_removed(old_docs, parsed, reports)
        generation = gen.new_generation(data_dir)
        embedded, reused = _write_generation(generation, data_dir, parsed, make_embeddings, progress, vector_store)
        gen.write_json(generation / "sources.json", {
            "corpus_dir": str(corpus_dir), "extra_dirs": extras_used, "fingerprint": fp,
            "files": recorded, "file_slugs": file_slugs,
        })
        gen.publish(data_dir, generation)
        _drop_vectors(vector_store, gen.prune(data_dir, keep_generations))
        return IngestReport(generation.name, True, reports, embedded, reused, time.perf_counter() - started)


def _parse_all(names: dict[Path, str], hashes: dict[str, str], manifest: Manifest,
               old_sources: dict | None, old_docs: dict[str, ParsedDocument], reuse_ok: bool):
    """Parse changed files, reuse unchanged ones, keep old versions of files that fail."""
    titles = title_index(manifest.titles())
    old_files = (old_sources or {}).get("files", {})
    old_file_slugs = (old_sources or {}).get("file_slugs", {})
    candidates: list[tuple[Path, ParsedDocument]] = []
    reports: list[DocReport] = []
    recorded: dict[str, str] = {}
    for path, rel in names.items():
        if reuse_ok and old_files.get(rel) == hashes[rel] and all(s in old_docs for s in old_file_slugs.get(rel, [])):
            for slug in old_file_slugs.get(rel, []):
                candidates.append((path, old_docs[slug]))
                reports.append(DocReport(path=rel, slug=slug, status=UNCHANGED,
                                         clauses=old_docs[slug].document.clause_count))
            recorded[rel] = hashes[rel]
            continue
        try:
            sources = load_file(path, titles)
            built = [build_document(s, manifest) for s in sources]
            if rel.startswith(EXTRA_PREFIX):
                built = [mark_unverified(doc, manifest) for doc in built]
        except (IngestError, StructureError) as exc:
            kept = [old_docs[s] for s in old_file_slugs.get(rel, []) if s in old_docs]
            note = "；保留上一版本 / previous version kept" if kept else ""
            reports.append(DocReport(path=rel, slug=",".join(d.document.slug for d in kept), status=FAILED,
                                     error=f"{exc}{note}"))
            candidates.extend((path, d) for d in kept)
            if rel in old_files:
                recorded[rel] = old_files[rel]  # so the next run retries this file
            continue
        recorded[rel] = hashes[rel]
        for doc in built:
            old = old_docs.get(doc.document.slug)
            if old is None:
                status = ADDED
            elif old.document.content_hash == doc.document.content_hash:
                status = UNCHANGED
            else:
                status = UPDATED
            reports.append(DocReport(path=rel, slug=doc.document.slug, status=status,
                                     clauses=len(doc.clauses), warnings=doc.warnings))
            candidates.append((path, doc))
    parsed, file_slugs = _resolve_duplicates(names, candidates, reports)
    for rel in old_files:
        if rel not in recorded and rel in hashes:
            recorded[rel] = hashes[rel]
    return parsed, reports, file_slugs, recorded


def mark_unverified(doc: ParsedDocument, manifest: Manifest) -> ParsedDocument:
    """An uploaded document the team's manifest does not list keeps its front matter, flagged."""
    if manifest.get(doc.document.slug) is not None:
        return doc
    own = doc.document.status_note
    note = UPLOAD_NOTE if not own or own.startswith(UPLOAD_NOTE) else f"{UPLOAD_NOTE}；{own}"
    return dataclasses.replace(doc, document=dataclasses.replace(doc.document, status_note=note))


def _resolve_duplicates(names: dict[Path, str], candidates: list[tuple[Path, ParsedDocument]],
                        reports: list[DocReport]):
    """One document per slug: Markdown beats TXT beats DOCX beats PDF; equal formats conflict."""
    chosen: dict[str, tuple[Path, ParsedDocument]] = {}
    for path, doc in candidates:
        slug = doc.document.slug
        if slug not in chosen:
            chosen[slug] = (path, doc)
            continue
        other_path, _ = chosen[slug]
        mine, theirs = FORMAT_PRIORITY.get(path.suffix.lower(), 9), FORMAT_PRIORITY.get(other_path.suffix.lower(), 9)
        rel, other_rel = names[path], names[other_path]
        if mine == theirs:
            err = DuplicateSlugError(path, f"文档标识 {slug} 与 {other_rel} 重复", f"duplicate slug {slug} (also {other_rel})")
            _set_status(reports, rel, slug, FAILED, str(err))
            continue
        loser_rel, winner_rel = (rel, other_rel) if mine > theirs else (other_rel, rel)
        if mine < theirs:
            chosen[slug] = (path, doc)
        _set_status(reports, loser_rel, slug, SKIPPED, f"同一文档已由 {winner_rel} 提供 / same document provided by {winner_rel}")
    file_slugs: dict[str, list[str]] = {}
    for slug, (path, _) in chosen.items():
        file_slugs.setdefault(names[path], []).append(slug)
    return {slug: doc for slug, (_, doc) in chosen.items()}, file_slugs


def _set_status(reports: list[DocReport], rel: str, slug: str, status: str, note: str) -> None:
    for r in reports:
        if r.path == rel and r.slug == slug:
            r.status = status
            if status == FAILED:
                r.error = note
            else:
                r.warnings = [note]
            return
    reports.append(DocReport(path=rel, slug=slug, status=status, error=note if status == FAILED else "",
                             warnings=[] if status == FAILED else [note]))


def _mark_removed(old_docs: dict[str, ParsedDocument], parsed: dict[str, ParsedDocument],
                  reports: list[DocReport]) -> None:
    for slug, old in old_docs.items():
        if slug not in parsed:
            reports.append(DocReport(path=old.document.source_path, slug=slug, status=REMOVED))


def _drop_vectors(vector_store, pruned: list[str]) -> None:
    """A pruned generation's collection on the Chroma server goes with it."""
    if vector_store is not None and pruned:
        vector_store.drop(pruned)


def _write_generation(generation: Path, data_dir: Path, parsed: dict[str, ParsedDocument],
                      make_embeddings: Callable[[], object | None], progress: ProgressFactory | None,
                      vector_store=None):
    from assistant.lexical import Tokenizer, domain_terms
    from assistant.store import ClauseStore

    store = ClauseStore({s: p.document for s, p in parsed.items()},
                        {c.clause_id: c for p in parsed.values() for c in p.clauses})
    ids = store.ordered_ids()
    texts = [store.index_text(store.clauses[cid]) for cid in ids]
    terms = domain_terms(texts)
    tokenizer = Tokenizer(terms)
    token_lists = [tokenizer.tokens(t) for t in _progress(progress, texts, "分词 tokenize")]
    gen.write_json(generation / "store.json", store.to_dict())
    gen.write_json(generation / "tokens.json", {"ids": ids, "tokens": token_lists})
    (generation / "terms.txt").write_text("\n".join(terms) + "\n", encoding="utf-8")
    embeddings = make_embeddings()
    if embeddings is None:
        return 0, 0
    passages = [store.embed_text(store.clauses[cid]) for cid in ids]
    return _write_vectors(generation, data_dir, store, ids, passages, embeddings, progress, vector_store)


def _write_vectors(generation, data_dir, store, ids, texts, embeddings, progress, vector_store=None):
    import numpy as np

    from ingest.vectors import EmbeddingCache, text_key, write_collection

    cache = EmbeddingCache(data_dir / "embeddings.sqlite")
    try:
        # e5-small reads 512 tokens at most and cost grows with length; a clause's head carries
        # its meaning (items are embedded on their own), so long articles are cut.
        texts = [t[:EMBED_CHARS] for t in texts]
        keys = [text_key(t) for t in texts]
        cached = cache.get_many(embeddings.model_key, set(keys))
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in cached}.items())
        batch = 32
        batches = [missing[i:i + batch] for i in range(0, len(missing), batch)]
        for chunk in _progress(progress, batches, "向量化 embed"):
            vectors = embeddings.embed_passages([t for _, t in chunk])
            fresh = {k: v for (k, _), v in zip(chunk, vectors)}
            cache.put_many(embeddings.model_key, fresh)
            cached.update(fresh)
        matrix = np.stack([cached[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)
        metadatas = [{"doc_slug": store.clauses[c].doc_slug, "level": store.clauses[c].level} for c in ids]
        if ids and vector_store is not None:
            vector_store.write(generation, ids, matrix, metadatas)
        elif ids:
            write_collection(generation / "chroma", ids, matrix, metadatas)
        return len(missing), len(keys) - len(missing)
    finally:
        cache.close()


def _progress(progress: ProgressFactory | None, items, label: str):
    if progress is None:
        return items
    return progress(items, desc=label)
