"""Shared fixtures. Tests over the real corpus read ../shared/corpus (or HAZARD_CORPUS_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def real_corpus_dir() -> Path:
    return Path(os.environ.get("HAZARD_CORPUS_DIR") or REPO.parent / "shared" / "corpus").resolve()


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = real_corpus_dir()
    if not (path / "standards").is_dir():
        pytest.fail(f"real corpus not found at {path}; set HAZARD_CORPUS_DIR")
    return path
