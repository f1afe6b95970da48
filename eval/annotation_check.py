"""Check criterion annotations: every key is a real criterion, and every example behaves.

`python -m eval.annotation_check [FILE.yaml …]` — reads the current index (HAZARD_DATA_DIR).
Examples in an annotation:  examples: {met: [...], failed: [...], open: [...]}
  met    — situations that meet the criterion (major);
  failed — near misses a condition rules out (general);
  open   — situations missing a deciding fact (follow-up question expected).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from assistant.criteria import (
    build_registry,
    criterion_clauses,
    criterion_status,
    parse_alternative,
)
from assistant.matching import evaluate_alternative, prepare
from assistant.quantities import with_stated_comparisons


def check(store, annotations: dict, scopes: dict) -> list[str]:
    problems = []
    criteria = {c.clause_id for c in criterion_clauses(store)}
    for key in scopes:
        if key not in store.clauses:
            problems.append(f"scope key {key} is not a clause")
    for cid, data in annotations.items():
        if cid not in criteria:
            problems.append(f"{cid}: not a criterion clause (see criterion list)")
            continue
        try:
            alternatives = [parse_alternative(a) for a in data.get("alternatives") or []]
        except (ValueError, TypeError) as exc:
            problems.append(f"{cid}: {exc}")
            continue
        if not alternatives and not data.get("catch_all"):
            problems.append(f"{cid}: no alternatives")
        for alt in alternatives:
            for cond in alt.conditions:
                if not cond.terms and cond.kind != "number":
                    problems.append(f"{cid}: condition {cond.fact!r} has no terms")
                if cond.kind == "number" and (cond.value is None or cond.op not in (">", ">=", "<", "<=")):
                    problems.append(f"{cid}: number condition {cond.fact!r} needs op and value")
        for expected, situations in (data.get("examples") or {}).items():
            for situation in situations or []:
                text = with_stated_comparisons(prepare(situation))  # as the classifier sees it
                got = criterion_status([evaluate_alternative(a, text) for a in alternatives])
                if got != expected:
                    problems.append(f"{cid}: example expected {expected}, got {got}: {situation}")
    return problems


def main() -> None:
    from api.cli_common import open_current_index
    from ingest.annotations import load_annotations

    store = open_current_index(with_models=False).store
    if len(sys.argv) > 1:
        annotations, scopes = {}, {}
        for name in sys.argv[1:]:
            data = yaml.safe_load(Path(name).read_text(encoding="utf-8")) or {}
            annotations.update(data.get("criteria") or {})
            scopes.update(data.get("scopes") or {})
    else:
        annotations, scopes = load_annotations()
    problems = check(store, annotations, scopes)
    registry = build_registry(store, annotations, scopes)
    covered = sum(1 for c in registry.criteria.values() if c.annotated)
    print(f"criteria: {len(registry)}, annotated here: {covered}, problems: {len(problems)}")
    for p in problems:
        print("  " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
