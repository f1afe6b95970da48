"""The answer-key checking contract: question lines in, one result line per question out.

Shared by `hazard answer` and POST /v1/quizzes/check. A line that cannot be read (not JSON, a
missing field, an unknown type, a choice question without options) still gets its result line —
answer null and a Chinese note — so every input keeps its id and position.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from api.db import citation_json
from assistant.answering import (
    AnswerChecker,
    AnswerResult,
    QuestionError,
    parse_question,
)


def answer_json(result: AnswerResult) -> dict:
    """{"id", "answer", "citations", "confidence", "agrees_with_key"?, "note"?}."""
    out: dict[str, Any] = {"id": result.id, "answer": result.answer,
                           "citations": [citation_json(c) for c in result.citations],
                           "confidence": round(float(result.confidence), 2)}
    if result.agrees_with_key is not None:
        out["agrees_with_key"] = result.agrees_with_key
    if result.note:
        out["note"] = result.note
    return out


def _failed(raw: Any, note: str) -> dict:
    qid = raw.get("id") if isinstance(raw, dict) else None
    return {"id": qid, "answer": None, "citations": [], "confidence": 0.0, "note": note}


def answer_rows(checker: AnswerChecker, rows: Iterable[Any]) -> list[dict]:
    """One result per question object, in order; unreadable questions get a note instead."""
    out = []
    for raw in rows:
        try:
            question = parse_question(raw)
        except QuestionError as exc:
            out.append(_failed(raw, f"无法作答：{exc}"))
            continue
        out.append(answer_json(checker.answer(question)))
    return out


def answer_lines(checker: AnswerChecker, lines: Iterable[str]) -> list[dict]:
    """JSONL question lines → result lines (blank lines are skipped, bad ones answered null)."""
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            out.append(_failed(None, f"无法作答（第{n}行）：不是合法的JSON"))
            continue
        result = answer_rows(checker, [raw])[0]
        if "note" in result and result["answer"] is None and result["note"].startswith("无法作答"):
            result["note"] = result["note"].replace("无法作答：", f"无法作答（第{n}行）：", 1)
        out.append(result)
    return out
