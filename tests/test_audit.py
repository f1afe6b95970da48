"""The audit log and `hazard replay`: classify and chat (JSON and SSE) are logged with the index
generation and document versions, the entry is its owner's, a replay on the same generation is
identical, a changed corpus shows up as a difference while the old generation still reproduces
the original, a pruned generation is said to be gone, and a failing audit write never fails the
answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from apps import make_app
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.audit import AuditLog
from api.cli import main
from api.db import ChatDatabase
from api.replay import compare, replay
from api.routes.deps import Principal, get_principal
from api.settings import Settings, get_settings
from ingest import generations as gen
from ingest.generations import read_json

SITUATION = "车间二楼做木制品打磨，楼是砖混的"  # 11:1 of the 工贸 standard: 非框架结构的多层建筑
DUST_CLAUSE = "gongmao-major-hazard:11:1"
OLD_WORDING = "办公室、休息室等人员聚集场所的"
NEW_WORDING = "办公室、休息室、食堂等人员聚集场所的"
CONTRACT_KEYS = {"label", "findings", "criteria", "follow_up_questions", "explanation"}


# -- over the real index -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('audit') / 'hazard.sqlite3'}"


@pytest.fixture(scope="module")
def app(real_index, db_url):
    return make_app(real_index, db_url)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def as_caller(app):
    def use(owner: str, role: str) -> None:
        app.dependency_overrides[get_principal] = lambda: Principal(owner, role)

    yield use
    app.dependency_overrides.pop(get_principal, None)


def audit_entry(client, audit_id: str) -> dict:
    response = client.get(f"/v1/audit/{audit_id}")
    assert response.status_code == 200, response.text
    return response.json()


def sse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_classification_is_logged_with_generation_and_document_versions(client, real_index):
    response = client.post("/v1/classify", json={"situation": SITUATION, "industry": "轻工"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CONTRACT_KEYS  # the audit ID travels in a header, the contract is untouched
    entry = audit_entry(client, response.headers["X-Audit-Id"])
    assert entry["kind"] == "classify" and entry["owner"] == "local"
    assert entry["input"] == {"situation": SITUATION, "profile": {"industry": "轻工", "domains": []}}
    assert entry["output"] == body
    assert entry["generation"] == real_index.generation
    assert entry["fingerprint"] == read_json(real_index.path / "sources.json")["fingerprint"]
    cited = {c["clause_id"].split(":")[0] for c in body["criteria"]}
    assert DUST_CLAUSE in {c["clause_id"] for c in body["criteria"]}
    assert set(entry["documents"]) == cited
    for slug, version in entry["documents"].items():
        assert version["version"] == real_index.store.documents[slug].content_hash != ""
    assert entry["code_version"]["rules"] and entry["code_version"]["pipeline"]


def test_chat_turns_are_logged_with_the_history_they_were_answered_with(client, real_index):
    first = client.post("/v1/chat", json={"message": "车间二楼做木制品打磨"})
    assert first.status_code == 200
    session_id = first.json()["session_id"]
    second = client.post("/v1/chat", json={"session_id": session_id, "message": "砖混结构，不是框架"})
    assert second.status_code == 200
    one, two = audit_entry(client, first.headers["X-Audit-Id"]), audit_entry(client, second.headers["X-Audit-Id"])
    assert one["kind"] == two["kind"] == "chat"
    assert one["input"]["history"] == [] and one["output"] == first.json()
    assert two["output"] == second.json() and two["input"]["session_id"] == session_id
    assert [t["role"] for t in two["input"]["history"]] == ["user", "assistant"]
    assert two["input"]["history"][0]["text"] == "车间二楼做木制品打磨"
    assert two["generation"] == real_index.generation
    cited = {c["clause_id"].split(":")[0] for c in second.json()["citations"]}
    assert cited and cited <= set(two["documents"])


def test_streamed_chat_is_logged_and_the_header_names_the_entry(client):
    with client.stream("POST", "/v1/chat?stream=true", json={"message": "有限空间作业前没有检测气体"}) as response:
        assert response.status_code == 200
        audit_id = response.headers["X-Audit-Id"]
        events = sse_events(response.read().decode())
    entry = audit_entry(client, audit_id)
    done = dict(events)["done"]
    assert entry["kind"] == "chat" and entry["output"]["session_id"] == done["session_id"]
    assert entry["output"]["answer"] == "".join(d["text"] for e, d in events if e == "segment")
    assert entry["output"]["citations"] == dict(events)["citations"]


def test_an_entry_is_visible_to_its_owner_and_admins_only(client, as_caller):
    as_caller("inspector-a", "inspector")
    audit_id = client.post("/v1/classify", json={"situation": "车间通道堆放杂物"}).headers["X-Audit-Id"]
    assert client.get(f"/v1/audit/{audit_id}").json()["owner"] == "inspector-a"
    listed = client.get("/v1/audit", params={"kind": "classify"}).json()["entries"]
    assert audit_id in [e["id"] for e in listed] and listed[0]["text"] == "车间通道堆放杂物"
    assert client.get("/v1/audit", params={"kind": "chat"}).json()["entries"] == []

    as_caller("inspector-b", "inspector")
    other = client.get(f"/v1/audit/{audit_id}")
    unknown = client.get(f"/v1/audit/{'0' * 32}")
    assert other.status_code == unknown.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["detail"].replace(audit_id, "ID") == unknown.json()["detail"].replace("0" * 32, "ID")
    assert audit_id not in [e["id"] for e in client.get("/v1/audit").json()["entries"]]

    as_caller("office-admin", "admin")
    assert client.get(f"/v1/audit/{audit_id}").json()["owner"] == "inspector-a"


def test_openapi_documents_the_audit_header_and_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/classify", "/v1/chat"):
        assert "X-Audit-Id" in paths[path]["post"]["responses"]["200"]["headers"]
    assert "get" in paths["/v1/audit/{audit_id}"] and "get" in paths["/v1/audit"]
    bad = client.get("/v1/audit", params={"kind": "ledger"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_a_failing_audit_write_does_not_fail_the_answer(real_index, tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'hazard.sqlite3'}"
    with TestClient(make_app(real_index, url)) as c:
        with c.app.state.chat_db.engine.begin() as conn:
            conn.execute(text("DROP TABLE audit_entries"))  # a real database error on insert
        response = c.post("/v1/classify", json={"situation": SITUATION})
        assert response.status_code == 200 and set(response.json()) == CONTRACT_KEYS
        assert response.json()["label"] == "major"
        assert "X-Audit-Id" not in response.headers
        chat = c.post("/v1/chat", json={"message": SITUATION})
        assert chat.status_code == 200 and "X-Audit-Id" not in chat.headers
    assert "not written" in caplog.text


def test_replay_on_the_same_generation_is_identical(client, real_index, db_url):
    settings = Settings(data_dir=real_index.path.parent.parent, database_url=db_url)
    classified = client.post("/v1/classify", json={"situation": SITUATION}).headers["X-Audit-Id"]
    first = client.post("/v1/chat", json={"message": "车间二楼做木制品打磨"})
    follow_up = client.post("/v1/chat", json={"session_id": first.json()["session_id"], "message": "砖混结构，不是框架"})
    log = AuditLog(ChatDatabase(db_url).engine)
    for audit_id in (classified, follow_up.headers["X-Audit-Id"]):
        report = replay(log.get(audit_id), settings)
        assert report.original is not None and report.original.generation == real_index.generation
        assert report.reproduced and report.original.differences == []
        assert report.current is report.original  # nothing ingested since


# -- a small corpus of our own, changed and re-ingested ---------------------------------------------
@pytest.fixture
def small_corpus(tmp_path, corpus_dir, monkeypatch):
    """Two real documents copied into tmp, BM25 only, with the CLI's settings pointing there."""
    corpus = tmp_path / "corpus"
    (corpus / "standards").mkdir(parents=True)
    for name in ("gongmao-major-hazard.md", "hazard-investigation-rules.md"):
        shutil.copy(corpus_dir / "standards" / name, corpus / "standards" / name)
    data = tmp_path / "data"
    env = {"HAZARD_DATA_DIR": str(data), "HAZARD_EMBEDDINGS": "none", "HAZARD_CORPUS_DIR": str(corpus),
           "HAZARD_DATABASE_URL": f"sqlite:///{tmp_path / 'hazard.sqlite3'}", "HAZARD_LLM_BASE_URL": ""}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield corpus
    get_settings.cache_clear()


def ingest_cli(corpus: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", "--corpus", str(corpus), "--quiet"])
    assert result.exit_code == 0, result.output


def reword_clause(corpus: Path) -> None:
    path = corpus / "standards" / "gongmao-major-hazard.md"
    original = path.read_text(encoding="utf-8")
    assert original.count(OLD_WORDING) == 1
    path.write_text(original.replace(OLD_WORDING, NEW_WORDING), encoding="utf-8")


def test_replay_shows_todays_difference_and_still_reproduces_the_old_generation(small_corpus):
    ingest_cli(small_corpus)
    settings = get_settings()
    with TestClient(create_app(settings)) as c:
        response = c.post("/v1/classify", json={"situation": SITUATION})
        assert response.json()["label"] == "major"
        logged = c.get(f"/v1/audit/{response.headers['X-Audit-Id']}").json()
    old_generation = logged["generation"]
    old_quote = next(x["quote"] for x in logged["output"]["criteria"] if x["clause_id"] == DUST_CLAUSE)
    assert OLD_WORDING in old_quote

    reword_clause(small_corpus)
    ingest_cli(small_corpus)
    assert gen.current_name(settings.data_dir) != old_generation

    record = AuditLog(ChatDatabase(settings.resolved_database_url()).engine).get(logged["id"])
    report = replay(record, settings)
    assert report.original.generation == old_generation and report.reproduced
    assert report.current.generation == gen.current_name(settings.data_dir)
    assert not report.current.identical
    quote = next(d for d in report.current.differences if d.field == "quote")
    assert DUST_CLAUSE in quote.text and quote.before == old_quote and NEW_WORDING in quote.after
    assert "label" not in [d.field for d in report.current.differences]  # same criterion, new wording

    out = CliRunner().invoke(main, ["replay", logged["id"]])
    assert out.exit_code == 0, out.output
    first, second = out.stdout.split("二、")
    assert old_generation in first and "与当时一致" in first
    assert "与当时不一致" in second and "原文已变化" in second and NEW_WORDING in second


def test_a_pruned_generation_is_reported_and_only_todays_run_is_shown(small_corpus):
    ingest_cli(small_corpus)
    classify = CliRunner().invoke(main, ["classify", SITUATION, "--json"])
    assert classify.exit_code == 0, classify.output
    assert json.loads(classify.stdout)["label"] == "major"  # stdout is still exactly the contract
    audit_id = classify.stderr.split("审计记录：")[1].split("（")[0]

    reword_clause(small_corpus)
    ingest_cli(small_corpus)
    settings = get_settings()
    record = AuditLog(ChatDatabase(settings.resolved_database_url()).engine).get(audit_id)
    assert gen.prune(settings.data_dir, keep=0) == [record.generation]

    report = replay(record, settings)
    assert report.original is None and not report.reproduced
    assert any("已被清理" in n and record.generation in n for n in report.notes)
    assert report.current is not None and not report.current.identical
    out = CliRunner().invoke(main, ["replay", audit_id])
    assert out.exit_code == 0, out.output
    assert "无法在当时的索引版本" in out.stdout and "仅在当前索引版本" in out.stdout and "已被清理" in out.stdout
    as_json = json.loads(CliRunner().invoke(main, ["replay", audit_id, "--json"]).stdout)
    assert as_json["generation_available"] is False and as_json["original"] is None
    assert as_json["current"]["generation"] == gen.current_name(settings.data_dir)


def test_ingest_keeps_the_configured_number_of_generations(small_corpus, monkeypatch):
    monkeypatch.setenv("HAZARD_KEEP_GENERATIONS", "1")
    get_settings.cache_clear()
    names = []
    for n in range(3):
        (small_corpus / "standards" / "note.md").write_text(
            f"---\ntitle: \"测试说明{n}\"\n---\n\n# 测试说明{n}\n\n第一条 本说明第{n}版。\n", encoding="utf-8")
        ingest_cli(small_corpus)
        names.append(gen.current_name(get_settings().data_dir))
    kept = sorted(p.name for p in gen.generations_dir(get_settings().data_dir).iterdir())
    assert kept == sorted(names[1:])  # the current one and one previous


def test_unknown_replay_id_is_a_clear_error(small_corpus):
    ingest_cli(small_corpus)
    result = CliRunner().invoke(main, ["replay", "f" * 32])
    assert result.exit_code == 2 and "未找到审计记录" in result.stderr


# -- comparing outputs (pure) -------------------------------------------------------------------------
def _decision(label: str, criteria: list[tuple[str, str, str]]) -> dict:
    return {"label": label, "findings": [], "follow_up_questions": [], "explanation": "说明",
            "criteria": [{"clause_id": c, "role": r, "quote": q, "citation": f"《某标准》{c}"} for c, r, q in criteria]}


def test_compare_names_label_clause_and_quote_changes():
    before = _decision("major", [("s:1:1", "matched", "甲"), ("s:1:2", "nearest", "乙")])
    after = _decision("general", [("s:1:3", "nearest", "丙"), ("s:1:2", "nearest", "乙（修订）")])
    diffs = {d.field: d for d in compare("classify", before, after)}
    assert diffs["label"].text == "判定结论：重大事故隐患 → 一般事故隐患"
    assert "不再包含 s:1:1" in diffs["matched"].text
    assert "新增 s:1:3" in diffs["nearest"].text
    assert diffs["quote"].before == "乙" and diffs["quote"].after == "乙（修订）"
    assert compare("classify", before, json.loads(json.dumps(before))) == []


def test_compare_chat_reports_kind_and_citations():
    before = {"session_id": "x", "answer": "甲", "kind": "answer", "citations": [{"clause_id": "a:1", "quote": "q"}],
              "classification": None, "follow_up_questions": [], "searched_query": "问"}
    after = {**before, "kind": "refusal", "answer": "抱歉", "citations": []}
    diffs = {d.field: d for d in compare("chat", before, after)}
    assert diffs["kind"].text == "回复类型：法规解答 → 拒答"
    assert "不再包含 a:1" in diffs["citations"].text and "answer" in diffs
