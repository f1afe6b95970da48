"""hazard backup / hazard restore: an online backup of a serving deployment restored into a fresh
data dir answers identically (search, classification, a chat session's history); tampered
backups and non-empty targets are refused without writing anything."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from ops_corpus import UPLOADED, bm25_settings, ingest_bm25, write_corpus

from api.app import create_app
from api.cli import main
from api.settings import get_settings

QUERIES = ["氢氟酸储罐", "仓库 员工宿舍", "叉车司机持证"]
SITUATION = {"situation": "仓库内设置了员工宿舍，反应釜也没有温度监测报警装置"}


def hazard(args: list[str], data_dir, corpus):
    env = {"HAZARD_DATA_DIR": str(data_dir), "HAZARD_CORPUS_DIR": str(corpus), "HAZARD_EMBEDDINGS": "none",
           "HAZARD_DATABASE_URL": ""}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, args, env=env)
    finally:
        get_settings.cache_clear()


def answers(client, session_id: str) -> dict:
    session = client.get(f"/v1/sessions/{session_id}").json()
    for message in session["messages"]:
        message.pop("created_at", None)
    session.pop("created_at", None), session.pop("updated_at", None)
    return {
        "generation": client.get("/readyz").json()["generation"],
        "search": [client.get("/v1/search", params={"q": q, "k": 5}).json() for q in QUERIES],
        "classify": client.post("/v1/classify", json=SITUATION).json(),
        "session": session,
        "documents": client.get("/v1/documents").json(),
    }


@pytest.fixture
def deployment(tmp_path):
    """A served deployment with an uploaded document and a two-turn chat session."""
    corpus, data = write_corpus(tmp_path / "corpus"), tmp_path / "data"
    ingest_bm25(corpus, data)
    with TestClient(create_app(bm25_settings(corpus, data))) as client:
        assert client.post("/v1/admin/documents", files={"file": ("hf.md", UPLOADED.encode())}).status_code == 202
        deadline = time.monotonic() + 60
        while (status := client.get("/v1/admin/ingest").json())["state"] != "finished":
            assert status["state"] != "failed" and time.monotonic() < deadline, status
            time.sleep(0.1)
        while client.get("/readyz").json()["generation"] != status["generation"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        first = client.post("/v1/chat", json={"message": "氢氟酸储罐有什么要求？"}).json()
        client.post("/v1/chat", json={"session_id": first["session_id"], "message": "仓库里能设员工宿舍吗"})
        yield client, corpus, data, first["session_id"]


def test_restored_data_dir_answers_identically(deployment, tmp_path):
    client, corpus, data, session_id = deployment
    before = answers(client, session_id)
    assert any(h["clause_id"] == "test-hf-storage:1" for h in before["search"][0]["results"])
    assert len(before["session"]["messages"]) == 4

    # Online: the server keeps writing chat turns while the backup runs.
    stop = threading.Event()
    written = []

    def chatter():
        while not stop.is_set():
            written.append(client.post("/v1/chat", json={"message": "叉车司机要持证吗"}).status_code)

    writer = threading.Thread(target=chatter)
    writer.start()
    try:
        result = hazard(["backup", str(tmp_path / "backup"), "--json"], data, corpus)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["generation"] == before["generation"] and manifest["uploads"] == ["test-hf-storage.md"]
    assert {d["slug"] for d in manifest["documents"]} == {"test-a", "test-b", "test-hf-storage"}
    assert set(manifest["files"]) >= {"database.sqlite3", "index/CURRENT", "uploads/test-hf-storage.md",
                                      f"index/generations/{before['generation']}/store.json"}
    assert written and set(written) == {200}
    with sqlite3.connect(tmp_path / "backup" / "database.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restored = tmp_path / "restored"
    result = hazard(["restore", str(tmp_path / "backup"), "--data-dir", str(restored)], data, corpus)
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output
    with TestClient(create_app(bm25_settings(corpus, restored))) as again:
        assert answers(again, session_id) == before
    assert (restored / "uploads" / "test-hf-storage.md").read_text(encoding="utf-8") == UPLOADED


def test_restore_refuses_a_non_empty_dir_unless_forced(deployment, tmp_path):
    _, corpus, data, session_id = deployment
    assert hazard(["backup", str(tmp_path / "backup")], data, corpus).exit_code == 0
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something.txt").write_text("x")
    refused = hazard(["restore", str(tmp_path / "backup"), "--data-dir", str(target)], data, corpus)
    assert refused.exit_code == 2 and "非空" in refused.output and "--force" in refused.output
    assert [p.name for p in target.iterdir()] == ["something.txt"]
    forced = hazard(["restore", str(tmp_path / "backup"), "--data-dir", str(target), "--force"], data, corpus)
    assert forced.exit_code == 0, forced.output
    with TestClient(create_app(bm25_settings(corpus, target))) as again:
        assert again.get(f"/v1/sessions/{session_id}").status_code == 200


def test_tampered_or_incomplete_backup_is_refused_before_writing(deployment, tmp_path):
    _, corpus, data, _ = deployment
    backup = tmp_path / "backup"
    assert hazard(["backup", str(backup)], data, corpus).exit_code == 0
    again = hazard(["backup", str(backup)], data, corpus)
    assert again.exit_code == 2 and "非空" in again.output

    tampered = tmp_path / "tampered"
    shutil.copytree(backup, tampered)
    with open(tampered / "uploads" / "test-hf-storage.md", "a", encoding="utf-8") as f:
        f.write("第三条 被改动的条款。\n")
    refused = hazard(["restore", str(tampered), "--data-dir", str(tmp_path / "t1")], data, corpus)
    assert refused.exit_code == 2 and "校验失败" in refused.output and "test-hf-storage.md" in refused.output
    assert not (tmp_path / "t1").exists()

    incomplete = tmp_path / "incomplete"
    shutil.copytree(backup, incomplete)
    (incomplete / "database.sqlite3").unlink()
    refused = hazard(["restore", str(incomplete), "--data-dir", str(tmp_path / "t2")], data, corpus)
    assert refused.exit_code == 2 and "缺少文件 database.sqlite3" in refused.output
    assert not (tmp_path / "t2").exists()

    not_a_backup = hazard(["restore", str(corpus), "--data-dir", str(tmp_path / "t3")], data, corpus)
    assert not_a_backup.exit_code == 2 and "不是备份目录" in not_a_backup.output
