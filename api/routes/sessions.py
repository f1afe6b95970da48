"""Conversation sessions: read a session's history, or delete it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from api.db import ChatDatabase, UnknownSessionError
from api.errors import ApiError, IndexUnavailable, problem_responses
from api.routes.deps import PrincipalDep
from api.schemas import SessionOut

router = APIRouter(tags=["chat"], responses=problem_responses(500, 503))

DB_NOT_READY = "会话数据库尚未就绪"


class SessionNotFound(ApiError):
    status_code = 404


def get_chat_db(request: Request) -> ChatDatabase:
    db = getattr(request.app.state, "chat_db", None)
    if db is None:
        raise IndexUnavailable(getattr(request.app.state, "chat_db_error", "") or DB_NOT_READY)
    schema = getattr(request.app.state, "chat_db_schema", None)
    if schema is not None:
        schema.ensure()  # tables not created yet (server down at startup): try again, or 503
    return db


ChatDbDep = Annotated[ChatDatabase, Depends(get_chat_db)]
SessionId = Annotated[str, Path(min_length=1, max_length=64, description="会话ID")]


@router.get("/sessions/{session_id}", response_model=SessionOut, summary="查看会话历史",
            responses=problem_responses(404, 422))
def get_session(session_id: SessionId, db: ChatDbDep, principal: PrincipalDep) -> SessionOut:
    try:
        db.check_owner(session_id, principal.owner)  # another owner's session: 404, as if missing
        created, updated = db.session_times(session_id)
        messages = db.messages(session_id)
    except UnknownSessionError as exc:
        raise SessionNotFound(str(exc)) from None
    return SessionOut.model_validate({
        "session_id": session_id, "created_at": created, "updated_at": updated,
        "messages": [{"role": m.role, "text": m.text, "kind": m.kind, "citations": m.citations,
                      "searched_query": m.searched_query, "classification": m.classification,
                      "created_at": m.created_at} for m in messages],
    })


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response, summary="删除会话及其全部消息",
               responses=problem_responses(404, 422))
def delete_session(session_id: SessionId, db: ChatDbDep, principal: PrincipalDep) -> Response:
    try:
        db.check_owner(session_id, principal.owner)
        db.delete(session_id)
    except UnknownSessionError as exc:
        raise SessionNotFound(str(exc)) from None
    return Response(status_code=204)
