"""One conversation turn: a question about the law and standards gets a grounded answer, a
situation gets a classification, a reply to a follow-up question is merged and re-classified
(routing: assistant/dialogue.py; state: api/db.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.db import UnknownSessionError, citation_json, take_turn
from api.errors import problem_responses
from api.routes.deps import ClassifierDep, IndexDep
from api.routes.sessions import ChatDbDep, SessionNotFound
from api.schemas import ChatRequest, ChatResponse
from assistant.classifier import Profile
from assistant.dialogue import Dialogue

router = APIRouter(tags=["chat"], responses=problem_responses(500, 503))


def get_dialogue(index: IndexDep, classifier: ClassifierDep) -> Dialogue:
    return Dialogue(index.store, index.retriever, classifier)


DialogueDep = Annotated[Dialogue, Depends(get_dialogue)]


@router.post("/chat", response_model=ChatResponse, summary="对话：提问法规、描述现场情形或回答追问",
             responses=problem_responses(404, 413, 422))
def chat(body: ChatRequest, db: ChatDbDep, dialogue: DialogueDep) -> dict:
    profile = Profile(body.profile.industry, tuple(body.profile.domains)) if body.profile else None
    try:
        # InputError (blank or over-long message) → 422 in api/errors.py
        result = take_turn(db, dialogue, body.session_id, body.message, profile)
    except UnknownSessionError as exc:
        raise SessionNotFound(str(exc)) from None
    reply = result.reply
    return {
        "session_id": result.session_id, "answer": reply.text, "kind": reply.kind,
        "citations": [citation_json(c) for c in reply.citations], "classification": result.classification,
        "follow_up_questions": reply.follow_up_questions, "searched_query": reply.searched_query,
    }
