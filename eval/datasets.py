"""The team's labelled sets (eval/data/*.jsonl, packaged with eval), one JSON object per line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path


def load_jsonl(name: str, path: Path | None = None) -> list[dict]:
    """The packaged set `eval/data/<name>.jsonl`, or the file at `path` instead."""
    if path is None:
        text = resources.files("eval").joinpath(f"data/{name}.jsonl").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
