"""The connection balancer ends kept-alive connections of a busy worker, and only then."""

from __future__ import annotations

import asyncio

from api.balance import ConnectionBalancer


async def _ok(scope, receive, send, started=None, release=None):
    if started is not None:
        started.set()
        await release.wait()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _request(balancer, port: int):
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    return sent, balancer({"type": "http", "client": ("127.0.0.1", port)}, receive, send)


def _closes(sent: list[dict]) -> bool:
    return (b"connection", b"close") in sent[0]["headers"]


def test_an_idle_worker_keeps_its_connections():
    balancer = ConnectionBalancer(_ok, per_connection=3)

    async def run():
        for _ in range(10):
            sent, call = _request(balancer, 50000)
            await call
            assert not _closes(sent)

    asyncio.run(run())


def test_a_busy_worker_ends_a_connection_after_its_share_of_requests():
    started, release = asyncio.Event(), asyncio.Event()

    async def app(scope, receive, send):
        # Requests from port 1 hold the worker busy until released.
        if scope["client"][1] == 1:
            await _ok(scope, receive, send, started, release)
        else:
            await _ok(scope, receive, send)

    balancer = ConnectionBalancer(app, per_connection=3)

    async def run():
        _, blocker = _request(balancer, 1)
        blocking = asyncio.ensure_future(blocker)
        await started.wait()
        verdicts = []
        for _ in range(7):
            sent, call = _request(balancer, 50001)
            await call
            verdicts.append(_closes(sent))
        release.set()
        await blocking
        return verdicts

    # The 3rd request on the connection is closed; the client reconnects from the same port
    # here, which the balancer counts afresh.
    assert asyncio.run(run()) == [False, False, True, False, False, True, False]
    assert balancer.in_flight == 0


def test_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(ConnectionBalancer(app)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]
