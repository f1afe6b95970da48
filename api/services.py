"""Wiring: build the domain services (classifier …) from an opened index and the team's files."""

from __future__ import annotations

from api.llm import make_adjudicator
from api.settings import get_settings
from assistant.classifier import Classifier
from assistant.criteria import build_registry
from ingest.annotations import load_annotations, load_industry_cues
from ingest.index import Index


def build_classifier(index: Index) -> Classifier:
    annotations, scopes = load_annotations()
    registry = build_registry(index.store, annotations, scopes)
    return Classifier(index.store, registry, index.retriever, load_industry_cues(),
                      adjudicator=make_adjudicator(get_settings()))
