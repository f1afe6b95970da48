"""The in-memory exact dense search returns what the Chroma collection it was read from returns."""

from __future__ import annotations

import numpy as np

from ingest.vectors import COLLECTION, ChromaDenseSearch, ExactDenseSearch, open_persistent, write_collection


def _collection(tmp_path, n: int = 60, dim: int = 16):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    ids = [f"doc{i % 3}:{i}" for i in range(n)]
    metadatas = [{"doc_slug": f"doc{i % 3}"} for i in range(n)]
    write_collection(tmp_path / "chroma", ids, vectors, metadatas)
    queries = {f"q{j}": rng.normal(size=dim).astype(np.float32) for j in range(5)}
    return tmp_path / "chroma", queries


def test_exact_search_agrees_with_chroma(tmp_path):
    path, queries = _collection(tmp_path)
    exact = ExactDenseSearch.open(path, queries.__getitem__)
    chroma = ChromaDenseSearch(open_persistent(path).get_collection(COLLECTION), queries.__getitem__)
    for q in queries:
        got, want = exact(q, 5, None), chroma(q, 5, None)
        assert [cid for cid, _ in got] == [cid for cid, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-4)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_document_filter(tmp_path):
    path, queries = _collection(tmp_path)
    exact = ExactDenseSearch.open(path, queries.__getitem__)
    hits = exact("q0", 10, ["doc1"])
    assert len(hits) == 10 and all(cid.startswith("doc1:") for cid, _ in hits)
    assert exact("q0", 10, []) == []
    assert len(exact("q0", 100, ["doc2"])) == 20  # never more than the document has
