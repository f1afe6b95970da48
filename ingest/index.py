"""Open the current index generation for reading: clause store, BM25, dense search, retriever."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.lexical import BM25Index, Tokenizer
from assistant.retrieval import Retriever
from assistant.store import ClauseStore
from ingest import generations as gen
from ingest.annotations import load_industry_cues
from ingest.chroma_server import MARKER as CHROMA_SERVER_MARKER
from ingest.manifest import load_synonyms


class IndexMismatchError(RuntimeError):
    def __init__(self, built_with: str, configured: str):
        super().__init__(
            f"索引由向量模型 {built_with} 建立，当前配置为 {configured}，请重新运行 hazard ingest"
            f" / index built with {built_with}, configured {configured}: re-run `hazard ingest`"
        )


@dataclass
class Index:
    generation: str
    path: Path
    store: ClauseStore
    retriever: Retriever


class ChromaServerRequired(IndexMismatchError):
    def __init__(self) -> None:
        RuntimeError.__init__(self, "索引的向量存放在 Chroma 服务器上，请设置 HAZARD_CHROMA_URL"
                                    " / the index keeps its vectors on a Chroma server: set HAZARD_CHROMA_URL")


def open_index(data_dir: Path, embeddings=None, reranker=None, generation: str | None = None,
               chroma_server=None) -> Index:
    """The current generation, or the named one (`hazard replay`); `embeddings` None means BM25 only.
    `chroma_server` (an `ingest.chroma_server.ChromaServer`) reads vectors kept on a Chroma server."""
    path = gen.generation_path(data_dir, generation) if generation else gen.current_path(data_dir)
    built_with = gen.read_json(path / "sources.json")["fingerprint"]["embedding"]
    if embeddings is not None and built_with != embeddings.model_key:
        raise IndexMismatchError(built_with, embeddings.model_key)
    store = ClauseStore.from_dict(gen.read_json(path / "store.json"))
    tokens = gen.read_json(path / "tokens.json")
    terms = (path / "terms.txt").read_text(encoding="utf-8").split()
    bm25 = BM25Index.build(tokens["ids"], tokens["tokens"])
    dense = None
    if embeddings is not None and (path / "chroma").exists():
        from ingest.vectors import ExactDenseSearch

        dense = ExactDenseSearch.open(path / "chroma", embeddings.embed_query_vector)
    elif embeddings is not None and (path / CHROMA_SERVER_MARKER).exists():
        if chroma_server is None:
            raise ChromaServerRequired()
        dense = chroma_server.dense_search(path, embeddings.embed_query_vector)
    retriever = Retriever(store, bm25, Tokenizer(terms), dense=dense, reranker=reranker,
                          synonyms=load_synonyms(), industry_cues=load_industry_cues().get("industries") or {})
    return Index(path.name, path, store, retriever)
