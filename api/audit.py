"""The audit log: every classification and chat answer with who asked, what went in, the exact JSON
that came out, and what it was decided on (index generation, document versions, code version), so
that `hazard replay` can re-run it later.

The table is declared on api/db.py's `Base`, so `ChatDatabase.create_all` creates it. Writing is
one insert and never raises: a failed write is logged and the answer still goes out.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from api.db import Base, as_utc

log = logging.getLogger(__name__)

CLASSIFY, CHAT = "classify", "chat"
KINDS = (CLASSIFY, CHAT)
MAX_LIST = 200


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_owner_created", "owner", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    input: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    generation: Mapped[str] = mapped_column(String(64))
    # slug → {version (content hash), title, doc_number, status} of every document the output cites
    documents: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the generation's sources.json fingerprint: pipeline, embedding model, manifest hash
    fingerprint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    code_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnknownAuditError(KeyError):
    def __init__(self, audit_id: str):
        super().__init__(audit_id)
        self.audit_id = audit_id

    def __str__(self) -> str:
        return f"未找到审计记录 {self.audit_id}"


@dataclass(frozen=True)
class AuditRecord:
    id: str
    created_at: datetime
    owner: str
    kind: str
    input: dict[str, Any]
    output: dict[str, Any]
    generation: str
    documents: dict[str, Any]
    fingerprint: dict[str, Any]
    code_version: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at.isoformat(), "owner": self.owner, "kind": self.kind,
                "input": self.input, "output": self.output, "generation": self.generation,
                "documents": self.documents, "fingerprint": self.fingerprint, "code_version": self.code_version}


def new_audit_id() -> str:
    """Unguessable: the ID alone must not reveal or enumerate other entries."""
    return uuid.uuid4().hex


class AuditLog:
    def __init__(self, engine: Engine):
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record(self, audit_id: str, owner: str, kind: str, input_: dict, output: dict, generation: str,
               documents: dict, fingerprint: dict, code_version: dict) -> bool:
        """One insert; False (and a log line) instead of an exception when it fails."""
        try:
            with self._sessions.begin() as s:
                s.add(AuditEntry(id=audit_id, created_at=datetime.now(UTC), owner=owner, kind=kind, input=input_,
                                 output=output, generation=generation, documents=documents,
                                 fingerprint=fingerprint, code_version=code_version))
            return True
        except Exception:  # auditing must never fail the answer it records
            log.exception("audit entry %s not written", audit_id)
            return False

    def get(self, audit_id: str) -> AuditRecord:
        with self._sessions() as s:
            row = s.get(AuditEntry, audit_id)
            if row is None:
                raise UnknownAuditError(audit_id)
            return _record(row)

    def entries(self, owner: str | None, kind: str | None = None, limit: int = 20) -> list[AuditRecord]:
        """Newest first; `owner` None means every owner's (admin)."""
        query = select(AuditEntry)
        if owner is not None:
            query = query.where(AuditEntry.owner == owner)
        if kind:
            query = query.where(AuditEntry.kind == kind)
        query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id).limit(max(1, min(limit, MAX_LIST)))
        with self._sessions() as s:
            return [_record(r) for r in s.scalars(query).all()]


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(row.id, as_utc(row.created_at), row.owner, row.kind, dict(row.input or {}),
                       dict(row.output or {}), row.generation, dict(row.documents or {}),
                       dict(row.fingerprint or {}), dict(row.code_version or {}))


# -- what a decision was made on ------------------------------------------------------------------
def cited_clause_ids(output: Any) -> list[str]:
    """Every `clause_id` anywhere in a classification or chat JSON, in order of appearance."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            cid = value.get("clause_id")
            if isinstance(cid, str) and cid not in found:
                found.append(cid)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(output)
    return found


def documents_used(store, output: dict) -> dict[str, dict[str, str]]:
    """slug → version of each document the output cites or names as unavailable."""
    slugs: list[str] = []
    for cid in cited_clause_ids(output):
        clause = store.clauses.get(cid)
        if clause is not None and clause.doc_slug not in slugs:
            slugs.append(clause.doc_slug)
    for finding in output.get("findings") or (output.get("classification") or {}).get("findings") or []:
        for doc in finding.get("unavailable_documents") or []:
            if doc.get("slug") not in slugs:
                slugs.append(doc.get("slug"))
    out = {}
    for slug in slugs:
        doc = store.documents.get(slug)
        if doc is not None:
            out[slug] = {"version": doc.content_hash, "title": doc.title, "doc_number": doc.doc_number,
                         "status": doc.status}
    return out


@functools.lru_cache(maxsize=16)
def generation_fingerprint(generation_path: str) -> dict[str, Any]:
    """The generation's manifest/pipeline/embedding fingerprint; a generation never changes once
    published, so this is read once per generation."""
    from ingest.generations import read_json

    try:
        return dict(read_json(Path(generation_path) / "sources.json").get("fingerprint") or {})
    except (OSError, ValueError):
        return {}


@functools.lru_cache(maxsize=1)
def rules_version() -> str:
    """Hash of the team's annotations the classifier reads from the package (criteria, industry cues,
    synonyms): they are not part of an index generation, so a replay has to say when they changed."""
    root = resources.files("corpus")
    digest = hashlib.sha256()
    names = ["industries.yaml", "synonyms.yaml"] + sorted(
        f"criteria/{p.name}" for p in root.joinpath("criteria").iterdir() if p.name.endswith(".yaml"))
    for name in names:
        digest.update(name.encode())
        digest.update(root.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _git_commit() -> str:
    head = Path(__file__).resolve().parents[1] / ".git" / "HEAD"
    try:
        ref = head.read_text(encoding="utf-8").strip()
        if ref.startswith("ref: "):
            return (head.parent / ref[5:]).read_text(encoding="utf-8").strip()[:12]
        return ref[:12]
    except OSError:
        return ""


@functools.lru_cache(maxsize=1)
def _package_version() -> str:
    # Reading the installed metadata costs about a millisecond; it cannot change while serving.
    try:
        return metadata.version("hazard-assistant")
    except metadata.PackageNotFoundError:
        return ""


def code_version(settings) -> dict[str, str]:
    from ingest.pipeline import PIPELINE_VERSION

    return {"package": _package_version(), "commit": _git_commit(), "pipeline": PIPELINE_VERSION, "rules": rules_version(),
            "llm": settings.llm_model if settings.llm_base_url else ""}


def record_decision(audit: AuditLog, audit_id: str, owner: str, kind: str, input_: dict, output: dict,
                    index, settings) -> bool:
    """Log one answer with everything `hazard replay` needs; False when it could not be written."""
    try:
        documents = documents_used(index.store, output)
        context = (generation_fingerprint(str(index.path)), code_version(settings))
    except Exception:  # never fail the answer over its audit trail
        log.exception("audit context for %s not gathered", audit_id)
        documents, context = {}, ({}, {})
    return audit.record(audit_id, owner, kind, input_, output, index.generation, documents, *context)


def profile_json(profile) -> dict[str, Any] | None:
    return None if profile is None else {"industry": profile.industry, "domains": list(profile.domains)}


def turn_input(message: str, result) -> dict[str, Any]:
    """A chat turn's input as replay needs it: the message, the session's history before it and
    the profile it was answered with (`api.db.TurnResult`)."""
    history = [{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(t).items()} for t in result.history]
    return {"message": message, "session_id": result.session_id, "profile": profile_json(result.profile),
            "history": history}
