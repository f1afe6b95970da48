"""The team's legal-consequence table (corpus/consequences.yaml), read into plain dicts for
`assistant.consequences.ConsequenceRules.from_data`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def load_consequences(path: Path | None = None) -> dict[str, Any]:
    if path is None:
        text = resources.files("corpus").joinpath("consequences.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}
