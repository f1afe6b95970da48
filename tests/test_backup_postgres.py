"""hazard backup / hazard restore on PostgreSQL (pg_dump / pg_restore against Debian's server):
an online backup of a serving deployment, restored into another database and data dir, answers
identically; a database that already holds data is not overwritten unless forced; a tampered
backup is refused before anything is written."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import real_corpus_dir
from fastapi.testclient import TestClient
from ops_corpus import bm25_settings, ingest_bm25, write_corpus
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from api.app import create_app
from api.cli import main
from api.settings import get_settings

# Woodworking dust on the second floor of a brick building: 工贸 standard 第十一条第（一）项.
SITUATION = "车间二楼做木制品打磨，楼是砖混的，不是框架结构"
FIRST_TURN = "车间二楼做木制品打磨"
REPLY = "砖混结构，不是框架"
LOAD_QUERIES = ["粉尘爆炸危险场所", "仓库 员工宿舍", "叉车司机持证"]


def hazard(args: list[str], data_dir: Path, corpus: Path, database_url: str):
    env = {"HAZARD_DATA_DIR": str(data_dir), "HAZARD_CORPUS_DIR": str(corpus), "HAZARD_EMBEDDINGS": "none",
           "HAZARD_DATABASE_URL": database_url}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, args, env=env)
    finally:
        get_settings.cache_clear()


def settings_for(corpus: Path, data_dir: Path, database_url: str):
    return bm25_settings(corpus, data_dir, database_url=database_url, auth="on", rate_limit=0, llm_base_url="")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                    for name in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def state_of(client: TestClient, key: str, made: dict) -> dict:
    """Everything a user can read back about the data made before the backup."""
    h = bearer(key)
    session = client.get(f"/v1/sessions/{made['session_id']}", headers=h)
    assert session.status_code == 200, session.text
    audits = {}
    for audit_id in made["audit_ids"]:
        entry = client.get(f"/v1/audit/{audit_id}", headers=h)
        assert entry.status_code == 200, entry.text
        audits[audit_id] = entry.json()
    report = client.get(f"/v1/self-checks/{made['report_id']}", headers=h)
    assert report.status_code == 200, report.text
    history = client.get("/v1/self-checks", params={"enterprise": made["enterprise"]}, headers=h)
    assert history.status_code == 200, history.text
    return {"session": session.json(), "audits": audits, "report": report.json(), "history": history.json()}


def classification(client: TestClient, key: str) -> tuple[dict, str]:
    response = client.post("/v1/classify", json={"situation": SITUATION}, headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json(), client.get("/readyz").json()["generation"]


def clause_ids(decision: dict) -> list[tuple[str, str]]:
    return [(c["role"], c["clause_id"]) for c in decision["criteria"]]


# -- a served deployment on PostgreSQL, backed up online ----------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The made-up documents plus the real 工贸 standard (its criteria drive classification and self-checks)."""
    folder = write_corpus(tmp_path_factory.mktemp("pg-backup") / "corpus")
    shutil.copy(real_corpus_dir() / "standards" / "gongmao-major-hazard.md", folder)
    return folder


@pytest.fixture(scope="module")
def deployment(pg_server, corpus, tmp_path_factory):
    """A source database with keys, a chat session, a self-check report and audit entries, and a
    backup of it taken while the app kept answering (checked in the test that needs it)."""
    root = tmp_path_factory.mktemp("pg-deployment")
    data = root / "data"
    with pg_server.fresh_database("src") as url:
        ingest_bm25(corpus, data)
        keys = {}
        for name, role in (("企业甲", "enterprise"), ("已吊销", "inspector"), ("管理员", "admin")):
            made = hazard(["keys", "create", "--role", role, "--name", name, "--json"], data, corpus, url)
            assert made.exit_code == 0, made.output
            keys[name] = json.loads(made.output)["key"]
        revoked = hazard(["keys", "revoke", "已吊销"], data, corpus, url)
        assert revoked.exit_code == 0, revoked.output

        with TestClient(create_app(settings_for(corpus, data, url))) as client:
            h = bearer(keys["企业甲"])
            first = client.post("/v1/chat", json={"message": FIRST_TURN}, headers=h)
            assert first.status_code == 200, first.text
            session_id = first.json()["session_id"]
            second = client.post("/v1/chat", json={"session_id": session_id, "message": REPLY}, headers=h)
            assert second.status_code == 200, second.text
            assert second.json()["classification"]["label"] == "major"
            decision = client.post("/v1/classify", json={"situation": SITUATION}, headers=h)
            assert decision.status_code == 200, decision.text
            audit_ids = [first.headers["x-audit-id"], second.headers["x-audit-id"], decision.headers["x-audit-id"]]

            checklist = client.get("/v1/checklists", params={"industry": "轻工", "domains": "粉尘涉爆"}, headers=h)
            assert checklist.status_code == 200, checklist.text
            items = [i for g in checklist.json()["groups"] for i in g["items"]]
            assert items
            answers = {items[0]["item_id"]: items[0]["hazard_answer"], items[-1]["item_id"]: "不确定"}
            report = client.post("/v1/self-checks", json={"enterprise": {"name": "测试木业有限公司"},
                                                           "profile": {"industry": "轻工", "domains": ["粉尘涉爆"]},
                                                           "answers": answers}, headers=h)
            assert report.status_code == 201, report.text
            made = {"session_id": session_id, "audit_ids": audit_ids, "report_id": report.json()["id"],
                    "enterprise": "测试木业有限公司"}
            before = state_of(client, keys["企业甲"], made)
            before_decision, before_generation = classification(client, keys["企业甲"])
            audit_ids.append(client.get("/v1/audit", params={"limit": 1}, headers=h).json()["entries"][0]["id"])
            before["audits"][audit_ids[-1]] = client.get(f"/v1/audit/{audit_ids[-1]}", headers=h).json()

            # Online: the app keeps taking chat turns, classifications and searches during pg_dump.
            stop, statuses = threading.Event(), []

            def keep_serving():
                n = 0
                while not stop.is_set():
                    n += 1
                    statuses.append(client.post("/v1/chat", json={"message": f"叉车司机要持证吗？第{n}问"},
                                                headers=h).status_code)
                    statuses.append(client.post("/v1/classify", json={"situation": SITUATION}, headers=h).status_code)
                    statuses.append(client.get("/v1/search", params={"q": LOAD_QUERIES[n % 3]}, headers=h).status_code)

            serving = threading.Thread(target=keep_serving)
            serving.start()
            try:
                time.sleep(0.3)  # the writer is under way before pg_dump starts
                backup = hazard(["backup", str(root / "backup"), "--json"], data, corpus, url)
                time.sleep(0.3)
            finally:
                stop.set()
                serving.join(timeout=120)
        yield {"root": root, "data": data, "url": url, "keys": keys, "made": made, "before": before,
               "decision": before_decision, "generation": before_generation, "backup": backup,
               "backup_dir": root / "backup", "statuses": statuses, "source_rows": row_counts(url)}


def test_online_backup_while_serving(deployment):
    backup = deployment["backup"]
    assert backup.exit_code == 0, backup.output
    manifest = json.loads(backup.output)
    assert manifest["database"] == {"kind": "postgresql", "file": "database.pgdump"}
    assert manifest["generation"] == deployment["generation"]
    assert "database.pgdump" in manifest["files"]
    assert "gongmao-major-hazard" in {d["slug"] for d in manifest["documents"]}
    statuses = deployment["statuses"]
    assert len(statuses) >= 6 and set(statuses) == {200}, statuses  # nothing failed during the dump
    # The dump holds no password and no `+psycopg` driver part: it is a plain pg_restore archive.
    assert (deployment["backup_dir"] / "database.pgdump").read_bytes()[:5] == b"PGDMP"


def test_restore_into_another_database_answers_identically(deployment, pg_server, corpus, tmp_path):
    restored = tmp_path / "restored"
    keys = deployment["keys"]
    with pg_server.fresh_database("dst") as url:
        result = hazard(["restore", str(deployment["backup_dir"]), "--data-dir", str(restored)],
                        deployment["data"], corpus, url)
        assert result.exit_code == 0, result.output
        assert "校验通过" in result.output
        # Every table came back, each with at least the rows made before the backup.
        rows = row_counts(url)
        assert set(rows) == set(deployment["source_rows"])
        assert rows["api_keys"] == 3 and rows["chat_sessions"] >= 1 and rows["audit_entries"] >= 4 and rows["self_check_reports"] >= 1, rows

        with TestClient(create_app(settings_for(corpus, restored, url))) as again:
            assert again.get("/readyz").json()["generation"] == deployment["generation"]
            assert state_of(again, keys["企业甲"], deployment["made"]) == deployment["before"]
            decision, generation = classification(again, keys["企业甲"])
            assert generation == deployment["generation"]
            assert decision["label"] == deployment["decision"]["label"] == "major"
            assert clause_ids(decision) == clause_ids(deployment["decision"])
            assert ("matched", "gongmao-major-hazard:11:1") in clause_ids(decision)
            assert decision == deployment["decision"]
            # Keys came back as they were: the revoked one stays revoked, the admin's still works.
            revoked = again.get("/v1/documents", headers=bearer(keys["已吊销"]))
            assert revoked.status_code == 401 and "吊销" in revoked.json()["detail"]
            assert again.get("/v1/admin/ingest", headers=bearer(keys["管理员"])).status_code == 200
            # The restored session continues where it stopped.
            h = bearer(keys["企业甲"])
            more = again.post("/v1/chat", json={"session_id": deployment["made"]["session_id"],
                                                 "message": "还有别的吗？"}, headers=h)
            assert more.status_code == 200, more.text
            history = again.get(f"/v1/sessions/{deployment['made']['session_id']}", headers=h).json()
            assert len(history["messages"]) == len(deployment["before"]["session"]["messages"]) + 2


def test_restore_into_a_database_holding_data_is_refused_unless_forced(deployment, pg_server, corpus, tmp_path):
    keys = deployment["keys"]
    with pg_server.fresh_database("busy") as url:
        other = tmp_path / "other"
        made = hazard(["keys", "create", "--role", "admin", "--name", "别处的管理员", "--json"], other, corpus, url)
        assert made.exit_code == 0, made.output
        theirs = json.loads(made.output)["key"]
        before = row_counts(url)
        target = tmp_path / "target"

        refused = hazard(["restore", str(deployment["backup_dir"]), "--data-dir", str(target)],
                         deployment["data"], corpus, url)
        assert refused.exit_code == 2, refused.output
        assert "目标数据库" in refused.output and "非空" in refused.output and "--force" in refused.output
        assert "postgres@" in refused.output  # names the database (a password would be masked)
        assert row_counts(url) == before and not target.exists()  # nothing written anywhere

        forced = hazard(["restore", str(deployment["backup_dir"]), "--data-dir", str(target), "--force"],
                        deployment["data"], corpus, url)
        assert forced.exit_code == 0, forced.output
        with TestClient(create_app(settings_for(corpus, target, url))) as again:
            assert again.get("/v1/documents", headers=bearer(theirs)).status_code == 401  # replaced
            assert state_of(again, keys["企业甲"], deployment["made"]) == deployment["before"]


def test_tampered_backup_is_refused_before_anything_is_written(deployment, pg_server, corpus, tmp_path):
    tampered = tmp_path / "tampered"
    shutil.copytree(deployment["backup_dir"], tampered)
    dump = tampered / "database.pgdump"
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    dump.write_bytes(bytes(content))
    with pg_server.fresh_database("tampered") as url:
        target = tmp_path / "target"
        refused = hazard(["restore", str(tampered), "--data-dir", str(target)], deployment["data"], corpus, url)
        assert refused.exit_code == 2, refused.output
        assert "校验失败" in refused.output and "database.pgdump" in refused.output
        assert row_counts(url) == {} and not target.exists()

        # A backup of the other kind of database is refused too, before anything is written.
        sqlite_target = tmp_path / "sqlite-target"
        refused = hazard(["restore", str(deployment["backup_dir"]), "--data-dir", str(sqlite_target)],
                         deployment["data"], corpus, "")
        assert refused.exit_code == 2 and "postgresql" in refused.output and "sqlite" in refused.output
        assert not sqlite_target.exists()
