"""One conversation turn: a question about the law and standards gets a grounded answer, a
situation gets a classification, a reply to a follow-up question is merged and re-classified
(routing: assistant/dialogue.py; state: api/db.py).

The same turn can be streamed as server-sent events (`?stream=true` or `Accept: text/event-stream`),
which the web UI reads: `segment` × n (the answer, sentence by sentence), `citations`,
`classification` (only when there is one), `done`; or a single `error` carrying problem JSON.
Request validation and missing dependencies (no index, no database) still answer with a plain
problem+json response before any stream starts."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.audit import CHAT, new_audit_id, turn_input
from api.db import UnknownSessionError, citation_json, take_turn
from api.db_health import DATABASE_DOWN, UNREACHABLE
from api.errors import ApiError, problem_response, problem_responses
from api.routes.audit import AUDIT_HEADER, AUDIT_HEADERS, log_answer
from api.routes.deps import AppState, ClassifierDep, IndexDep, PrincipalDep, get_state
from api.routes.sessions import ChatDbDep, SessionNotFound
from api.schemas import ChatRequest, ChatResponse, ChatStreamDone, ChatStreamSegment
from assistant.classifier import InputError, Profile
from assistant.dialogue import Dialogue
from ingest.degradation import noted

log = logging.getLogger(__name__)

router = APIRouter(tags=["chat"], responses=problem_responses(500, 503))

EVENT_STREAM = "text/event-stream"


def get_dialogue(index: IndexDep, classifier: ClassifierDep,
                 state: Annotated[AppState, Depends(get_state)]) -> Dialogue:
    # Built with the index (and the optional LLM synthesizer); the same AppState as `index`, so a
    # live index switch never pairs one generation's dialogue with another's classifier.
    dialogue = state.dialogue
    return dialogue if dialogue is not None else Dialogue(index.store, index.retriever, classifier)


DialogueDep = Annotated[Dialogue, Depends(get_dialogue)]

_STREAM_DESCRIPTION = (
    "`?stream=true` 或 `Accept: text/event-stream` 时以 SSE 流式返回，事件依次为："
    "`segment`（若干个，`{\"text\": …}`，按句切分，拼接即完整回复）→ `citations`（引用列表，同 JSON 响应的 citations）"
    "→ `classification`（仅隐患判定时，同 JSON 响应的 classification）→ `done`"
    "（`{session_id, kind, follow_up_questions, searched_query}`）。处理出错时只发一个 `error` 事件，"
    "数据为 problem JSON（status 为对应的 HTTP 状态码）。请求校验失败、索引或数据库不可用时仍直接返回 problem+json。"
)
STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "回复（JSON），或 SSE 事件流",
        "headers": AUDIT_HEADERS,
        "content": {EVENT_STREAM: {
            # Before OpenAPI 3.2's itemSchema, an event-stream schema describes ONE event (its fields).
            "schema": {"type": "object", "description": _STREAM_DESCRIPTION, "required": ["event", "data"],
                       "properties": {"event": {"enum": ["segment", "citations", "classification", "done", "error"]},
                                      "data": {"type": "string", "contentMediaType": "application/json"}}},
            "example": 'event: segment\ndata: {"text": "判定：重大事故隐患。"}\n\n'
                       'event: citations\ndata: []\n\n'
                       'event: done\ndata: {"session_id": "…", "kind": "classification", '
                       '"follow_up_questions": [], "searched_query": "…"}\n\n',
        }},
        # The payload of each event, for clients that want to validate them.
        "x-sse-events": {
            "segment": ChatStreamSegment.model_json_schema(),
            "citations": {"type": "array", "description": "同 ChatResponse.citations"},
            "classification": {"type": "object", "description": "同 ChatResponse.classification"},
            "done": ChatStreamDone.model_json_schema(),
            "error": {"type": "object", "description": "problem JSON（RFC 9457）"},
        },
    },
}


def wants_stream(request: Request, stream: bool | None) -> bool:
    """An explicit `stream` query parameter wins; otherwise `Accept` naming text/event-stream (q > 0)."""
    if stream is not None:
        return stream
    for part in request.headers.get("accept", "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        if media.lower() == EVENT_STREAM:
            q = next((p.split("=", 1)[1] for p in params if p.replace(" ", "").lower().startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return True
    return False


@router.post("/chat", response_model=ChatResponse, summary="对话：提问法规、描述现场情形或回答追问",
             description="JSON 请求与响应；也可流式返回（见 200 响应的 text/event-stream）。",
             responses={**STREAM_RESPONSE, **problem_responses(404, 413, 422)})
def chat(body: ChatRequest, db: ChatDbDep, dialogue: DialogueDep, request: Request, index: IndexDep,
         principal: PrincipalDep, response: Response,
         stream: Annotated[bool | None, Query(description="true 时以 SSE（text/event-stream）流式返回")] = None):
    profile = Profile(body.profile.industry, tuple(body.profile.domains)) if body.profile else None
    audit_id = new_audit_id()

    def audit(result, data: dict) -> bool:
        return log_answer(request, audit_id, principal.owner, CHAT, turn_input(body.message, result), data, index)

    if wants_stream(request, stream):
        return StreamingResponse(_event_stream(db, dialogue, body.session_id, body.message, profile, audit,
                                               principal.owner),
                                 media_type=EVENT_STREAM,
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                                          AUDIT_HEADER: audit_id})
    try:
        # InputError (blank or over-long message) → 422 in api/errors.py
        result = take_turn(db, dialogue, body.session_id, body.message, profile, owner=principal.owner)
    except UnknownSessionError as exc:
        raise SessionNotFound(str(exc)) from None
    data = turn_json(result)
    if audit(result, data):
        response.headers[AUDIT_HEADER] = audit_id
    return data


def turn_json(result) -> dict:
    reply = result.reply
    return {
        "session_id": result.session_id, "answer": reply.text, "kind": reply.kind,
        "citations": [citation_json(c) for c in reply.citations], "classification": result.classification,
        "follow_up_questions": reply.follow_up_questions, "searched_query": reply.searched_query,
    }


# -- server-sent events ---------------------------------------------------------------------------
def sse_event(event: str, data: Any) -> str:
    """One event; the data is JSON on a single line (JSON escapes newlines)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


_OPEN, _CLOSE = "“「『", "”」』"
_STOPS = "。！？!?；"
_TRAILING = "”’」』）)】"  # closing marks that belong to the sentence just ended


def split_segments(text: str) -> list[str]:
    """The answer in chunks ending at a sentence end (outside quotations) or a line end;
    joined they give back `text` exactly."""
    segments, start, depth, i, n = [], 0, 0, 0, len(text)
    while i < n:
        ch = text[i]
        i += 1
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "\n":
            while i < n and text[i] == "\n":
                i += 1
        elif ch in _STOPS and depth == 0:
            while i < n and (text[i] in _STOPS or text[i] in _TRAILING):
                i += 1
            while i < n and text[i] == "\n":
                i += 1
        else:
            continue
        if ch == "\n" or (ch in _STOPS and depth == 0):
            segments.append(text[start:i])
            start = i
    if start < n:
        segments.append(text[start:])
    return segments or [text]


def _event_stream(db, dialogue: Dialogue, session_id: str | None, message: str,
                  profile: Profile | None, audit=None, owner: str | None = None) -> Iterator[str]:
    # A sync generator: Starlette runs it in the thread pool, so the turn does not block the loop.
    try:
        result = take_turn(db, dialogue, session_id, message, profile, owner=owner)
    except InputError as exc:
        yield _error_event(422, str(exc))
        return
    except UnknownSessionError as exc:
        yield _error_event(404, SessionNotFound(str(exc)).detail)
        return
    except ApiError as exc:
        yield _error_event(exc.status_code, exc.detail)
        return
    except UNREACHABLE:  # the database went away after the stream started
        log.warning("chat stream: database unavailable", exc_info=True)
        yield _error_event(503, DATABASE_DOWN)
        return
    except Exception:  # noqa: BLE001 — the stream has started; the client gets problem JSON, the log the traceback
        log.exception("chat stream failed")
        yield _error_event(500, "服务器内部错误")
        return
    data = turn_json(result)
    if audit is not None:
        audit(result, data)  # before the first event, so the X-Audit-Id sent with the headers resolves
    for segment in split_segments(data["answer"]):
        yield sse_event("segment", ChatStreamSegment(text=segment).model_dump())
    yield sse_event("citations", data["citations"])
    if data["classification"] is not None:
        yield sse_event("classification", data["classification"])
    # The headers left before the turn ran, so a fallback (BM25 only) is named here instead.
    done = ChatStreamDone(session_id=data["session_id"], kind=data["kind"],
                          follow_up_questions=data["follow_up_questions"], searched_query=data["searched_query"],
                          degraded=sorted(noted()))
    yield sse_event("done", done.model_dump(exclude_defaults=True))  # `degraded` only when something fell back


def _error_event(status: int, detail: str) -> str:
    return sse_event("error", json.loads(problem_response(status, detail).body))
