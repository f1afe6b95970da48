"""The in-memory clause store: documents, clauses, their hierarchy and citations (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .citation import cite
from .model import Citation, Clause, Document
from .normalize import strip_markup


class UnknownClauseError(KeyError):
    def __init__(self, clause_id: str):
        super().__init__(clause_id)
        self.clause_id = clause_id

    def __str__(self) -> str:
        return f"未找到条款 {self.clause_id} / unknown clause ID"


@dataclass
class ClauseStore:
    documents: dict[str, Document]
    clauses: dict[str, Clause]
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_doc: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._children = {}
        self._by_doc = {}
        for clause in sorted(self.clauses.values(), key=lambda c: (c.doc_slug, c.order)):
            self._by_doc.setdefault(clause.doc_slug, []).append(clause.clause_id)
            if clause.parent_id:
                self._children.setdefault(clause.parent_id, []).append(clause.clause_id)

    # -- lookups -------------------------------------------------------------------------
    def clause(self, clause_id: str) -> Clause:
        try:
            return self.clauses[clause_id]
        except KeyError:
            raise UnknownClauseError(clause_id) from None

    def document_of(self, clause: Clause) -> Document:
        return self.documents[clause.doc_slug]

    def citation(self, clause_id: str) -> Citation:
        clause = self.clause(clause_id)
        return cite(clause, self.document_of(clause))

    def children(self, clause_id: str) -> list[Clause]:
        return [self.clauses[c] for c in self._children.get(clause_id, [])]

    def siblings(self, clause_id: str) -> list[Clause]:
        clause = self.clause(clause_id)
        if clause.parent_id:
            ids = self._children.get(clause.parent_id, [])
        else:
            ids = [c for c in self._by_doc.get(clause.doc_slug, []) if not self.clauses[c].parent_id]
        return [self.clauses[c] for c in ids if c != clause_id]

    def clauses_of(self, slug: str) -> list[Clause]:
        return [self.clauses[c] for c in self._by_doc.get(slug, [])]

    def ordered_ids(self) -> list[str]:
        return [cid for slug in sorted(self._by_doc) for cid in self._by_doc[slug]]

    # -- text for retrieval ----------------------------------------------------------------
    def index_text(self, clause: Clause) -> str:
        """What retrieval reads for a clause: short title, lead-in and text (table cells flattened)."""
        doc = self.documents[clause.doc_slug]
        head = doc.short_title or doc.title
        return f"{head}\n{strip_markup(clause.search_text)}"

    def embed_text(self, clause: Clause) -> str:
        """What the dense model reads: short title and the clause's own words. The lead-in
        is left out because siblings share it and it drowns what tells them apart."""
        doc = self.documents[clause.doc_slug]
        return f"{doc.short_title or doc.title}\n{strip_markup(clause.text)}"

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "documents": [d.to_dict() for d in self.documents.values()],
            "clauses": [c.to_dict() for c in sorted(self.clauses.values(), key=lambda c: (c.doc_slug, c.order))],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ClauseStore":
        documents = {d["slug"]: Document.from_dict(d) for d in data.get("documents", [])}
        clauses = {c["clause_id"]: Clause.from_dict(c) for c in data.get("clauses", [])}
        return cls(documents, clauses)
