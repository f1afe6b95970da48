"""Helpers shared by the checkers of the team's labelled sets (standard library only)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

OVERLAP_LEN = 8


def normalize(text: str) -> str:
    """NFKC-fold (full-width ASCII -> ASCII) and drop all whitespace."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace())


def doc_slug(clause_id: str) -> str:
    return clause_id.split(":", 1)[0]


def shared_run(text_a: str, text_b: str, n: int = OVERLAP_LEN) -> str | None:
    """The first n-character run of ``text_a`` found in ``text_b`` (copied wording), or None."""
    if len(text_a) < n or len(text_b) < n:
        return None
    grams = {text_b[i:i + n] for i in range(len(text_b) - n + 1)}
    for i in range(len(text_a) - n + 1):
        run = text_a[i:i + n]
        if run in grams:
            return run
    return None


def load_clauses(path: Path) -> dict[str, str]:
    """clause_id → text from a clause listing (one JSON object per line)."""
    clauses: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                clauses[rec["clause_id"]] = rec.get("text", "")
    return clauses


def read_records(path: Path, errors: list[str]) -> list[tuple[int, dict]]:
    """(line number, object) for every line of a JSONL set; problems go to ``errors``."""
    records: list[tuple[int, dict]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {lineno}: invalid JSON ({exc})")
                continue
            if not isinstance(rec, dict):
                errors.append(f"line {lineno}: not a JSON object")
                continue
            records.append((lineno, rec))
    return records


def report(errors: list[str]) -> int:
    """Print the verdict and return the exit status (0 when there is nothing wrong)."""
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    print("OK: all checks passed")
    return 0
