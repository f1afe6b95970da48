"""The team's criterion annotations (corpus/criteria/*.yaml) and industry cues (corpus/industries.yaml)."""

from __future__ import annotations

import copy
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when it is installed (3x faster on the large criteria files), else pure Python.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Parsed criteria files by (path, mtime, size): a server re-reads them for every index switch.
_parsed: dict[tuple[str, int, int], Any] = {}
_parsed_lock = threading.Lock()


def _parse_criteria_file(path) -> Any:
    try:
        stat = Path(str(path)).stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:  # not a plain file (zipped package): parse every time
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    with _parsed_lock:
        if key not in _parsed:
            _parsed[key] = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        # Callers may adjust what they get; the cached copy stays as parsed.
        return copy.deepcopy(_parsed[key])


def _criteria_files(directory: Path | None):
    if directory is not None:
        return sorted(directory.glob("*.yaml"))
    root = resources.files("corpus").joinpath("criteria")
    return sorted((p for p in root.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def load_annotations(directory: Path | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(annotations by clause ID, scopes by clause-ID prefix) from every criteria file."""
    annotations: dict[str, dict[str, Any]] = {}
    scopes: dict[str, dict[str, Any]] = {}
    for path in _criteria_files(directory):
        data = _parse_criteria_file(path) or {}
        for key, value in (data.get("scopes") or {}).items():
            scopes[str(key)] = value or {}
        for key, value in (data.get("criteria") or {}).items():
            if str(key) in annotations:
                raise ValueError(f"{path.name}: {key} annotated twice")
            annotations[str(key)] = value or {}
    return annotations, scopes


def load_industry_cues(path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    if path is None:
        text = resources.files("corpus").joinpath("industries.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}
