"""The bounded load test (eval/load.py) in its short form: real `hazard serve` worker processes on
loopback over the test index, a fixed number of requests, zero errors, figures written, and no
server process left behind. Speed is reported, never asserted here (`make bench` runs the long form).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os

import httpx
import pytest

from eval import load

pytestmark = pytest.mark.corpus


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == 50.0
    assert load.percentile(values, 99) == 99.0
    assert load.percentile(list(reversed(values)), 100) == 100.0
    assert load.percentile([7.0], 99) == 7.0
    assert load.percentile([], 50) == 0.0


def test_bodies_do_not_repeat_within_a_long_run():
    # A long run sends 3 × 608 bodies per endpoint; repeats would let text-keyed caches flatter it.
    for endpoint, field in (("classify", "situation"), ("chat", "message")):
        sent = [body[field] for body in itertools.islice(load.bodies(endpoint), 3 * (load.LONG_REQUESTS + load.WARM_UP))]
        assert len(set(sent)) == len(sent), endpoint
        assert all(text.strip() and "{" not in text for text in sent)
    chat = [body["message"] for body in itertools.islice(load.bodies("chat"), 20)]
    assert sum(text.endswith("？") for text in chat) == 10  # questions and situations alternate


def test_short_run_has_no_errors_and_writes_its_figures(real_index, tmp_path):
    out = tmp_path / "reports" / "load.json"
    data_dir = real_index.path.parent.parent
    status = load.main(["--data-dir", str(data_dir), "--requests", "40", "--workers", "2",
                        "--max-seconds", "120", "--out", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    errors = {(r["endpoint"], r["concurrency"]): r["error_samples"] for r in report["results"] if r["errors"]}
    assert status == 0 and report["total_errors"] == 0, errors
    assert [(r["endpoint"], r["concurrency"]) for r in report["results"]] == \
        [(e, c) for e in ("classify", "chat") for c in (1, 8, 32)]
    for r in report["results"]:
        assert r["sent"] == r["planned"] == 40, r  # the fixed count, all sent within the time bound
        assert r["throughput_rps"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"], r
    assert report["server"]["workers"] == 2
    assert report["machine"]["cpus"] == os.cpu_count()
    assert not list(out.parent.glob("*.tmp"))


def test_a_level_stops_at_its_time_limit_and_the_server_stops_with_its_workers(real_index):
    with load.running_server(real_index.path.parent.parent, workers=2) as server:
        async def one_level():
            async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as client:
                return await load._run_level(client, "classify", load.bodies("classify"), 2, 100_000, 1.0)

        result = asyncio.run(one_level())
        url, group = server.url, server.pid
    assert result.errors == 0, result.error_samples
    assert 0 < result.sent < result.planned  # stopped by the clock, not by running out of requests
    assert result.seconds < 60
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # no process of the server's group (supervisor or worker) is left
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/readyz", timeout=2, trust_env=False)


def test_every_worker_knows_it_listens_beyond_loopback(real_index):
    # `--workers` builds each worker's app from the environment: the bind address must reach it,
    # or a worker on 0.0.0.0 would think it is on loopback and serve without keys.
    with load.running_server(real_index.path.parent.parent, workers=2, host="0.0.0.0") as server, \
            httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        anonymous = [client.get("/v1/documents").status_code for _ in range(6)]
        with_key = client.get("/v1/documents", headers=server.headers)
    assert anonymous == [401] * 6
    assert with_key.status_code == 200 and len(with_key.json()) > 10
