"""Compare measured metrics with the floors recorded in eval/floors.json."""

from __future__ import annotations


def floor_problems(metrics: dict, floors: dict, upper_bounds=(), label: str = "") -> list[str]:
    """One line per metric on the wrong side of its floor; keys in `upper_bounds` are ceilings
    (lower is better), keys starting with "_" are comments, metrics not measured are skipped."""
    prefix = f"{label} " if label else ""
    problems = []
    for key, floor in floors.items():
        got = metrics.get(key)
        if got is None or key.startswith("_"):
            continue
        if key in upper_bounds:
            if got > floor:
                problems.append(f"{prefix}{key} = {got:.3f} > {floor}")
        elif got < floor:
            problems.append(f"{prefix}{key} = {got:.3f} < {floor}")
    return problems
