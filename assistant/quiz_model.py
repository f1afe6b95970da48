"""The quiz data classes: a request, a question with what it was built from, and a quiz.

Shared by generation (`quiz.py`), validation (`quiz_check.py`) and the exports; a question
serialises to JSON and back unchanged, so a quiz handed back for export can be re-validated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .model import Citation

SINGLE, MULTIPLE, JUDGE, FILL = "single", "multiple", "judge", "fill"
TYPES = (SINGLE, MULTIPLE, JUDGE, FILL)
TYPE_ZH = {SINGLE: "单选题", MULTIPLE: "多选题", JUDGE: "判断题", FILL: "填空题"}
DIFFICULTIES = ("easy", "medium", "hard")
DIFFICULTY_ZH = {"easy": "容易", "medium": "中等", "hard": "较难"}
TRUE_ZH, FALSE_ZH = "正确", "错误"
BLANK = "____"  # where the answer goes in a fill question's stem and in a frame
LETTERS = "ABCDEF"

# Question families: what a question is built from.
CRITERION_CHOICE = "criterion_choice"  # which of these is a 重大事故隐患 for <industry/domain>
CRITERION_JUDGE = "criterion_judge"  # a criterion as written, or with one condition flipped / wrong threshold
NUMBER_CHOICE = "number_choice"  # the right threshold / date / penalty range among wrong ones
NUMBER_JUDGE = "number_judge"  # a provision with its number as written, or a wrong one
NUMBER_FILL = "number_fill"  # a blank over a number with its unit
TERM_FILL = "term_fill"  # a blank over a key term of a criterion
DUTY_FILL = "duty_fill"  # a blank over a duty holder


@dataclass(frozen=True)
class QuizRequest:
    documents: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    single: int = 0
    multiple: int = 0
    judge: int = 0
    fill: int = 0
    difficulty: str = "medium"
    seed: int = 0

    def counts(self) -> dict[str, int]:
        return {SINGLE: self.single, MULTIPLE: self.multiple, JUDGE: self.judge, FILL: self.fill}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("documents", "industries", "domains"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuizRequest:
        known = {f for f in cls.__dataclass_fields__}
        d = {k: v for k, v in d.items() if k in known}
        for key in ("documents", "industries", "domains"):
            d[key] = tuple(d.get(key) or ())
        return cls(**d)


@dataclass(frozen=True)
class QuizScope:
    """Whose clauses a wrong option must not be found in: the documents, narrowed to the criteria
    of one industry or special domain when the question is about one ("对于冶金企业…")."""

    documents: tuple[str, ...]
    industry: str = ""
    domain: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    family: str
    difficulty: str
    stem: str
    options: dict[str, str]  # letter → text; empty for judge and fill
    answer: str  # "A" / "ACD" / 正确 / 错误 / the fill text
    explanation: str
    citations: tuple[Citation, ...]
    # What the question asserts, for validation: `frame` is the clause excerpt an option, the
    # fill answer or the judged statement is read into (BLANK marks the gap; empty when each
    # option is a statement on its own); `support` maps each keyed option (or "answer") to the
    # clause it is quoted from.
    frame: str = ""
    support: dict[str, str] = field(default_factory=dict)
    scope: QuizScope = QuizScope(())

    @property
    def keyed(self) -> list[str]:
        """The keyed option letters (choice questions)."""
        return list(self.answer) if self.type in (SINGLE, MULTIPLE) else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "type_zh": TYPE_ZH.get(self.type, self.type), "family": self.family,
            "difficulty": self.difficulty, "stem": self.stem, "options": dict(self.options), "answer": self.answer,
            "explanation": self.explanation, "citations": [c.to_dict() for c in self.citations],
            "frame": self.frame, "support": dict(self.support),
            "scope": {"documents": list(self.scope.documents), "industry": self.scope.industry,
                      "domain": self.scope.domain},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Question:
        scope = d.get("scope") or {}
        known = set(Citation.__dataclass_fields__)
        return cls(
            id=str(d.get("id") or ""), type=str(d.get("type") or ""), family=str(d.get("family") or ""),
            difficulty=str(d.get("difficulty") or ""), stem=str(d.get("stem") or ""),
            options={str(k): str(v) for k, v in (d.get("options") or {}).items()},
            answer=str(d.get("answer") or ""), explanation=str(d.get("explanation") or ""),
            citations=tuple(Citation(**{k: v for k, v in c.items() if k in known}) for c in d.get("citations") or []),
            frame=str(d.get("frame") or ""), support={str(k): str(v) for k, v in (d.get("support") or {}).items()},
            scope=QuizScope(tuple(scope.get("documents") or ()), str(scope.get("industry") or ""),
                            str(scope.get("domain") or "")),
        )


@dataclass(frozen=True)
class Quiz:
    id: str
    seed: int
    request: QuizRequest
    questions: tuple[Question, ...]
    requested: dict[str, int]
    produced: dict[str, int]
    dropped: dict[str, int] = field(default_factory=dict)  # why candidates were rejected, by reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "seed": self.seed, "request": self.request.to_dict(),
            "requested": dict(self.requested), "produced": dict(self.produced), "dropped": dict(self.dropped),
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Quiz:
        return cls(
            id=str(d.get("id") or ""), seed=int(d.get("seed") or 0),
            request=QuizRequest.from_dict(d.get("request") or {}),
            questions=tuple(Question.from_dict(q) for q in d.get("questions") or []),
            requested={str(k): int(v) for k, v in (d.get("requested") or {}).items()},
            produced={str(k): int(v) for k, v in (d.get("produced") or {}).items()},
            dropped={str(k): int(v) for k, v in (d.get("dropped") or {}).items()},
        )
