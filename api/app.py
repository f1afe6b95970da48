"""The HTTP API (FastAPI, under /v1): the index and classifier load once at startup."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.balance import ConnectionBalancer
from api.access import API_DEPENDENCIES, install_access
from api.db_health import install_database_errors
from api.degraded import DegradationHeader
from api.errors import PayloadTooLarge, install_error_handling, problem_response
from api.routes import chat, classify, clauses, documents, health, search, sessions, ui
from api.routes import ledgers
from api.routes import paperwork, selfchecks
from api.routes import quizzes
from api.routes import quiz_check
from api.routes import audit
from api.routes import admin
from api.routes.deps import AppState
from api.services import load_index
from api.settings import Settings, get_settings
from ingest.index import Index

log = logging.getLogger(__name__)

IndexLoader = Callable[[Settings], Index]

# Routers mounted under /v1, one line each.
API_ROUTERS = (
    documents,
    clauses,
    search,
    classify,
    chat,
    sessions,
    ledgers,
    selfchecks,
    paperwork,
    quizzes,
    quiz_check,
    audit,
    admin,
)

# The classifier takes at most 20000 characters (≤ 60 KB in UTF-8); the body cap sits just above.
MAX_BODY_BYTES = 64 * 1024
# File uploads (ledgers, corpus documents) get HAZARD_MAX_UPLOAD_BYTES instead.
UPLOAD_PATHS = ("/v1/ledgers", "/v1/admin/documents", "/v1/quizzes/export", "/v1/quizzes/check")  # quizzes handed back


def open_state(settings: Settings, index_loader: IndexLoader) -> AppState:
    """Index and classifier, or the reason there are none: the app still starts without them."""
    from api.services import build_classifier, build_dialogue
    from ingest.embeddings import EmbeddingBackendError
    from ingest.generations import NoIndexError
    from ingest.index import IndexMismatchError

    try:
        index = index_loader(settings)
    except (NoIndexError, IndexMismatchError, EmbeddingBackendError) as exc:
        log.warning("index unavailable: %s", exc)
        return AppState(unavailable=str(exc))
    classifier = build_classifier(index, settings)
    return AppState(index=index, classifier=classifier, dialogue=build_dialogue(index, classifier, settings))


def open_chat_db(app: FastAPI, settings: Settings) -> None:
    """The conversation database, tables created; the app still starts when it cannot be opened.
    A server that is down is retried by the requests that need it (api/db_health.py); a bad URL,
    a missing driver or a refused schema keeps it off."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import ChatDatabase
    from api.db_health import DatabaseUnavailable, SchemaSetup

    try:
        db = ChatDatabase(settings.resolved_database_url(), timeout=settings.database_timeout)
        schema = SchemaSetup(db.create_all)
        try:
            schema.ensure()
        except DatabaseUnavailable:
            log.warning("conversation database unreachable at startup; retrying on demand")
    except (SQLAlchemyError, OSError, ImportError) as exc:  # ImportError: the URL's driver is not installed
        log.warning("conversation database unavailable: %s", exc)
        app.state.chat_db, app.state.chat_db_error = None, "会话数据库不可用，请检查 HAZARD_DATABASE_URL"
        return
    app.state.chat_db, app.state.chat_db_schema = db, schema


def create_app(settings: Settings | None = None, index_loader: IndexLoader | None = None) -> FastAPI:
    settings = settings or get_settings()
    loader = index_loader or load_index

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.hazard = open_state(settings, loader)
        open_chat_db(app, settings)
        # Switch to a new index generation without restart; background rebuilds (admin routes).
        from api.live_index import start_live_index
        live = start_live_index(app, settings, lambda: open_state(settings, loader))
        yield
        live.stop()
        if app.state.chat_db is not None:
            app.state.chat_db.dispose()

    # No /docs or /redoc: they load Swagger/ReDoc from a CDN, and the service must work offline.
    app = FastAPI(title="隐患判定助手 hazard-assistant API", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.hazard = AppState(unavailable="服务正在启动")
    app.state.chat_db = None
    app.state.settings = settings  # routes that store files (ledgers) need the data dir
    install_error_handling(app)
    install_database_errors(app)  # database unreachable → 503 problem+json (api/db_health.py)
    app.add_middleware(DegradationHeader)  # X-Hazard-Degraded when Chroma was unreachable (api/degraded.py)
    install_access(app, settings)  # API keys, roles and rate limits on everything under /v1
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES,
                       upload_bytes=settings.max_upload_bytes, upload_paths=UPLOAD_PATHS)
    if settings.workers > 1:
        app.add_middleware(ConnectionBalancer)  # kept-alive clients spread over the workers (api/balance.py)
    app.include_router(health.router)
    for module in API_ROUTERS:
        app.include_router(module.router, prefix="/v1", dependencies=API_DEPENDENCIES)
    # The web UI: the page at /, its script and style under /static (api/static/).
    app.include_router(ui.router)
    app.mount("/static", ui.static_files(), name="static")
    return app


class BodySizeLimit:
    """Stop reading a request body past `max_bytes`, whether its length is declared or streamed.

    The error is raised where a route reads the body, so it reaches the exception handlers and
    leaves as problem+json like every other error (Starlette's own limiter answers in plain text).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int = 0, upload_paths: tuple[str, ...] = ()):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("path", "").startswith(self.upload_paths) if self.upload_paths else False
        cap = self.upload_bytes if upload else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length", b"")
        declared = int(length) if length.isdigit() else 0
        received = 0
        too_large = f"请求体过大，上限为 {cap // 1024} KiB"
        if declared > cap:  # refused up front, so a route that never reads its body is capped too
            await problem_response(413, too_large)(scope, receive, send)
            return

        async def limited() -> Message:
            nonlocal received
            if declared > cap:
                raise PayloadTooLarge(too_large)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise PayloadTooLarge(too_large)
            return message

        await self.app(scope, limited, send)
