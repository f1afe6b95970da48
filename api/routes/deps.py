"""What routes depend on: the index and classifier loaded at startup, handed out by `Depends`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.errors import IndexUnavailable
from assistant.classifier import Classifier
from assistant.dialogue import Dialogue
from ingest.index import Index

NOT_READY = "索引尚未建立，请先运行 hazard ingest"


@dataclass
class AppState:
    """Loaded once per process; `unavailable` says why there is no index when there is none."""

    index: Index | None = None
    classifier: Classifier | None = None
    dialogue: "Dialogue | None" = None
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


# -- who is calling ---------------------------------------------------------------------------------
ROLES = ("inspector", "enterprise", "trainer", "admin")
LOCAL_OWNER = "local"  # single-user mode: loopback only, auth off


@dataclass(frozen=True)
class Principal:
    """The caller: the API key's owner name and role (single-user mode: "local", admin)."""

    owner: str
    role: str


def get_principal(request: Request) -> Principal:
    """Single-user mode for now; API keys (HAZARD_AUTH) replace this."""
    return Principal(LOCAL_OWNER, "admin")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: str):
    """A dependency that lets only these roles (and admin) through."""

    def check(principal: PrincipalDep) -> Principal:
        return principal

    return check
