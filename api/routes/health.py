"""Liveness and readiness: the process is up / the index is loaded and can answer."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.errors import problem_responses
from api.routes.deps import IndexDep
from api.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="存活检查")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, summary="就绪检查：索引已加载（并列出降级项）",
            responses=problem_responses(500, 503))
def readyz(index: IndexDep, request: Request) -> Ready:
    from api.degraded import current_degradations

    # Degraded is still ready: BM25 answers without the Chroma server, search works without the database.
    return Ready(status="ready", generation=index.generation, documents=len(index.store.documents),
                 clauses=len(index.store.clauses), degraded=current_degradations(request.app.state, index))
