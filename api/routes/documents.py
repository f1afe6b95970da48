"""The corpus's documents, criteria standards first (as `hazard docs --json`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import problem_responses
from api.routes.deps import IndexDep
from api.schemas import DocumentOut

router = APIRouter(tags=["documents"], responses=problem_responses(500, 503))


@router.get("/documents", response_model=list[DocumentOut], summary="列出语料中的文档")
def list_documents(index: IndexDep) -> list[DocumentOut]:
    docs = sorted(index.store.documents.values(), key=lambda d: (d.role != "criteria", d.slug))
    return [DocumentOut.model_validate(d) for d in docs]
