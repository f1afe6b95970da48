"""Spread kept-alive connections over the worker processes.

Several uvicorn workers share one listening socket, and a kept-alive connection stays with the
worker that accepted it. Eight clients can thus sit six on one worker and two on the other for as
long as they keep their connections, and the busy worker's queue sets the tail latency. So, like a
reverse proxy's cap on requests per upstream connection, a worker that is busy (other requests in
flight) ends a connection after it has served `per_connection` requests: the client's next
request opens a new connection, which the kernel hands to whichever worker accepts first — the
less busy one, more often than not. An idle worker keeps its connections.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConnectionBalancer:
    MAX_TRACKED = 10_000  # connections a client dropped are forgotten wholesale past this many

    def __init__(self, app: ASGIApp, per_connection: int = 25, busy_at: int = 2):
        self.app = app
        self.per_connection = per_connection
        self.busy_at = busy_at  # requests in flight in this process, this one included
        self.in_flight = 0
        self.served: dict[tuple, int] = {}  # requests served per client address (host, port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("client"):
            await self.app(scope, receive, send)
            return
        client = tuple(scope["client"])
        if len(self.served) >= self.MAX_TRACKED:
            self.served.clear()
        self.served[client] = self.served.get(client, 0) + 1
        self.in_flight += 1

        async def send_closing_when_due(message: Message) -> None:
            if message["type"] == "http.response.start" and self.in_flight >= self.busy_at \
                    and self.served.get(client, 0) >= self.per_connection:
                self.served.pop(client, None)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": headers + [(b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, receive, send_closing_when_due)
        finally:
            self.in_flight -= 1
