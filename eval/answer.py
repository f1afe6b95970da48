"""Answer-key checking evaluation: accuracy of `hazard answer` by question type and split, null and
wrong-guess rates, flagging of outdated keys, and citation hits, over eval/data/answer.jsonl."""

from __future__ import annotations

import time
from pathlib import Path

from assistant.answering import TYPES, AnswerChecker, parse_question
from eval.datasets import load_jsonl
from eval.floor_check import floor_problems

SPLITS = ("dev", "test", "all")


def load_items(path: Path | None = None) -> list[dict]:
    return load_jsonl("answer", path)


def gold_answer(item: dict):
    """The current correct answer: `correct` for outdated keys, else the key (None = undecidable)."""
    value = item["correct"] if item.get("key_outdated") else item.get("answer")
    return sorted(value) if isinstance(value, list) else value


def _rate(rows: list[dict], test) -> float:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else 0.0


def _summary(rows: list[dict]) -> dict:
    out: dict = {"n": len(rows), "accuracy": _rate(rows, lambda r: r["correct"])}
    for kind in TYPES:
        sub = [r for r in rows if r["type"] == kind]
        out[f"accuracy_{kind}"] = _rate(sub, lambda r: r["correct"])
        out[f"n_{kind}"] = len(sub)
    decidable = [r for r in rows if r["gold"] is not None]
    out["null_rate"] = _rate(decidable, lambda r: r["answer"] is None)
    out["wrong_guess_rate"] = _rate(rows, lambda r: r["answer"] is not None and not r["correct"])
    undecidable = [r for r in rows if r["gold"] is None]
    out["undecidable_null"] = _rate(undecidable, lambda r: r["answer"] is None)
    flagged = [r for r in rows if r["agrees_with_key"] is False]
    outdated = [r for r in rows if r["key_outdated"]]
    out["flag_precision"] = _rate(flagged, lambda r: r["key_outdated"]) if flagged else 1.0
    out["flag_recall"] = _rate(outdated, lambda r: r["agrees_with_key"] is False)
    cited = [r for r in rows if r["gold_clauses"] and r["answer"] is not None]
    out["citation_hit"] = _rate(cited, lambda r: bool(set(r["gold_clauses"]) & set(r["citations"])))
    return out


def evaluate(checker: AnswerChecker, items: list[dict]) -> dict:
    """Answer every question (with its key, as a user would submit it) and score by split."""
    rows, latencies = [], []
    for item in items:
        started = time.perf_counter()
        result = checker.answer(parse_question(item))
        latencies.append((time.perf_counter() - started) * 1000)
        gold = gold_answer(item)
        rows.append({
            "id": item["id"], "type": item["type"], "split": item.get("split", "dev"),
            "gold": gold, "answer": result.answer, "correct": result.answer == gold,
            "key_outdated": bool(item.get("key_outdated")), "agrees_with_key": result.agrees_with_key,
            "confidence": result.confidence, "gold_clauses": item.get("gold") or [],
            "citations": [c.clause_id for c in result.citations], "note": result.note,
            "question": item["question"],
        })
    report: dict = {"questions": len(rows)}
    for split in SPLITS:
        sub = rows if split == "all" else [r for r in rows if r["split"] == split]
        report[split] = _summary(sub)
    ordered = sorted(latencies)
    report["latency_p50_ms"] = ordered[len(ordered) // 2] if ordered else 0.0
    report["latency_p95_ms"] = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
    report["errors"] = [r for r in rows if not r["correct"] or (r["key_outdated"] and r["agrees_with_key"] is not False)]
    return report


def format_report(report: dict) -> str:
    head = f"{'':22s}" + "".join(f"{s:>8s}" for s in SPLITS)
    lines = [f"答案核对评测 answer-key eval — {report['questions']} questions", head]
    keys = [("accuracy", "accuracy"), ("accuracy_single", "单选 single"), ("accuracy_multiple", "多选 multiple"),
            ("accuracy_judge", "判断 judge"), ("null_rate", "null rate"), ("wrong_guess_rate", "wrong-guess rate"),
            ("undecidable_null", "undecidable → null"), ("flag_precision", "key-flag precision"),
            ("flag_recall", "key-flag recall"), ("citation_hit", "citation hit")]
    for key, label in keys:
        lines.append(f"{label:22s}" + "".join(f"{report[s][key]:8.3f}" for s in SPLITS))
    lines.append(f"{'n':22s}" + "".join(f"{report[s]['n']:8d}" for s in SPLITS))
    lines.append(f"latency p50/p95  {report['latency_p50_ms']:.0f} / {report['latency_p95_ms']:.0f} ms")
    return "\n".join(lines)


# Upper bounds; every other floor is a lower bound. Floors apply to the whole set ("all").
UPPER_BOUNDS = ("wrong_guess_rate",)


def below_floors(report: dict, floors: dict) -> list[str]:
    return floor_problems(report["all"], floors.get("answer") or {}, UPPER_BOUNDS, label="answer")
