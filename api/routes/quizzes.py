"""Trainers' quizzes: generate (validated against the corpus) and export a quiz as a file."""

from __future__ import annotations

import random
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.errors import InvalidInput, problem_responses
from api.quiz_export import FORMATS, content_disposition, filename
from api.quiz_schemas import QuizOut, QuizRequestIn
from api.routes.deps import ClassifierDep
from assistant.quiz import QuizRequestError, generate_quiz
from assistant.quiz_check import QuizChecker
from assistant.quiz_model import Quiz, QuizRequest

router = APIRouter(tags=["quizzes"], responses=problem_responses(500, 503))

MAX_PROBLEMS_SHOWN = 5


def to_request(body: QuizRequestIn) -> QuizRequest:
    # No seed: pick one, and return it so the same quiz can be generated again.
    seed = body.seed if body.seed is not None else random.SystemRandom().randrange(1, 2**31 - 1)
    return QuizRequest(documents=tuple(d.strip() for d in body.documents if d.strip()),
                       industries=tuple(i.strip() for i in body.industries if i.strip()),
                       domains=tuple(d.strip() for d in body.domains if d.strip()),
                       single=body.single, multiple=body.multiple, judge=body.judge, fill=body.fill,
                       difficulty=body.difficulty, seed=seed)


@router.post("/quizzes", response_model=QuizOut, summary="生成试卷（每道题均经条款库校验）",
             responses=problem_responses(413, 422))
def create_quiz(body: QuizRequestIn, classifier: ClassifierDep) -> dict:
    try:
        quiz = generate_quiz(classifier.store, classifier.registry, to_request(body))
    except QuizRequestError as exc:
        raise InvalidInput(str(exc)) from None
    return quiz.to_dict()


@router.post("/quizzes/export", summary="导出试卷：markdown、docx、xlsx 或 json（导出前按条款库重新校验）",
             response_class=Response, responses={
                 200: {"description": "试卷文件", "content": {f.media_type.split(";")[0]: {} for f in FORMATS.values()}},
                 **problem_responses(413, 422)})
def export_quiz(body: QuizOut, classifier: ClassifierDep,
                format: Annotated[Literal["markdown", "docx", "xlsx", "json"],
                                  Query(description="导出格式")] = "markdown") -> Response:
    quiz = Quiz.from_dict(body.model_dump())
    if not quiz.questions:
        raise InvalidInput("试卷中没有题目")
    checker = QuizChecker(classifier.store, classifier.registry)
    problems = [p for q in quiz.questions for p in checker.check(q)]
    if problems:
        shown = "；".join(f"{p.question_id}：{p.message}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = f"等{len(problems)}处" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise InvalidInput(f"试卷未通过条款库校验（{shown}{more}），请重新生成后再导出")
    fmt = FORMATS[format]
    return Response(fmt.render(quiz), media_type=fmt.media_type,
                    headers={"Content-Disposition": content_disposition(filename(quiz, format))})
