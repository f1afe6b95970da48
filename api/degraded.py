"""Saying that an answer was given in a reduced way, without changing any response body.

- Every response whose request hit a fallback carries `X-Hazard-Degraded: dense-unavailable`
  (BM25-only retrieval because the Chroma server did not answer); the JSON contracts of search,
  classify and chat stay as they are.
- `/readyz` lists the current degradations (`dense-unavailable`, `database-unavailable`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.degradation import DATABASE_UNAVAILABLE, DENSE_UNAVAILABLE, collecting

HEADER = "X-Hazard-Degraded"


class DegradationHeader:
    """ASGI middleware: collect what fell back while handling a request, name it in a header."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with collecting() as notes:
            async def send_with_header(message: Message) -> None:
                # A streamed chat sends its headers before the turn runs: its `done` event says it instead.
                if message["type"] == "http.response.start" and notes:
                    headers = [*message.get("headers", []), (HEADER.lower().encode(), ",".join(sorted(notes)).encode())]
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_header)


def current_degradations(app_state, index) -> list[str]:
    """What is degraded right now (readiness): asks the Chroma server and the database."""
    from api.db_health import DatabaseUnavailable, database_reachable

    found = []
    check_dense = getattr(index.retriever.dense, "check", None)
    if check_dense is not None and not check_dense():
        found.append(DENSE_UNAVAILABLE)
    db = getattr(app_state, "chat_db", None)
    schema = getattr(app_state, "chat_db_schema", None)
    try:
        if schema is not None:
            schema.ensure()
        if db is None or not database_reachable(db.engine):
            found.append(DATABASE_UNAVAILABLE)
    except DatabaseUnavailable:
        found.append(DATABASE_UNAVAILABLE)
    return found
