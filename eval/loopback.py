"""An app served on a free loopback port for a benchmark or a test, and always stopped after."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app, ready_path: str = "/readyz", timeout: float = 30.0) -> Iterator[str]:
    """uvicorn serving `app` on 127.0.0.1:<free port> in a daemon thread until `ready_path` answers
    200; yields the base URL and stops the server on the way out."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=5) as http:
            while True:
                if not thread.is_alive():
                    raise RuntimeError("uvicorn exited before it was ready")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{ready_path} did not answer 200 within {timeout:g} s")
                try:
                    if http.get(f"{url}{ready_path}").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("uvicorn did not shut down")
