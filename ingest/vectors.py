"""Dense vectors: a content-addressed embedding cache and the Chroma collection of a generation."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Iterable

import numpy as np

COLLECTION = "clauses"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """(model_key, sha256(text)) → vector, in SQLite, so unchanged text is never embedded twice."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, dim INTEGER, vec BLOB,"
            " PRIMARY KEY (model, key))"
        )

    def get_many(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(keys)
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({marks})", [model, *chunk]
            )
            for key, blob in rows:
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                [(model, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()


def _quiet_chroma() -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def chroma_settings():
    _quiet_chroma()
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_persistent(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chroma_settings())


def write_collection(path: Path, ids: list[str], vectors: np.ndarray, metadatas: list[dict],
                     batch: int = 1000) -> None:
    """Create the generation's Chroma collection (cosine space) from ready vectors."""
    fill_collection(open_persistent(path), COLLECTION, ids, vectors, metadatas, batch)


def fill_collection(client, name: str, ids: list[str], vectors: np.ndarray, metadatas: list[dict],
                    batch: int = 1000) -> None:
    """Create collection `name` on `client` (embedded or a Chroma server) and add the vectors."""
    # A few thousand clauses: a wide HNSW search makes the ranking effectively exact and stable.
    collection = client.get_or_create_collection(name, metadata={
        "hnsw:space": "cosine", "hnsw:construction_ef": 200, "hnsw:search_ef": 200, "hnsw:M": 32})
    for i in range(0, len(ids), batch):
        collection.add(ids=ids[i:i + batch], embeddings=vectors[i:i + batch].tolist(),
                       metadatas=metadatas[i:i + batch])


class ChromaDenseSearch:
    """Dense search over a generation's collection; used by the Retriever as `DenseSearch`."""

    def __init__(self, collection, embed_query):
        self._collection = collection
        self._embed_query = embed_query

    @classmethod
    def open(cls, path: Path, embed_query) -> "ChromaDenseSearch":
        client = open_persistent(path)
        return cls(client.get_collection(COLLECTION), embed_query)

    def __call__(self, query: str, k: int, allowed_slugs: list[str] | None) -> list[tuple[str, float]]:
        vector = self._embed_query(query)
        where = None
        if allowed_slugs is not None:
            where = {"doc_slug": {"$in": list(allowed_slugs)}} if len(allowed_slugs) > 1 else {"doc_slug": allowed_slugs[0]}
        result = self._collection.query(query_embeddings=[vector.tolist()], n_results=k, where=where,
                                        include=["distances"])
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances)]


class ExactDenseSearch:
    """Dense search over a generation's vectors held in memory: an exact cosine scan.

    The embedded collection is small (a few thousand clauses × 384 floats ≈ 4 MB), so one matrix
    product (< 1 ms) replaces an HNSW query with a metadata filter (≈ 7 ms), and the ranking is
    exact instead of approximate. Chroma stays the store the vectors are written to and read from.
    """

    def __init__(self, ids: list[str], slugs: list[str], vectors: np.ndarray, embed_query):
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._ids = ids
        self._slugs = np.asarray(slugs)
        self._matrix = (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        self._embed_query = embed_query

    @classmethod
    def open(cls, path: Path, embed_query) -> "ExactDenseSearch":
        collection = open_persistent(path).get_collection(COLLECTION)
        data = collection.get(include=["embeddings", "metadatas"])
        vectors = np.asarray(data["embeddings"], dtype=np.float32).reshape(len(data["ids"]), -1)
        return cls(list(data["ids"]), [m["doc_slug"] for m in data["metadatas"]], vectors, embed_query)

    def __call__(self, query: str, k: int, allowed_slugs: list[str] | None) -> list[tuple[str, float]]:
        if k <= 0 or not self._ids:
            return []
        vector = np.asarray(self._embed_query(query), dtype=np.float32)
        norm = float(np.linalg.norm(vector)) or 1.0
        scores = self._matrix @ (vector / norm)
        if allowed_slugs is not None:
            scores = np.where(np.isin(self._slugs, list(allowed_slugs)), scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((np.asarray(self._ids, dtype=object)[top].astype(str), -scores[top]))]
        return [(self._ids[i], float(scores[i])) for i in top]

