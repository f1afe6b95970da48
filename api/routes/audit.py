"""The audit log over HTTP: read one logged decision (its owner, or an admin) or list one's own; and
the helper the classify and chat routes call to log what they answered (header X-Audit-Id)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from api.audit import AuditLog, AuditRecord, UnknownAuditError, record_decision
from api.audit_schemas import AuditEntryOut, AuditKind, AuditListOut
from api.errors import ApiError, problem_responses
from api.routes.deps import Principal, PrincipalDep
from api.routes.sessions import get_chat_db

log = logging.getLogger(__name__)

router = APIRouter(tags=["audit"], responses=problem_responses(500, 503))

AUDIT_HEADER = "X-Audit-Id"
# The 200 response's header, for the OpenAPI document of the routes that log.
AUDIT_HEADERS = {AUDIT_HEADER: {
    "description": "审计记录ID：GET /v1/audit/{id} 查看，hazard replay ID 复核。"
                   "记录写入失败时不返回此头（流式响应的头在处理前发出，处理出错时该ID无对应记录）。",
    "schema": {"type": "string"}}}


class AuditNotFound(ApiError):
    status_code = 404


def get_audit_log(request: Request) -> AuditLog:
    return AuditLog(get_chat_db(request).engine)


AuditLogDep = Annotated[AuditLog, Depends(get_audit_log)]
AuditId = Annotated[str, Path(min_length=1, max_length=64, description="审计记录ID")]


def log_answer(request: Request, audit_id: str, owner: str, kind: str, input_: dict[str, Any],
               output: dict[str, Any], index) -> bool:
    """Write the entry when the database is there; never raises (the answer goes out regardless)."""
    db = getattr(request.app.state, "chat_db", None)
    if db is None:
        log.warning("audit entry %s not written: no database", audit_id)
        return False
    return record_decision(AuditLog(db.engine), audit_id, owner, kind, input_, output, index,
                           request.app.state.settings)


def visible_to(record: AuditRecord, principal: Principal) -> bool:
    return principal.role == "admin" or record.owner == principal.owner


@router.get("/audit/{audit_id}", response_model=AuditEntryOut, summary="查看一条审计记录（判定或对话的输入、输出、索引版本）",
            responses=problem_responses(404, 422))
def get_entry(audit_id: AuditId, audit: AuditLogDep, principal: PrincipalDep) -> dict:
    try:
        record = audit.get(audit_id)
    except UnknownAuditError as exc:
        raise AuditNotFound(str(exc)) from None
    if not visible_to(record, principal):
        # Same answer as an unknown ID: another owner's entries are not even confirmed to exist.
        raise AuditNotFound(str(UnknownAuditError(audit_id)))
    return record.to_dict()


@router.get("/audit", response_model=AuditListOut, summary="列出本人的审计记录（最新在前）",
            responses=problem_responses(422))
def list_entries(audit: AuditLogDep, principal: PrincipalDep,
                 limit: Annotated[int, Query(ge=1, le=200, description="最多返回条数")] = 20,
                 kind: Annotated[AuditKind | None, Query(description="只看 classify（判定）或 chat（对话）")] = None) -> dict:
    records = audit.entries(principal.owner, kind, limit)
    return {"entries": [{"id": r.id, "created_at": r.created_at, "kind": r.kind, "generation": r.generation,
                         "text": input_text(r)[:200], "result": result_of(r)} for r in records]}


def input_text(record: AuditRecord) -> str:
    return str(record.input.get("situation") or record.input.get("message") or "")


def result_of(record: AuditRecord) -> str:
    return str(record.output.get("label") or record.output.get("kind") or "")
