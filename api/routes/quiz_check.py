"""Answer-key checking over HTTP: POST /v1/quizzes/check, the `hazard answer --jsonl` contract."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.answer_io import answer_rows
from api.errors import InvalidInput, problem_responses
from api.routes.deps import IndexDep
from api.schemas import ChatCitation
from api.services import build_answer_checker

router = APIRouter(tags=["quizzes"], responses=problem_responses(500, 503))

MAX_QUESTIONS = 200


class QuestionIn(BaseModel):
    """One question, as a `hazard answer --jsonl` line. Fields are read leniently: a question that
    cannot be answered as given (unknown type, no options …) gets a result with a note, not an error."""

    model_config = ConfigDict(extra="allow")

    id: Any = Field(default=None, description="题目标识，原样返回")
    type: str | None = Field(default=None, description="single 单选 · multiple 多选 · judge 判断")
    question: str | None = Field(default=None, description="题干")
    options: dict[str, Any] | None = Field(default=None, description="选项，如 {\"A\": \"…\", \"B\": \"…\"}；判断题不给")
    answer: Any = Field(default=None, description="待核对的答案：\"A\"、[\"A\",\"C\"]、true/false；不给则只作答")


class CheckRequest(BaseModel):
    questions: list[QuestionIn] = Field(min_length=1, description=f"试题，每次至多{MAX_QUESTIONS}题")


class AnswerOut(BaseModel):
    id: Any = Field(description="题目标识")
    answer: Literal["A", "B", "C", "D", "E", "F", "G", "H"] | list[str] | bool | None = Field(
        description="单选为选项字母，多选为字母数组，判断为 true/false；语料不能确定时为 null")
    citations: list[ChatCitation] = Field(description="作答依据的条款（原文）")
    confidence: float = Field(ge=0, le=1, description="置信度")
    agrees_with_key: bool | None = Field(default=None, description="与所给答案是否一致（给了答案且作答非 null 时）")
    note: str | None = Field(default=None, description="说明：不能确定的原因、与现行条文不一致之处等")


class CheckResponse(BaseModel):
    results: list[AnswerOut]


@router.post("/quizzes/check", response_model=CheckResponse, response_model_exclude_unset=True,
             summary="核对试题答案：依据语料作答并引用条款，标出与现行条文不一致的答案",
             responses=problem_responses(413, 422))
def check_answers(body: CheckRequest, index: IndexDep) -> dict:
    if len(body.questions) > MAX_QUESTIONS:
        raise InvalidInput(f"每次至多核对{MAX_QUESTIONS}题，本次提交了{len(body.questions)}题，请分批提交")
    checker = build_answer_checker(index)
    rows = [q.model_dump(exclude_unset=True) for q in body.questions]
    return {"results": answer_rows(checker, rows)}
