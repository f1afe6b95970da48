"""Rate limits shared by worker processes through the database (api/ratelimit_db.py): the bucket
arithmetic with an injected clock on SQLite and PostgreSQL, two apps on one database letting
through exactly the limit together, the per-process store, the `auto` choice and `hazard serve
--workers`, and a database outage that falls back to per-process counting instead of failing."""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from ops_corpus import bm25_settings, ingest_bm25, write_corpus
from sqlalchemy import text

from api.app import create_app
from api.cli import main
from api.db import ChatDatabase
from api.keys import KeyStore
from api.ratelimit import RateLimiter
from api.ratelimit_db import (
    DatabaseRateLimiter,
    limiter_store,
    rate_limit_store_problem,
)
from api.settings import Settings, get_settings

T0 = 1_780_000_000.0  # epoch seconds, as time.time() gives: float precision must not matter
PROBLEM = "application/problem+json"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """An empty app database (tables created) on either backend; PostgreSQL: a fresh database."""
    if request.param == "sqlite":
        db = ChatDatabase(f"sqlite:///{tmp_path / 'app.sqlite3'}")
        db.create_all()
        yield db
        db.dispose()
        return
    with request.getfixturevalue("pg_server").fresh_database("rl") as url:
        db = ChatDatabase(url, timeout=5)
        db.create_all()
        yield db
        db.dispose()


def limiter_on(db: ChatDatabase, per_minute: int, burst: int, now: list[float]) -> DatabaseRateLimiter:
    return DatabaseRateLimiter(per_minute, burst, lambda: db.engine, clock=lambda: now[0])


def bucket_rows(db: ChatDatabase) -> set[str]:
    with db.engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT caller FROM rate_limit_buckets"))}


# -- bucket arithmetic -------------------------------------------------------------------------------
def test_bucket_refills_at_the_rate_and_says_how_long_to_wait(database):
    now = [T0]
    limiter = limiter_on(database, per_minute=6, burst=2, now=now)  # one token every 10 s
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    assert limiter.acquire("a") == 10
    assert limiter.acquire("b") == 0  # each caller has its own bucket
    now[0] = T0 + 4.0
    assert limiter.acquire("a") == 6  # 0.4 of a token back: 6 s to the next whole one
    now[0] = T0 + 10.0
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 10
    now[0] = T0 + 1000.0
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 10]  # refills only up to the burst
    # 1000 s on: the process pruned full buckets on the way (b, untouched since T0); a was just used.
    assert bucket_rows(database) == {"a"}


def test_same_answers_as_the_in_memory_limiter(database):
    """Random callers at random times: the shared limiter decides exactly as the per-process one."""
    rng = random.Random(7)
    now = [T0]
    shared = limiter_on(database, per_minute=30, burst=4, now=now)
    local = RateLimiter(per_minute=30, burst=4, clock=lambda: now[0])
    decisions = []
    for _ in range(150):
        now[0] += rng.choice([0.0, 0.0, 0.3, 1.1, 2.0, 7.5])
        caller = rng.choice(["key:甲", "key:乙", "ip:10.0.0.1"])
        expected = local.acquire(caller)
        assert shared.acquire(caller) == expected, (now[0] - T0, caller)
        decisions.append(expected)
    assert 0 in decisions and any(d > 0 for d in decisions)  # the script did hit the limit


def test_a_lagging_clock_neither_rewinds_a_bucket_nor_refills_it_twice(database):
    ahead, behind = [T0], [T0 - 30.0]  # two workers whose clocks differ by 30 s
    a = limiter_on(database, per_minute=6, burst=2, now=ahead)
    b = limiter_on(database, per_minute=6, burst=2, now=behind)
    assert a.acquire("k") == 0  # 1 token left, counted at T0
    assert b.acquire("k") == 0  # the lagging worker takes the last one; no time has passed for it
    assert b.acquire("k") == 10
    ahead[0] = T0 + 10.0
    # Counted from T0, not from T0 - 30: one token in 10 s, not the whole burst.
    assert a.acquire("k") == 0 and a.acquire("k") == 10


def test_full_buckets_are_pruned(database):
    now = [T0]
    limiter = limiter_on(database, per_minute=6, burst=2, now=now)
    assert limiter.acquire("a") == 0  # a: 1 token left
    assert limiter.acquire("b") == 0 and limiter.acquire("b") == 0  # b: empty
    now[0] = T0 + 10.0  # a is full again, b holds one token
    assert limiter.prune() == 1
    assert bucket_rows(database) == {"b"}
    assert [limiter.acquire("b"), limiter.acquire("b")] == [0, 10]  # b's bucket was kept as it was
    # Pruning also happens by itself, at most once per PRUNE_SECONDS in a process.
    now[0] = T0 + DatabaseRateLimiter.PRUNE_SECONDS + 1
    assert limiter.acquire("c") == 0
    assert bucket_rows(database) == {"c"}


# -- apps sharing one database -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ratelimit")
    corpus, data = write_corpus(root / "corpus"), root / "data"
    ingest_bm25(corpus, data)
    return corpus, data


def limited_settings(small_index, database_url: str, store: str, **extra) -> Settings:
    corpus, data = small_index
    values = {"database_url": database_url, "auth": "on", "rate_limit": 1, "rate_burst": 5,
              "rate_limit_store": store, "llm_base_url": ""}
    values.update(extra)
    return bm25_settings(corpus, data, **values)


def hammer(clients: list[TestClient], key: str, per_thread: int = 4, threads_per_client: int = 3) -> list:
    """Requests from several threads on each app at once; every response."""
    responses, lock = [], threading.Lock()

    def run(client: TestClient):
        for _ in range(per_thread):
            response = client.get("/v1/documents", headers={"Authorization": f"Bearer {key}"})
            with lock:
                responses.append(response)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients for _ in range(threads_per_client)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return responses


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "请求过于频繁" in response.json()["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 60  # one token a minute


def test_two_apps_on_one_database_let_through_exactly_the_limit(database, small_index):
    key, _ = KeyStore(database.engine).create("共享限额", "inspector")
    settings = limited_settings(small_index, database.url, "database")
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert type(one.app.state.access.limiter) is DatabaseRateLimiter
        responses = hammer([one, two], key)
    statuses = [r.status_code for r in responses]
    assert len(statuses) == 24 and statuses.count(200) == 5, statuses  # burst 5, across both apps
    for response in responses:
        if response.status_code != 200:
            assert_rate_limited(response)
    assert bucket_rows(database) == {"key:共享限额"}


def test_memory_store_limits_each_process_on_its_own(database, small_index):
    key, _ = KeyStore(database.engine).create("各自限额", "inspector")
    settings = limited_settings(small_index, database.url, "memory")
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert type(one.app.state.access.limiter) is RateLimiter
        h = {"Authorization": f"Bearer {key}"}
        first = [one.get("/v1/documents", headers=h) for _ in range(6)]
        assert [r.status_code for r in first] == [200] * 5 + [429]
        assert_rate_limited(first[-1])
        # The other process has buckets of its own: another burst of 5 (N workers → N × the limit).
        assert [two.get("/v1/documents", headers=h).status_code for _ in range(6)] == [200] * 5 + [429]
    assert bucket_rows(database) == set()


# -- which store ---------------------------------------------------------------------------------------
def test_auto_shares_the_limit_when_several_processes_serve(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    postgres = "postgresql+psycopg://hazard@127.0.0.1:5432/hazard"
    assert limiter_store(Settings(data_dir=tmp_path)) == "memory"  # the default SQLite file, one process
    assert limiter_store(Settings(database_url=sqlite, workers=1)) == "memory"
    assert limiter_store(Settings(database_url=sqlite, workers=3)) == "database"
    assert limiter_store(Settings(database_url=postgres)) == "database"  # workers on several ports or hosts
    assert limiter_store(Settings(database_url=postgres, rate_limit_store="memory")) == "memory"
    assert limiter_store(Settings(database_url=sqlite, rate_limit_store=" Database ")) == "database"
    assert rate_limit_store_problem(Settings(rate_limit_store="auto")) == ""
    problem = rate_limit_store_problem(Settings(rate_limit_store="redis"))
    assert "HAZARD_RATE_LIMIT_STORE" in problem and "redis" in problem
    assert limiter_store(Settings(database_url=sqlite, rate_limit_store="redis")) == "memory"  # treated as auto


def run_serve(monkeypatch, tmp_path, args: list[str], **env: str):
    """`hazard serve` up to the point where it would start uvicorn (that call is recorded instead)."""
    import uvicorn

    started = {}

    def record(app, **kwargs):
        started["app"], started["kwargs"] = app, kwargs
        started["settings"] = Settings()  # what each worker process reads from the environment

    monkeypatch.setattr(uvicorn, "run", record)
    for name in ("HAZARD_BIND_HOST", "HAZARD_WORKERS", "OMP_NUM_THREADS"):  # serve sets them: restore after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("HAZARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HAZARD_DATABASE_URL", "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["serve", *args])
    finally:
        get_settings.cache_clear()
    return result, started


def test_serve_with_workers_makes_auto_count_in_the_database(monkeypatch, tmp_path):
    result, started = run_serve(monkeypatch, tmp_path, ["--workers", "2", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert started["kwargs"]["workers"] == 2
    assert started["settings"].workers == 2
    assert limiter_store(started["settings"]) == "database"


def test_serve_refuses_an_unknown_rate_limit_store(monkeypatch, tmp_path):
    result, started = run_serve(monkeypatch, tmp_path, ["--workers", "2"], HAZARD_RATE_LIMIT_STORE="redis")
    assert result.exit_code == 2 and "HAZARD_RATE_LIMIT_STORE" in result.output, result.output
    assert not started


# -- the database going away ---------------------------------------------------------------------------
def test_database_down_counts_per_process_and_never_fails_a_request(pg_server, small_index, caplog):
    """Single-user mode on PostgreSQL (auto → database): documents need no database, so they keep
    being answered — limited per process — while it is down; counting returns to the database."""
    with pg_server.fresh_database("down") as url:
        settings = limited_settings(small_index, url, "auto", auth="off", rate_burst=3, database_timeout=2.0)
        with TestClient(create_app(settings)) as client:
            limiter = client.app.state.access.limiter
            assert type(limiter) is DatabaseRateLimiter
            assert [client.get("/v1/documents").status_code for _ in range(4)] == [200, 200, 200, 429]
            with caplog.at_level(logging.WARNING, logger="api.ratelimit_db"), pg_server.down():
                down = [client.get("/v1/documents") for _ in range(4)]
                # This process's own bucket (a fresh one) decides: no 500, no 503.
                assert [r.status_code for r in down] == [200, 200, 200, 429], [r.text for r in down]
                assert_rate_limited(down[-1])
            warnings = [r for r in caplog.records if r.name == "api.ratelimit_db" and r.levelno == logging.WARNING]
            assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
            # Back up: once the retry interval has passed, the database bucket (still empty) decides again.
            time.sleep(DatabaseRateLimiter.RETRY_SECONDS + 0.2)
            back = client.get("/v1/documents")
            assert_rate_limited(back)
            with client.app.state.chat_db.engine.connect() as conn:
                tokens = conn.execute(text("SELECT tokens FROM rate_limit_buckets WHERE caller = 'ip:testclient'")).scalar_one()
            assert tokens < 1.0

