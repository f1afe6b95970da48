"""The database as a service that can go away and come back: engine options with timeouts, a
schema set-up that is retried until it succeeds, and 503 problem+json while it is unreachable.

An outage never needs a restart: `pool_pre_ping` replaces connections that died with the server,
and the tables are created on the first request that finds the server up again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from api.errors import PROBLEM_JSON, ApiError
from api.schemas import Problem

log = logging.getLogger(__name__)

DATABASE_DOWN = "会话数据库暂时无法连接，请稍后重试"
RETRY_AFTER_SECONDS = 5
# Errors meaning "the server is not answering" (connection refused or lost, timeouts, pool
# exhausted) rather than a bad query.
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeoutError)
# Serializes schema changes of workers that start together on one PostgreSQL.
_SCHEMA_LOCK_KEY = 0x68617A61  # "haza"


class DatabaseUnavailable(ApiError):
    status_code = 503

    def __init__(self, detail: str = DATABASE_DOWN):
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def engine_options(url: URL, timeout: float | None) -> dict[str, Any]:
    """create_engine options: dead connections detected before use, and bounded waits."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if timeout and url.get_backend_name() == "postgresql":
        options["pool_timeout"] = timeout  # SQLite's in-memory pool takes no such option
        options["connect_args"] = {
            "connect_timeout": max(1, math.ceil(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)} -c lock_timeout={int(timeout * 1000)}",
        }
    return options


def tune_sqlite(engine: Engine) -> None:
    """A file database written by several request threads and workers: write-ahead log (readers
    never wait for a writer; one commit ≈ 0.3 ms instead of ≈ 15 ms), fsync at checkpoints only
    (a power cut may lose the last commits but never corrupts the file), and a 30 s busy timeout
    instead of an immediate "database is locked"."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while creating or migrating tables (no-op elsewhere)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})


class SchemaSetup:
    """Run `create` (create the tables) once it succeeds; until then each caller retries it, at
    most one at a time and once per `retry_interval`, and meanwhile gets DatabaseUnavailable."""

    def __init__(self, create: Callable[[], None], retry_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self._create = create
        self._retry_interval = retry_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next_try = 0.0
        self.done = False

    def ensure(self) -> None:
        if self.done:
            return
        if not self._lock.acquire(blocking=False):
            raise DatabaseUnavailable()  # another request is trying right now
        try:
            if self.done:
                return
            if self._clock() < self._next_try:
                raise DatabaseUnavailable()
            try:
                self._create()
            except UNREACHABLE as exc:
                self._next_try = self._clock() + self._retry_interval
                log.warning("database still unavailable: %s", exc)
                raise DatabaseUnavailable() from None
            self.done = True
            log.info("database available, tables ready")
        finally:
            self._lock.release()


def database_reachable(engine: Engine) -> bool:
    """One round trip (readiness)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except UNREACHABLE:
        return False
    return True


async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DatabaseUnavailable):
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    body = Problem(type="urn:hazard-assistant:problem:database-unavailable", title="服务暂不可用",
                   status=503, detail=DATABASE_DOWN)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503, media_type=PROBLEM_JSON,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_database_errors(app: FastAPI) -> None:
    """A database that stops answering mid-request is a 503 problem, not a 500."""
    for error in (*UNREACHABLE, DatabaseUnavailable):
        app.add_exception_handler(error, _unreachable)
