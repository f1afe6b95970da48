"""The team's labelled sets pass their own checkers against the real clause store: valid shape,
every ID real, coverage per document, and no question copying the clause it is about."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def clause_listing(real_index, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("listing") / "clauses.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for c in real_index.store.clauses.values():
            f.write(json.dumps({"clause_id": c.clause_id, "text": c.text}, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("checker", ["check_retrieval_set.py", "check_classify_set.py"])
def test_labelled_set_passes_its_checker(checker, clause_listing):
    result = subprocess.run([sys.executable, str(REPO / "eval" / checker), str(clause_listing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "OK: all checks passed" in result.stdout
