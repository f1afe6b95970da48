"""An admin upload rebuilds the index while a real server (uvicorn on loopback) is under load:
zero errors, answers switch to the new document after the switch, and the run is bounded
(fixed request counts; every wait has a deadline; the server is always stopped)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from ops_corpus import UPLOADED, ingest_bm25, write_corpus

THREADS = 6
PER_PHASE = 40  # requests per thread before the switch and again after it
NEW_CLAUSE = "test-hf-storage:1"
SEARCH = {"q": "氢氟酸储罐 防腐蚀", "k": 5}
SITUATION = {"situation": "车间仓库内设置了员工宿舍，反应釜没有温度监测报警装置"}


@contextmanager
def running_server(env: dict[str, str], timeout: float = 60):
    """`hazard serve --port 0` in its own process group; yields its base URL; always stopped."""
    hazard = Path(sys.executable).with_name("hazard")
    proc = subprocess.Popen([str(hazard), "serve", "--host", "127.0.0.1", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        url = None
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            m = re.search(r"服务已启动：(http://\S+?)/?$", line.strip())
            if m:
                url = m.group(1)
            elif time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError("server did not start")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def server_env(corpus: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARD_")}
    env.update(HAZARD_CORPUS_DIR=str(corpus), HAZARD_DATA_DIR=str(data), HAZARD_EMBEDDINGS="none",
               HAZARD_DATABASE_URL=f"sqlite:///{data / 'hazard.sqlite3'}", HAZARD_RATE_LIMIT="0",
               HAZARD_INDEX_WATCH_SECONDS="1", HAZARD_AUTH="off")
    return env


class Load:
    """THREADS clients alternating /v1/search and /v1/classify; each records every outcome."""

    def __init__(self, url: str):
        self.url = url
        self.results: list[tuple[float, str, int, bool]] = []  # (finished at, route, status, new doc seen)
        self.lock = threading.Lock()
        self.switched = threading.Event()
        self.errors: list[str] = []

    def worker(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for phase in (0, 1):
                if phase == 1 and not self.switched.wait(timeout=120):
                    return
                for i in range(PER_PHASE):
                    self._one(client, i)

    def _one(self, client: httpx.Client, i: int) -> None:
        try:
            if i % 2:
                r = client.post("/v1/classify", json=SITUATION)
                seen = False
                ok = r.status_code == 200 and r.json()["label"] in ("major", "general", "insufficient", "out_of_scope")
            else:
                r = client.get("/v1/search", params=SEARCH)
                ids = [h["clause_id"] for h in r.json()["results"]] if r.status_code == 200 else []
                seen, ok = NEW_CLAUSE in ids, r.status_code == 200
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors.append(repr(exc))
            return
        with self.lock:
            self.results.append((time.monotonic(), "classify" if i % 2 else "search", r.status_code, seen))
            if not ok:
                self.errors.append(f"{r.status_code} {r.text[:200]}")


def test_upload_rebuild_switches_under_load_without_errors(tmp_path):
    corpus, data = write_corpus(tmp_path / "corpus"), tmp_path / "data"
    ingest_bm25(corpus, data)
    with running_server(server_env(corpus, data)) as url, httpx.Client(base_url=url, timeout=30) as admin:
        old_generation = admin.get("/readyz").json()["generation"]
        load = Load(url)
        threads = [threading.Thread(target=load.worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 60
            while len(load.results) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            uploaded_at = time.monotonic()
            response = admin.post("/v1/admin/documents", files={"file": ("hf.md", UPLOADED.encode(), "text/markdown")})
            assert response.status_code == 202, response.text
            while (status := admin.get("/v1/admin/ingest").json())["state"] not in ("finished", "failed"):
                assert time.monotonic() < deadline, "rebuild did not finish"
                time.sleep(0.05)
            assert status["state"] == "finished", status
            while admin.get("/readyz").json()["generation"] != status["generation"]:
                assert time.monotonic() < deadline, "server did not switch"
                time.sleep(0.05)
            switched_at = time.monotonic()
        finally:
            load.switched.set()
            for t in threads:
                t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)

    assert load.errors == []
    assert len(load.results) == THREADS * PER_PHASE * 2
    assert all(status == 200 for _, _, status, _ in load.results)
    assert status["generation"] != old_generation and status["previous_generation"] == old_generation
    searches = [(at, seen) for at, route, _, seen in load.results if route == "search"]
    # Before the upload the old generation answered (no new document) ...
    assert not any(seen for at, seen in searches if at < uploaded_at)
    # ... requests kept being answered while the rebuild ran ...
    assert any(uploaded_at <= at < switched_at for at, _ in searches) or switched_at - uploaded_at < 0.05
    # ... and every search finished after the switch was answered from the new generation.
    after = [seen for at, seen in searches if at > switched_at]
    assert len(after) >= THREADS * PER_PHASE // 2 and all(after)
