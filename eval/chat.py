"""Conversation evaluation: multi-turn dialogues run through the real dialogue logic (the same path
as `hazard chat`: `Dialogue` + `api.db.take_turn`, history kept in a SQLite session database),
each dialogue in a fresh session.

Per user turn the set gives `gold` (clauses a correct reply must cite; any one counts) and `kind`
(answer | classification | refusal). Metrics:

- hit@3: a gold clause, or a clause inside one (an item of a gold article), among the reply's first
  3 citations (turns with gold only); hit@3_exact counts gold clauses only.
- citation precision: over all citations of turns with gold, the fraction that are *supported*:
  the clause is a gold clause, or lies in the same article as a gold clause (same
  `doc:article` prefix — a parent article or a sibling item of a gold item counts).
- unsupported-answer rate: replies of kind answer with no citation at all, or with a citation
  whose clause_id does not resolve to the store; over all replies of kind answer.
- fabricated citations: citations whose clause_id is not in the store or whose quote differs from
  the stored clause text (must be 0).
- refusal correctness: out-of-domain turns (gold kind refusal) answered with kind refusal.
- false-refusal rate: in-domain turns (gold kind answer/classification) answered with refusal.
- kind accuracy: reply kind == gold kind, over all turns.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from assistant.dialogue import ANSWER, REFUSAL
from eval.datasets import load_jsonl
from eval.floor_check import floor_problems

KINDS = ("answer", "classification", "refusal")
# Floors that are upper bounds (lower is better); everything else is a lower bound.
MAX_KEYS = ("unsupported_rate", "fabricated", "false_refusal_rate")


def load_dialogues(path: Path | None = None) -> list[dict]:
    return load_jsonl("chat", path)


def article_of(clause_id: str) -> str:
    """"work-safety-law:97:3" → "work-safety-law:97"; "special-equipment-major-hazard:4.2:c" → "…:4.2"."""
    return ":".join(clause_id.split(":")[:2])


def _within(clause_id: str, gold: list[str]) -> bool:
    """A citation hits when it is a gold clause or lies inside one (an item of a gold article)."""
    return any(clause_id == g or clause_id.startswith(g + ":") for g in gold)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def evaluate(dialogue_factory: Callable[[], object], dialogues: list[dict], db_url: str | None = None) -> dict:
    """Run every dialogue in a fresh session. `dialogue_factory()` returns the `Dialogue` to use
    (built once); `db_url` defaults to a temporary SQLite database removed afterwards."""
    from api.db import ChatDatabase, take_turn

    dialogue = dialogue_factory()
    store = dialogue.store
    with tempfile.TemporaryDirectory(prefix="chat-eval-") as tmp:
        db = ChatDatabase(db_url or f"sqlite:///{Path(tmp) / 'chat.sqlite3'}")
        db.create_all()
        try:
            rows, latencies = _run(db, dialogue, dialogues, take_turn, store)
        finally:
            db.dispose()
    return _report(rows, latencies, len(dialogues))


def _run(db, dialogue, dialogues, take_turn, store):
    rows, latencies = [], []
    for item in dialogues:
        session_id = None
        for position, turn in enumerate(item["turns"]):
            started = time.perf_counter()
            result = take_turn(db, dialogue, session_id, turn["user"])
            latencies.append((time.perf_counter() - started) * 1000)
            session_id = result.session_id
            reply = result.reply
            cited = [c.clause_id for c in reply.citations]
            unresolved = [cid for cid in cited if cid not in store.clauses]
            fabricated = [c.clause_id for c in reply.citations
                          if c.clause_id not in store.clauses or c.quote != store.clauses[c.clause_id].text]
            gold = list(turn.get("gold") or [])
            gold_articles = {article_of(g) for g in gold}
            supported = [cid for cid in cited if cid in gold or article_of(cid) in gold_articles]
            rows.append({
                "id": item["id"], "turn": position, "user": turn["user"], "searched_query": reply.searched_query,
                "gold_kind": turn["kind"], "kind": reply.kind, "gold": gold, "cited": cited,
                "hit@3": any(_within(cid, gold) for cid in cited[:3]) if gold else None,
                "hit@3_exact": bool(set(cited[:3]) & set(gold)) if gold else None,
                "supported": len(supported), "unresolved": unresolved, "fabricated": fabricated,
                "route": reply.route.reason,
            })
    return rows, latencies


def _report(rows: list[dict], latencies: list[float], n_dialogues: int) -> dict:
    with_gold = [r for r in rows if r["gold"]]
    cited_total = sum(len(r["cited"]) for r in with_gold)
    answers = [r for r in rows if r["kind"] == ANSWER]
    unsupported = [r for r in answers if not r["cited"] or r["unresolved"]]
    ood = [r for r in rows if r["gold_kind"] == REFUSAL]
    in_domain = [r for r in rows if r["gold_kind"] != REFUSAL]
    report: dict = {
        "dialogues": n_dialogues,
        "turns": len(rows),
        "turns_with_gold": len(with_gold),
        "hit@3": _ratio(sum(r["hit@3"] for r in with_gold), len(with_gold)),
        "hit@3_exact": _ratio(sum(r["hit@3_exact"] for r in with_gold), len(with_gold)),
        "precision": _ratio(sum(r["supported"] for r in with_gold), cited_total),
        "unsupported_rate": _ratio(len(unsupported), len(answers)),
        "fabricated": sum(len(r["fabricated"]) for r in rows),
        "refusal_correct": _ratio(sum(r["kind"] == REFUSAL for r in ood), len(ood)),
        "false_refusal_rate": _ratio(sum(r["kind"] == REFUSAL for r in in_domain), len(in_domain)),
        "kind_accuracy": _ratio(sum(r["kind"] == r["gold_kind"] for r in rows), len(rows)),
        "refusal_turns": len(ood),
        "answer_replies": len(answers),
    }
    first = [r for r in with_gold if r["turn"] == 0]
    later = [r for r in with_gold if r["turn"] > 0]
    report["hit@3_first_turn"] = _ratio(sum(r["hit@3"] for r in first), len(first))
    report["hit@3_follow_up"] = _ratio(sum(r["hit@3"] for r in later), len(later))
    per_kind = {}
    for kind in KINDS:
        group = [r for r in rows if r["gold_kind"] == kind]
        gold_group = [r for r in group if r["gold"]]
        per_kind[kind] = {"turns": len(group),
                          "kind_accuracy": _ratio(sum(r["kind"] == kind for r in group), len(group)),
                          "hit@3": _ratio(sum(r["hit@3"] for r in gold_group), len(gold_group)) if gold_group else None}
    report["per_kind"] = per_kind
    confusion = defaultdict(int)
    for r in rows:
        confusion[f"{r['gold_kind']}->{r['kind']}"] += 1
    report["confusion"] = dict(sorted(confusion.items()))
    report["latency_p50_ms"] = _percentile(latencies, 50)
    report["latency_p95_ms"] = _percentile(latencies, 95)
    report["errors"] = [r for r in rows if r["kind"] != r["gold_kind"] or r["hit@3"] is False or r["fabricated"]]
    return report


def format_report(report: dict) -> str:
    lines = [(f"对话评测 chat eval — {report['dialogues']} dialogues, {report['turns']} turns "
              f"({report['turns_with_gold']} with gold, {report['refusal_turns']} out-of-domain)"),
             (f"citation hit@3        {report['hit@3']:.3f} (first turn {report['hit@3_first_turn']:.3f}, "
              f"follow-ups {report['hit@3_follow_up']:.3f}; exact clause only {report['hit@3_exact']:.3f})"),
             f"citation precision    {report['precision']:.3f}",
             f"unsupported answers   {report['unsupported_rate']:.3f} (of {report['answer_replies']} answers)",
             f"fabricated citations  {report['fabricated']}",
             f"refusal correctness   {report['refusal_correct']:.3f}",
             f"false-refusal rate    {report['false_refusal_rate']:.3f}",
             f"kind accuracy         {report['kind_accuracy']:.3f}",
             f"latency p50/p95       {report['latency_p50_ms']:.1f} / {report['latency_p95_ms']:.1f} ms",
             "", f"{'kind':16s} {'n':>5s} {'acc':>6s} {'hit@3':>6s}"]
    for kind, m in report["per_kind"].items():
        hit = f"{m['hit@3']:6.3f}" if m["hit@3"] is not None else f"{'-':>6s}"
        lines.append(f"{kind:16s} {m['turns']:5d} {m['kind_accuracy']:6.3f} {hit}")
    lines.append("confusion: " + ", ".join(f"{k} {v}" for k, v in report["confusion"].items()))
    return "\n".join(lines)


def below_floors(report: dict, floors: dict) -> list[str]:
    return floor_problems(report, floors.get("chat") or {}, MAX_KEYS)
