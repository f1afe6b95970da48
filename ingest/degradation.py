"""What fell back during one unit of work (an HTTP request), so that the caller can say so.

A component that still answers, but in a reduced way (dense search unreachable → BM25 only),
calls `note`; the HTTP layer opens `collecting()` around each request and reports what was noted.
Outside `collecting()` a note is dropped: the CLI has no one to tell but its log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DENSE_UNAVAILABLE = "dense-unavailable"
DATABASE_UNAVAILABLE = "database-unavailable"

# A mutable set, not a value: FastAPI runs sync routes in worker threads on a copy of the
# context, and a copy still points at the same set.
_notes: ContextVar[set[str] | None] = ContextVar("hazard_degradations", default=None)


@contextmanager
def collecting() -> Iterator[set[str]]:
    """Collect the degradations noted until the block ends (the set fills as they happen)."""
    notes: set[str] = set()
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


def note(reason: str) -> None:
    notes = _notes.get()
    if notes is not None:
        notes.add(reason)


def noted() -> frozenset[str]:
    """What has been noted so far in the current unit of work."""
    return frozenset(_notes.get() or ())
