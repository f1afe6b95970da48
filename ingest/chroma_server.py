"""Chroma in client/server mode: one collection per index generation on a shared Chroma server.

Several API workers read one server. `hazard ingest` writes the new generation's collection
there before the generation is published (so the atomic CURRENT switch still decides what readers
use) and drops the collections of generations it prunes. Every call carries a timeout. A server
that is down or hangs never fails a query: dense search returns nothing (BM25 answers alone),
notes the degradation, and tries the server again after `retry_interval` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ingest import generations as gen
from ingest.degradation import DENSE_UNAVAILABLE, note
from ingest.vectors import ChromaDenseSearch, chroma_settings, fill_collection

log = logging.getLogger(__name__)

# Written into a generation whose vectors live on a Chroma server: which collection holds them.
MARKER = "chroma-server.json"
COLLECTION_PREFIX = "hazard-"


class ChromaServerError(RuntimeError):
    """The Chroma server could not be reached or refused a write (ingest fails; queries degrade)."""

    def __init__(self, url: str, reason: object):
        super().__init__(f"Chroma 服务器 {url} 不可用或出错：{reason} / Chroma server unavailable")


def collection_name(generation: str) -> str:
    return COLLECTION_PREFIX + generation


@dataclass(frozen=True)
class ChromaServer:
    """Where the server is and how long to wait for it."""

    url: str
    timeout: float = 5.0
    retry_interval: float = 2.0

    def client(self):
        """A chromadb HttpClient whose every call is bounded by `timeout`."""
        import chromadb
        import httpx

        parts = urlsplit(self.url if "://" in self.url else f"http://{self.url}")
        ssl = parts.scheme == "https"
        # The client talks to the server while it is built, with no timeout of its own: a quick
        # probe first keeps a hung server from hanging the caller there.
        httpx.get(f"{parts.scheme}://{parts.netloc}/api/v2/heartbeat", timeout=self.timeout).raise_for_status()
        client = chromadb.HttpClient(host=parts.hostname or "localhost", port=parts.port or (443 if ssl else 8000),
                                     ssl=ssl, settings=chroma_settings())
        # chromadb builds its httpx session with timeout=None and offers no setting for it.
        session = getattr(getattr(client, "_server", None), "_session", None)
        if not isinstance(session, httpx.Client):
            raise TypeError("chromadb HttpClient has no httpx session to put a timeout on")
        session.timeout = httpx.Timeout(self.timeout)
        return client

    @contextmanager
    def connected(self) -> Iterator:
        """A client for a few calls, closed afterwards (chromadb keeps every open client's system)."""
        client = self.client()
        try:
            yield client
        finally:
            client.close()

    # -- ingest ------------------------------------------------------------------------------
    def write(self, generation: Path, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        """Put the generation's vectors on the server and record the collection in the generation."""
        name = collection_name(generation.name)
        try:
            with self.connected() as client:
                fill_collection(client, name, ids, vectors, metadatas)
        except Exception as exc:
            raise ChromaServerError(self.url, exc) from exc
        gen.write_json(generation / MARKER, {"collection": name, "count": len(ids)})

    def holds(self, generation: Path) -> bool:
        """Whether the server has the generation's full collection (a replaced server may not)."""
        try:
            recorded = gen.read_json(generation / MARKER)
        except FileNotFoundError:
            return False
        try:
            with self.connected() as client:
                return client.get_collection(recorded["collection"]).count() == recorded["count"]
        except Exception as exc:  # noqa: BLE001
            log.info("collection %s not usable on %s: %s", recorded["collection"], self.url, exc)
            return False

    def drop(self, generations: Iterable[str]) -> None:
        """Delete the collections of removed generations; a failure only leaves garbage behind."""
        names = [collection_name(g) for g in generations]
        if not names:
            return
        try:
            with self.connected() as client:
                for name in names:
                    try:
                        client.delete_collection(name)
                    except Exception as exc:  # noqa: BLE001 — an unfinished generation may have none
                        log.debug("no collection %s to drop: %s", name, exc)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not drop %s on %s: %s", names, self.url, exc)

    # -- queries -----------------------------------------------------------------------------
    def dense_search(self, generation: Path, embed_query: Callable[[str], np.ndarray]) -> RemoteDenseSearch:
        return RemoteDenseSearch(self, gen.read_json(generation / MARKER)["collection"], embed_query)


class RemoteDenseSearch:
    """Dense search over a collection on the server, used by the Retriever as `DenseSearch`.

    While the server is unreachable a call returns no hits at once and notes DENSE_UNAVAILABLE;
    one call per `retry_interval` tries the server again, so a hung server costs one timeout per
    interval, not one per request.
    """

    def __init__(self, server: ChromaServer, collection: str, embed_query: Callable[[str], np.ndarray],
                 clock: Callable[[], float] = time.monotonic):
        self.server = server
        self.collection = collection
        self._embed_query = embed_query
        self._clock = clock
        self._lock = threading.Lock()
        self._client = None
        self._search: ChromaDenseSearch | None = None
        self._retry_at = 0.0
        self.problem = "尚未连接"  # why dense search is off; empty while it works

    @property
    def available(self) -> bool:
        return not self.problem

    def __call__(self, query: str, k: int, allowed_slugs: list[str] | None) -> list[tuple[str, float]]:
        search = self._usable()
        if search is None:
            note(DENSE_UNAVAILABLE)
            return []
        try:
            hits = search(query, k, allowed_slugs)
        except Exception as exc:  # noqa: BLE001 — connection refused, timeout, server error
            self._failed(exc)
            note(DENSE_UNAVAILABLE)
            return []
        self._recovered()
        return hits

    def check(self) -> bool:
        """Ask the server (readiness): True when dense search works. Respects the retry interval."""
        if self._usable() is None:
            return False
        try:
            self._client.heartbeat()
            self._client.get_collection(self.collection)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return False
        self._recovered()
        return True

    def _usable(self) -> ChromaDenseSearch | None:
        """The search to run now, or None while the server is considered down."""
        with self._lock:
            if self._search is not None and not self.problem:
                return self._search
            now = self._clock()
            if now < self._retry_at:
                return None
            self._retry_at = now + self.server.retry_interval  # the others wait while this one tries
            if self._search is not None:
                return self._search
        try:
            client = self.server.client()
            search = ChromaDenseSearch(client.get_collection(self.collection), self._embed_query)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None
        with self._lock:
            self._client, self._search = client, search
        return search

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            if not self.problem or self.problem == "尚未连接":
                log.warning("Chroma server %s unavailable, answering BM25-only: %s", self.server.url, exc)
            self.problem = f"{type(exc).__name__}: {exc}"[:300]
            self._retry_at = max(self._retry_at, self._clock() + self.server.retry_interval)

    def _recovered(self) -> None:
        if self.problem:
            with self._lock:
                if self.problem and self.problem != "尚未连接":
                    log.warning("Chroma server %s is back: dense search on again", self.server.url)
                self.problem = ""
