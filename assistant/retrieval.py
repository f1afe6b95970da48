"""Hybrid retrieval: BM25 and dense candidates fused by reciprocal rank, optional rerank, filters.

Pure: the dense searcher and the reranker are injected callables, so this module holds the
retrieval logic without knowing about Chroma or models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from .lexical import BM25Index, Tokenizer
from .model import Clause, Document
from .normalize import clean_input
from .store import ClauseStore
from .synonyms import Synonyms

# Question words that ask for penalties, and for a major-hazard determination.
PENALTY_CUES = ("罚", "处罚", "追责", "追究", "判刑", "判几年", "坐牢", "法律责任", "吊销", "拘留")
DETERMINATION_CUES = ("重大隐患", "重大事故隐患", "算不算", "算重大", "定重大", "判定", "能定")
INTENT_BOOST = 1.2
# A question naming no industry is most likely about the general laws: a sector document's clauses
# are damped unless the query names (a cue of) one of its sectors.
SCOPE_DAMP = 0.7
# Documents the conversation is already about ("有限空间作业要先干什么？" → "监护人能不能走开？").
PREFER_BOOST = 1.3


class DenseSearch(Protocol):
    def __call__(self, query: str, k: int, allowed_slugs: list[str] | None) -> list[tuple[str, float]]:
        """Clause IDs with cosine similarity, best first."""


Reranker = Callable[[str, list[str]], list[float]]


@dataclass(frozen=True)
class SearchFilters:
    documents: tuple[str, ...] = ()  # slugs
    kinds: tuple[str, ...] = ()  # 法律, 部门规章, 国家标准 …
    statuses: tuple[str, ...] = ()  # 现行有效 …; a status matches by prefix
    industries: tuple[str, ...] = ()  # documents for these industries, plus general ones

    def allows(self, doc: Document) -> bool:
        if self.documents and doc.slug not in self.documents:
            return False
        if self.kinds and doc.kind not in self.kinds:
            return False
        if self.statuses and not any(doc.status.startswith(s) for s in self.statuses):
            return False
        if self.industries and doc.industries and not set(doc.industries) & set(self.industries):
            return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.documents or self.kinds or self.statuses or self.industries)


@dataclass(frozen=True)
class SearchHit:
    clause: Clause
    score: float  # fused RRF score (or reranker score when reranking)
    bm25: float | None = None
    dense: float | None = None
    bm25_rank: int | None = None
    dense_rank: int | None = None


class Retriever:
    def __init__(self, store: ClauseStore, bm25: BM25Index, tokenizer: Tokenizer,
                 dense: DenseSearch | None = None, reranker: Reranker | None = None,
                 synonyms: Synonyms | None = None, rrf_k: int = 20, depth: int = 50, rerank_depth: int = 30,
                 industry_cues: dict[str, list[str]] | None = None):
        self.store = store
        self.bm25 = bm25
        self.tokenizer = tokenizer
        self.dense = dense
        self.reranker = reranker
        self.rrf_k = rrf_k
        self.depth = depth
        self.rerank_depth = rerank_depth
        self.synonyms = synonyms or Synonyms()
        # industry name → words that name it (corpus/industries.yaml); empty = no scope prior.
        self.industry_cues = {name: tuple(c.lower() for c in cues) for name, cues in (industry_cues or {}).items()}
        self._position = {cid: i for i, cid in enumerate(bm25.ids)}
        self._positions_cache: dict[tuple[str, ...], frozenset[int]] = {}

    @property
    def mode(self) -> str:
        return "hybrid" if self.dense is not None else "bm25"

    def _allowed(self, filters: SearchFilters | None) -> tuple[set[int] | None, list[str] | None]:
        if filters is None or not filters.active:
            return None, None
        slugs = [s for s, d in self.store.documents.items() if filters.allows(d)]
        return self._positions_of(tuple(slugs)), slugs

    def _positions_of(self, slugs: tuple[str, ...]) -> frozenset[int]:
        # The classifier asks for the same criteria documents on every call: remember the answer.
        found = self._positions_cache.get(slugs)
        if found is None:
            wanted = set(slugs)
            found = frozenset(i for cid, i in self._position.items() if self.store.clauses[cid].doc_slug in wanted)
            if len(self._positions_cache) < 256:
                self._positions_cache[slugs] = found
        return found

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               use_dense: bool = True, use_bm25: bool = True, prefer: tuple[str, ...] = ()) -> list[SearchHit]:
        """Best `k` clauses for `query`; `use_dense`/`use_bm25` switch a ranker off for comparison;
        clauses of the `prefer` documents (slugs) get a boost."""
        query = clean_input(query)
        if not query or k <= 0:
            return []
        allowed, slugs = self._allowed(filters)
        if slugs is not None and not slugs:
            return []
        expansions = self.synonyms.expand(query)
        expanded = f"{query}（{'、'.join(expansions)}）" if expansions else query
        lexical = self.bm25.top(self.tokenizer.tokens(expanded), self.depth, allowed) if use_bm25 else []
        dense = self.dense(expanded, self.depth, slugs) if (use_dense and self.dense is not None) else []
        fused: dict[str, float] = {}
        for ranking in (lexical, dense):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        self._apply_intent(query, fused)
        self._apply_scope(query, fused)
        if prefer:
            for cid in fused:
                if self.store.clauses[cid].doc_slug in prefer:
                    fused[cid] *= PREFER_BOOST
        bm25_info = {cid: (s, r + 1) for r, (cid, s) in enumerate(lexical)}
        dense_info = {cid: (s, r + 1) for r, (cid, s) in enumerate(dense)}
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))
        scores = dict(fused)
        if self.reranker is not None and order:
            head = order[: self.rerank_depth]
            rerank_scores = self.reranker(query, [self.store.index_text(self.store.clauses[c]) for c in head])
            scores.update(zip(head, rerank_scores))
            order = sorted(head, key=lambda cid: -scores[cid]) + order[self.rerank_depth:]
        hits = []
        for cid in order[:k]:
            b, d = bm25_info.get(cid), dense_info.get(cid)
            hits.append(SearchHit(
                clause=self.store.clauses[cid], score=scores[cid],
                bm25=b[0] if b else None, bm25_rank=b[1] if b else None,
                dense=d[0] if d else None, dense_rank=d[1] if d else None,
            ))
        return hits

    def named_industries(self, query: str) -> set[str]:
        lowered = query.lower()
        return {name for name, cues in self.industry_cues.items()
                if any(part in lowered for part in name.split("/")) or any(c in lowered for c in cues)}

    def _apply_scope(self, query: str, fused: dict[str, float]) -> None:
        if not self.industry_cues:
            return
        named = self.named_industries(query)
        for cid in fused:
            doc = self.store.documents[self.store.clauses[cid].doc_slug]
            if doc.industries and not named & set(doc.industries):
                fused[cid] *= SCOPE_DAMP

    def _apply_intent(self, query: str, fused: dict[str, float]) -> None:
        """Penalty questions lean to 法律责任 clauses, determination questions to the criteria."""
        wants_penalty = any(cue in query for cue in PENALTY_CUES)
        wants_criteria = any(cue in query for cue in DETERMINATION_CUES)
        if not (wants_penalty or wants_criteria):
            return
        for cid in fused:
            clause = self.store.clauses[cid]
            doc = self.store.documents[clause.doc_slug]
            if wants_penalty and ("法律责任" in clause.chapter or "罚款" in clause.text or doc.kind == "司法解释"):
                fused[cid] *= INTENT_BOOST
            if wants_criteria and doc.role == "criteria":
                fused[cid] *= INTENT_BOOST
