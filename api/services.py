"""Wiring: open the index with the configured models and build the domain services from it.

The CLI and the HTTP app both come through here, so there is one way to turn settings into an
index and a classifier.
"""

from __future__ import annotations

from api.llm import make_adjudicator, make_completion
from api.settings import Settings, get_settings
from assistant.classifier import Classifier
from assistant.criteria import build_registry
from assistant.dialogue import Dialogue
from assistant.synthesis import Synthesizer
from ingest.annotations import load_annotations, load_industry_cues
from ingest.index import Index


def load_index(settings: Settings, with_models: bool = True, generation: str | None = None) -> Index:
    """The current generation (or the named one, for `hazard replay`: GenerationGoneError when pruned)
    with the configured embeddings and reranker (BM25 only without models). Raises NoIndexError,
    IndexMismatchError or EmbeddingBackendError."""
    from ingest.embeddings import CrossEncoderReranker, make_embeddings
    from ingest.generations import NoIndexError, current_name
    from ingest.index import open_index

    # Check before loading any model: failing for want of an index should be quick.
    if generation is None and current_name(settings.data_dir) is None:
        raise NoIndexError()
    if not with_models:
        return open_index(settings.data_dir, generation=generation)
    embeddings = make_embeddings(settings.embeddings, **settings.embedding_options())
    reranker = CrossEncoderReranker(settings.reranker_path) if settings.reranker_path else None
    return open_index(settings.data_dir, embeddings, reranker, generation=generation,
                      chroma_server=chroma_server(settings))


def chroma_server(settings: Settings):
    """The shared Chroma server (HAZARD_CHROMA_URL) as ingest and queries use it; None = embedded Chroma.
    Pass it to `ingest.pipeline.ingest(vector_store=…)` wherever an ingest runs."""
    from ingest.chroma_server import ChromaServer

    if not settings.chroma_url:
        return None
    return ChromaServer(settings.chroma_url, settings.chroma_timeout, settings.chroma_retry_interval)


def build_classifier(index: Index, settings: Settings | None = None) -> Classifier:
    annotations, scopes = load_annotations()
    registry = build_registry(index.store, annotations, scopes)
    return Classifier(index.store, registry, index.retriever, load_industry_cues(),
                      adjudicator=make_adjudicator(settings or get_settings()))


def make_synthesizer(settings: Settings) -> Synthesizer | None:
    """The optional LLM answer synthesis; None (deterministic answers only) without HAZARD_LLM_BASE_URL."""
    complete = make_completion(settings)
    return Synthesizer(complete) if complete is not None else None


def build_answer_checker(index: Index):
    """Answer-key checking (`hazard answer`, POST /v1/quizzes/check) over the index's retriever."""
    from assistant.answering import AnswerChecker

    return AnswerChecker(index.store, lambda query, k, filters: index.retriever.search(query, k=k, filters=filters))


def build_dialogue(index: Index, classifier: Classifier, settings: Settings | None = None) -> Dialogue:
    return Dialogue(index.store, index.retriever, classifier,
                    synthesizer=make_synthesizer(settings or get_settings()))


def consequence_rules():
    """The team's table of legal consequences (corpus/consequences.yaml)."""
    from assistant.consequences import ConsequenceRules
    from ingest.consequences import load_consequences

    return ConsequenceRules.from_data(load_consequences())


def industry_domains() -> dict:
    """Special domains each trade presupposes (corpus/industries.yaml `industry_domains`)."""
    return load_industry_cues().get("industry_domains") or {}
