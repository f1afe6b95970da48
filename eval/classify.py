"""Classification evaluation: labels, per-label P/R/F1, major recall, false-major rate, criterion
hit@1/hit@3, consistency across rewordings, latency."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from assistant.classifier import Classifier, Profile
from eval.datasets import load_jsonl
from eval.floor_check import floor_problems

LABELS = ("major", "general", "insufficient", "out_of_scope")


def load_situations(path: Path | None = None, set_name: str = "classify") -> list[dict]:
    """The team set (`classify`), the blind one (`classify_blind`, written from the standards'
    text alone, without the team set, the annotations or the classifier), or the file at `path`."""
    return load_jsonl(set_name, path)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def evaluate(classifier: Classifier, items: list[dict]) -> dict:
    rows, latencies = [], []
    for item in items:
        started = time.perf_counter()
        decision = classifier.classify(item["situation"], Profile(item.get("industry") or ""))
        latencies.append((time.perf_counter() - started) * 1000)
        matched = [m.criterion.clause_id for f in decision.findings for m in f.matched]
        # As the `criteria` list of the CLI contract: matched first, then the nearest ones.
        listed = list(dict.fromkeys(matched + [m.criterion.clause_id for f in decision.findings for m in f.nearest]))
        rows.append({"id": item["id"], "gold_label": item["label"], "label": decision.label,
                     "gold": item.get("gold") or [], "matched": matched, "listed": listed, "group": item.get("group"),
                     "situation": item["situation"]})
    n = len(rows) or 1
    report: dict = {"items": len(rows), "accuracy": sum(r["label"] == r["gold_label"] for r in rows) / n}
    per_label = {}
    for label in LABELS:
        tp = sum(1 for r in rows if r["label"] == label and r["gold_label"] == label)
        predicted = sum(1 for r in rows if r["label"] == label)
        actual = sum(1 for r in rows if r["gold_label"] == label)
        p = tp / predicted if predicted else 0.0
        rc = tp / actual if actual else 0.0
        per_label[label] = {"precision": p, "recall": rc, "f1": 2 * p * rc / (p + rc) if p + rc else 0.0,
                            "support": actual}
    report["per_label"] = per_label
    report["major_recall"] = per_label["major"]["recall"]
    general = [r for r in rows if r["gold_label"] == "general"]
    report["false_major_rate"] = sum(r["label"] == "major" for r in general) / (len(general) or 1)
    majors = [r for r in rows if r["gold_label"] == "major"]
    report["hit@1"] = sum(bool(r["matched"][:1]) and r["matched"][0] in r["gold"] for r in majors) / (len(majors) or 1)
    report["hit@3"] = sum(bool(set(r["matched"][:3]) & set(r["gold"])) for r in majors) / (len(majors) or 1)
    # Whether the right criterion is among the first three the answer shows, matched or nearest
    # (an insufficient answer that asks about the right clause counts here, not above).
    report["listed_hit@3"] = sum(bool(set(r["listed"][:3]) & set(r["gold"])) for r in majors) / (len(majors) or 1)
    groups = defaultdict(list)
    for r in rows:
        if r["group"]:
            groups[r["group"]].append(r)
    consistent = [g for g in groups.values() if len({r["label"] for r in g}) == 1]
    report["consistency"] = len(consistent) / (len(groups) or 1)
    report["groups"] = len(groups)
    report["latency_p50_ms"] = _percentile(latencies, 50)
    report["latency_p95_ms"] = _percentile(latencies, 95)
    confusion = defaultdict(int)
    for r in rows:
        confusion[f"{r['gold_label']}->{r['label']}"] += 1
    report["confusion"] = dict(sorted(confusion.items()))
    report["errors"] = [r for r in rows if r["label"] != r["gold_label"]
                        or (r["gold_label"] == "major" and not set(r["matched"][:3]) & set(r["gold"]))]
    return report


def format_report(report: dict) -> str:
    lines = [f"判定评测 classification eval — {report['items']} situations",
             f"label accuracy   {report['accuracy']:.3f}",
             f"major recall     {report['major_recall']:.3f}",
             f"false-major rate {report['false_major_rate']:.3f}",
             f"criterion hit@1  {report['hit@1']:.3f}",
             f"criterion hit@3  {report['hit@3']:.3f} (matched only; matched or nearest: {report['listed_hit@3']:.3f})",
             f"consistency      {report['consistency']:.3f} ({report['groups']} rewording groups)",
             f"latency p50/p95  {report['latency_p50_ms']:.1f} / {report['latency_p95_ms']:.1f} ms",
             "", f"{'label':14s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>5s}"]
    for label, m in report["per_label"].items():
        lines.append(f"{label:14s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}")
    lines.append("confusion: " + ", ".join(f"{k} {v}" for k, v in report["confusion"].items()))
    return "\n".join(lines)


FLOOR_KEYS = ("accuracy", "major_recall", "hit@1", "hit@3", "consistency")


def below_floors(report: dict, floors: dict, set_name: str = "classify") -> list[str]:
    return floor_problems(report, floors.get(set_name) or {}, ("false_major_rate",))
