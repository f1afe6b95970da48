"""Hybrid clause search (BM25 + dense, fused) with document / kind / status / industry filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.errors import InvalidInput, problem_responses
from api.routes.deps import IndexDep
from api.schemas import SearchResponse, SearchResult
from assistant.retrieval import SearchFilters

router = APIRouter(tags=["search"], responses=problem_responses(500, 503))


@router.get("/search", response_model=SearchResponse, summary="检索条款",
            responses=problem_responses(422))
def search(
    index: IndexDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="检索内容")],
    k: Annotated[int, Query(ge=1, le=50, description="返回条数")] = 10,
    document: Annotated[list[str] | None, Query(description="限定文档slug（可重复）")] = None,
    kind: Annotated[list[str] | None, Query(description="限定文种：法律、部门规章、国家标准…（可重复）")] = None,
    status: Annotated[list[str] | None, Query(description="限定状态，按前缀匹配：现行有效…（可重复）")] = None,
    industry: Annotated[list[str] | None, Query(description="限定行业：冶金、煤矿…（可重复）")] = None,
) -> SearchResponse:
    if not q.strip():
        raise InvalidInput("检索内容为空")
    filters = SearchFilters(tuple(document or ()), tuple(kind or ()), tuple(status or ()), tuple(industry or ()))
    results = []
    for hit in index.retriever.search(q, k=k, filters=filters):
        cit = index.store.citation(hit.clause.clause_id)
        results.append(SearchResult(
            clause_id=cit.clause_id, citation=cit.citation, score=round(hit.score, 6), quote=cit.quote,
            document_title=cit.document_title, doc_number=cit.doc_number, status=cit.status,
            bm25=hit.bm25, dense=hit.dense))
    return SearchResponse(query=q, results=results)
