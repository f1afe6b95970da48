"""What routes depend on: the index and classifier loaded at startup, handed out by `Depends`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.access import get_principal, require_role  # noqa: F401  (re-exported: routes import them from here)
from api.errors import IndexUnavailable
from api.principal import LOCAL_OWNER, ROLES, Principal  # noqa: F401
from assistant.classifier import Classifier
from assistant.dialogue import Dialogue
from ingest.index import Index

NOT_READY = "索引尚未建立，请先运行 hazard ingest"


@dataclass
class AppState:
    """Loaded once per process; `unavailable` says why there is no index when there is none."""

    index: Index | None = None
    classifier: Classifier | None = None
    dialogue: Dialogue | None = None
    unavailable: str = ""


def get_state(request: Request) -> AppState:
    return request.app.state.hazard


def get_index(state: Annotated[AppState, Depends(get_state)]) -> Index:
    if state.index is None:
        raise IndexUnavailable(state.unavailable or NOT_READY)
    return state.index


def get_classifier(state: Annotated[AppState, Depends(get_state)]) -> Classifier:
    if state.classifier is None:
        raise IndexUnavailable(state.unavailable or NOT_READY)
    return state.classifier


IndexDep = Annotated[Index, Depends(get_index)]
ClassifierDep = Annotated[Classifier, Depends(get_classifier)]


# -- who is calling (api/access.py: API keys, roles, rate limits) -----------------------------------
PrincipalDep = Annotated[Principal, Depends(get_principal)]
