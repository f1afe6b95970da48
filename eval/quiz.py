"""Quiz-validity evaluation: generate seeded questions over the whole corpus (mixed types,
documents and difficulties), then validate the final output with a fresh checker, independently
of the checks the generator already ran, and count failures by reason, family and type."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from assistant.criteria import Registry
from assistant.quiz import generate_quiz
from assistant.quiz_check import QuizChecker
from assistant.quiz_model import DIFFICULTIES, TYPES, Question, QuizRequest
from assistant.store import ClauseStore

# Share of each type in the evaluated set.
MIX = {"single": 0.3, "multiple": 0.2, "judge": 0.25, "fill": 0.25}


def split_counts(count: int) -> list[dict[str, int]]:
    """`count` questions as per-difficulty type counts (easy, medium, hard), summing to `count`."""
    per_type = {t: int(count * MIX[t]) for t in TYPES}
    per_type["single"] += count - sum(per_type.values())
    out = [dict.fromkeys(TYPES, 0) for _ in DIFFICULTIES]
    for t, n in per_type.items():
        for i in range(len(DIFFICULTIES)):
            out[i][t] = n // len(DIFFICULTIES) + (1 if i < n % len(DIFFICULTIES) else 0)
    return out


def generate_questions(store: ClauseStore, registry: Registry, count: int, seed: int) -> tuple[list[Question], dict]:
    questions: list[Question] = []
    requested: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for i, (difficulty, counts) in enumerate(zip(DIFFICULTIES, split_counts(count))):
        request = QuizRequest(difficulty=difficulty, seed=seed + i, **counts)
        quiz = generate_quiz(store, registry, request, max_total=count)
        # Round-trip through JSON, as a quiz handed back for export would be.
        questions += [Question.from_dict(q.to_dict()) for q in quiz.questions]
        requested.update(counts)
        dropped.update(quiz.dropped)
    return questions, {"requested": dict(requested), "dropped_during_generation": dict(sorted(dropped.items()))}


def evaluate(store: ClauseStore, registry: Registry, count: int = 500, seed: int = 1) -> dict:
    started = time.perf_counter()
    questions, info = generate_questions(store, registry, count, seed)
    generated = time.perf_counter()
    checker = QuizChecker(store, registry)
    failures = []
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    for q in questions:
        problems = checker.check(q)
        by_family[q.family]["questions"] += 1
        by_type[q.type]["questions"] += 1
        documents[q.citations[0].clause_id.split(":")[0] if q.citations else "?"] += 1
        if problems:
            by_family[q.family]["failed"] += 1
            by_type[q.type]["failed"] += 1
            reasons.update(p.code for p in problems)
            failures.append({"id": q.id, "type": q.type, "family": q.family, "stem": q.stem,
                             "problems": [{"code": p.code, "message": p.message} for p in problems]})
    return {
        "count": count, "seed": seed, "produced": len(questions), "requested": info["requested"],
        "failures": len(failures), "failure_reasons": dict(sorted(reasons.items())),
        "per_type": {t: dict(by_type[t]) for t in TYPES},
        "per_family": {f: dict(c) for f, c in sorted(by_family.items())},
        "documents": dict(sorted(documents.items())),
        "dropped_during_generation": info["dropped_during_generation"],
        "seconds_generate": round(generated - started, 2),
        "seconds_validate": round(time.perf_counter() - generated, 2),
        "failed_questions": failures,
    }


def format_report(report: dict) -> str:
    lines = [f"出题有效性评测 quiz validity — {report['produced']} / {report['count']} questions (seed {report['seed']})",
             f"failed validation  {report['failures']}",
             f"time               generate {report['seconds_generate']} s, validate {report['seconds_validate']} s",
             "", f"{'type':10s} {'questions':>9s} {'failed':>6s}"]
    for t, c in report["per_type"].items():
        lines.append(f"{t:10s} {c.get('questions', 0):9d} {c.get('failed', 0):6d}")
    lines += ["", f"{'family':18s} {'questions':>9s} {'failed':>6s}"]
    for f, c in report["per_family"].items():
        lines.append(f"{f:18s} {c.get('questions', 0):9d} {c.get('failed', 0):6d}")
    if report["failure_reasons"]:
        lines.append("failure reasons: " + ", ".join(f"{k} {v}" for k, v in report["failure_reasons"].items()))
    lines.append("documents: " + ", ".join(f"{k} {v}" for k, v in report["documents"].items()))
    lines.append("rejected while generating: "
                 + (", ".join(f"{k} {v}" for k, v in report["dropped_during_generation"].items()) or "none"))
    return "\n".join(lines)


def below_floors(report: dict, floors: dict) -> list[str]:
    problems = []
    quiz = floors.get("quiz") or {}
    if "failures" in quiz and report["failures"] > quiz["failures"]:
        problems.append(f"failures = {report['failures']} > {quiz['failures']}")
    if "produced_ratio" in quiz and report["produced"] / max(1, report["count"]) < quiz["produced_ratio"]:
        problems.append(f"produced = {report['produced']} / {report['count']} < {quiz['produced_ratio']}")
    return problems
