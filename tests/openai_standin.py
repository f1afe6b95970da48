"""A local stand-in for an OpenAI-compatible server, for tests of the optional LLM paths.

It listens on loopback only, serves scripted replies in order (status, content, delay), records
the requests it got, and is shut down when the test module ends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from eval.loopback import free_port


class StandIn:
    def __init__(self):
        self.replies: list[tuple[int, str, float]] = []  # (status, content, delay) served in order
        self.requests: list[dict] = []
        self.port = 0
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)

    def reply(self, content: str = "", status: int = 200, delay: float = 0.0):
        self.replies.append((status, content, delay))

    async def chat(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        status, content, delay = self.replies.pop(0) if self.replies else (500, "", 0.0)
        if delay:
            await asyncio.sleep(delay)
        if status != 200:
            return JSONResponse({"error": {"message": "stand-in failure", "type": "server_error"}}, status_code=status)
        return {
            "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


@contextmanager
def running_stand_in() -> Iterator[StandIn]:
    stand_in = StandIn()
    port = free_port()
    config = uvicorn.Config(stand_in.app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=1)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "stand-in server did not start"
        time.sleep(0.02)
    stand_in.port = port
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NO_PROXY", "127.0.0.1,localhost")
            mp.setenv("no_proxy", "127.0.0.1,localhost")
            yield stand_in
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "stand-in server did not shut down"
