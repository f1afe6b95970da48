"""One clause: its official text, citation and place in the hierarchy."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import problem_responses
from api.routes.deps import IndexDep
from api.schemas import ClauseOut, ClauseRef, DocumentOut
from assistant.model import Clause
from assistant.store import ClauseStore

router = APIRouter(tags=["clauses"], responses=problem_responses(500, 503))


def _ref(store: ClauseStore, clause: Clause) -> ClauseRef:
    return ClauseRef(clause_id=clause.clause_id, citation=store.citation(clause.clause_id).citation,
                     text=clause.text)


@router.get("/clauses/{clause_id}", response_model=ClauseOut, summary="按条款ID查看原文与引用",
            responses=problem_responses(404, 422))
def get_clause(clause_id: str, index: IndexDep) -> ClauseOut:
    store = index.store
    clause = store.clause(clause_id.strip())  # UnknownClauseError → 404 (api/errors.py)
    parent = store.clauses.get(clause.parent_id) if clause.parent_id else None
    return ClauseOut(
        clause_id=clause.clause_id, text=clause.text, citation=store.citation(clause.clause_id).citation,
        article=clause.article, item=clause.item, sub_item=clause.sub_item, lead_in=clause.lead_in,
        chapter=clause.chapter, parent=_ref(store, parent) if parent else None,
        children=[_ref(store, c) for c in store.children(clause.clause_id)],
        siblings=[_ref(store, c) for c in store.siblings(clause.clause_id)],
        document=DocumentOut.model_validate(store.document_of(clause)),
    )
