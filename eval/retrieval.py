"""Retrieval evaluation by clause ID: recall@1/5/10 and MRR, overall and per document."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path

from assistant.retrieval import Retriever
from eval.datasets import load_jsonl

MODES = {"hybrid": (True, True), "bm25": (False, True), "dense": (True, False)}
CUTOFFS = (1, 5, 10)


def load_questions(path: Path | None = None) -> list[dict]:
    return load_jsonl("retrieval", path)


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in CUTOFFS}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    out["n"] = len(ranks)
    return out


def evaluate(retriever: Retriever, questions: list[dict], modes: list[str]) -> dict:
    """Rank of the first gold clause in the top 10 for each question and mode."""
    report: dict = {"questions": len(questions), "modes": {}}
    for mode in modes:
        if mode == "dense" and retriever.dense is None:
            continue
        use_dense, use_bm25 = MODES[mode]
        ranks: list[int | None] = []
        per_doc: dict[str, list[int | None]] = defaultdict(list)
        misses = []
        started = time.perf_counter()
        for q in questions:
            hits = retriever.search(q["question"], k=10, use_dense=use_dense, use_bm25=use_bm25)
            ids = [h.clause.clause_id for h in hits]
            gold = set(q["gold"])
            rank = next((i + 1 for i, cid in enumerate(ids) if cid in gold), None)
            ranks.append(rank)
            per_doc[q.get("document") or q["gold"][0].split(":")[0]].append(rank)
            if rank is None or rank > 5:
                misses.append({"id": q["id"], "question": q["question"], "gold": q["gold"], "got": ids[:5]})
        report["modes"][mode] = {
            "overall": _metrics(ranks),
            "per_document": {doc: _metrics(r) for doc, r in sorted(per_doc.items())},
            "mean_ms": (time.perf_counter() - started) * 1000 / max(1, len(questions)),
            "misses": misses,
        }
    return report


def format_report(report: dict) -> str:
    lines = [f"检索评测 retrieval eval — {report['questions']} questions"]
    header = f"{'mode':8s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR':>6s} {'ms/q':>7s}"
    lines.append(header)
    for mode, data in report["modes"].items():
        m = data["overall"]
        lines.append(f"{mode:8s} {m['recall@1']:6.3f} {m['recall@5']:6.3f} {m['recall@10']:6.3f} "
                     f"{m['mrr']:6.3f} {data['mean_ms']:7.1f}")
    main = report["modes"].get("hybrid") or next(iter(report["modes"].values()), None)
    if main:
        lines.append("")
        lines.append(f"{'document':45s} {'n':>4s} {'R@5':>6s} {'MRR':>6s}")
        for doc, m in main["per_document"].items():
            lines.append(f"{doc:45s} {m['n']:4d} {m['recall@5']:6.3f} {m['mrr']:6.3f}")
    return "\n".join(lines)


def load_floors() -> dict:
    text = resources.files("eval").joinpath("floors.json").read_text(encoding="utf-8")
    return json.loads(text)


def below_floors(report: dict, floors: dict | None = None) -> list[str]:
    """Metrics of the report that fall below the floors recorded in eval/floors.json."""
    floors = (floors or load_floors()).get("retrieval", {})
    problems = []
    for mode, metrics in floors.items():
        got = report["modes"].get(mode, {}).get("overall")
        if got is None:
            problems.append(f"{mode}: not evaluated")
            continue
        for name, floor in metrics.items():
            if got.get(name, 0.0) < floor:
                problems.append(f"{mode} {name} = {got.get(name, 0.0):.3f} < {floor}")
    return problems
