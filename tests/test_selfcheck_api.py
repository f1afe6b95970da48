"""Self-check and paperwork over HTTP, on the real index with a throwaway database."""

from __future__ import annotations

import io

import pytest
from apps import make_app
from docx import Document as DocxDocument
from fastapi.testclient import TestClient

pytestmark = pytest.mark.corpus

PROBLEM = "application/problem+json"
PROFILE = {"industry": "有色", "domains": ["粉尘涉爆", "有限空间"]}


@pytest.fixture(scope="module")
def client(real_index, tmp_path_factory):
    db = tmp_path_factory.mktemp("selfcheck") / "app.sqlite"
    with TestClient(make_app(real_index, f"sqlite:///{db}")) as c:
        yield c


@pytest.fixture(scope="module")
def items(client):
    data = client.get("/v1/checklists", params={"industry": "有色", "domains": "粉尘涉爆,有限空间"}).json()
    return {i["item_id"]: i for g in data["groups"] for i in g["items"]}


def hazard_answers(items, *hazard_ids):
    """Every item answered as "no hazard", except the given ones."""
    out = {}
    for item_id, item in items.items():
        safe = "否" if item["hazard_if"] == "yes" else "是"
        out[item_id] = item["hazard_answer"] if item_id in hazard_ids else safe
    return out


def docx_text(content: bytes) -> str:
    doc = DocxDocument(io.BytesIO(content))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_checklist_lists_groups_questions_and_clause_links(client, items):
    data = client.get("/v1/checklists", params={"description": "我们是做铝型材挤压和熔铸的",
                                                "domains": ["粉尘涉爆", "有限空间"]}).json()
    assert data["profile"]["inferred_industries"] == ["有色"]
    assert data["item_count"] == len(items)
    item = items["gongmao-major-hazard:11:3"]
    assert item["question"] == "干式除尘系统是否已采取泄爆、惰化、抑爆等任一种爆炸防控措施？"
    assert item["hazard_answer"] == "否" and item["citation"]["quote"].startswith("（三）干式除尘系统")


def test_checklist_without_industry_is_a_chinese_422(client):
    r = client.get("/v1/checklists")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM and "行业" in r.json()["detail"]


def test_self_check_is_saved_with_history_and_exports(client, items):
    body = {"enterprise": {"name": "某铝业有限公司", "code": "91000000MA0000000X"}, "profile": PROFILE,
            "answers": hazard_answers(items, "gongmao-major-hazard:11:3")}
    first = client.post("/v1/self-checks", json=body)
    assert first.status_code == 201, first.text
    report = first.json()["report"]
    assert [h["clause_id"] for h in report["hazards"]] == ["gongmao-major-hazard:11:3"]
    assert any(c["clause_id"] == "work-safety-law:102" and "罚款" in c["quote"] for c in report["consequences"])
    second = client.post("/v1/self-checks", json={**body, "answers": {}}).json()
    assert len(second["report"]["uncertain"]) == len(items)

    history = client.get("/v1/self-checks", params={"enterprise": "某铝业有限公司"}).json()
    assert [h["id"] for h in history] == [second["id"], first.json()["id"]]
    assert history[1]["hazard_count"] == 1
    assert client.get(f"/v1/self-checks/{second['id']}").json()["enterprise"]["code"] == "91000000MA0000000X"

    docx = client.get(f"/v1/self-checks/{first.json()['id']}/export", params={"format": "docx"})
    text = docx_text(docx.content)
    assert "某铝业有限公司" in text and report["hazards"][0]["citation"]["quote"] in text
    html = client.get(f"/v1/self-checks/{first.json()['id']}/export", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "法律后果" in html.text


def test_unknown_report_is_404_and_unknown_items_422(client):
    r = client.get("/v1/self-checks/nope")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    r = client.post("/v1/self-checks", json={"enterprise": {"name": "乙"}, "profile": PROFILE,
                                             "answers": {"gongmao-major-hazard:4:1": "是", "x:1": "否"}})
    assert r.status_code == 422 and "gongmao-major-hazard:4:1" in r.json()["detail"] and "x:1" in r.json()["detail"]
    r = client.post("/v1/self-checks", json={"enterprise": {"name": "乙"}, "profile": PROFILE,
                                             "answers": {"gongmao-major-hazard:11:3": "也许"}})
    assert r.status_code == 422


def test_paperwork_from_a_classification_quotes_the_store(client, real_index):
    situation = "干式除尘器没有泄爆片，也没有惰化、抑爆措施"
    classified = client.post("/v1/classify", json={"situation": situation, "industry": "机械"}).json()
    assert classified["label"] == "major"
    for f in classified["findings"]:
        for c in f["criteria"]:
            c["quote"] = "客户端篡改的引文"
    r = client.post("/v1/paperwork", json={"kind": "order", "format": "docx", "classifications": [classified]})
    assert r.status_code == 200, r.text
    text = docx_text(r.content)
    matched = [c["clause_id"] for f in classified["findings"] for c in f["criteria"] if c["role"] == "matched"]
    for clause_id in matched:
        assert real_index.store.clause(clause_id).text in text
    assert "客户端篡改的引文" not in text
    assert "《中华人民共和国安全生产法》（主席令第八十八号）第一百零二条" in text
    assert "整改期限：＿" in text and "复查意见：＿" in text


def test_paperwork_html_escapes_and_refuses_unknown_clauses(client):
    finding = {"text": "<script>alert(1)</script>除尘器积尘", "label": "general", "criteria": []}
    r = client.post("/v1/paperwork", json={"kind": "record", "format": "html",
                                           "classifications": [{"findings": [finding]}]})
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    bad = {"text": "x", "label": "major", "criteria": [{"clause_id": "gongmao-major-hazard:99:1", "role": "matched"}]}
    r = client.post("/v1/paperwork", json={"kind": "record", "classifications": [{"findings": [bad]}]})
    assert r.status_code == 422 and "gongmao-major-hazard:99:1" in r.json()["detail"]
    assert client.post("/v1/paperwork", json={"kind": "record"}).status_code == 422


def test_paperwork_from_a_saved_self_check(client, items):
    saved = client.post("/v1/self-checks", json={"enterprise": {"name": "丙"}, "profile": PROFILE,
                                                 "answers": hazard_answers(items, "gongmao-major-hazard:13:2")}).json()
    r = client.post("/v1/paperwork", json={"kind": "record", "format": "docx", "self_check_id": saved["id"]})
    assert r.status_code == 200
    assert "隐患排查记录" in docx_text(r.content) and "自查回答" in docx_text(r.content)
    assert client.post("/v1/paperwork", json={"kind": "record", "self_check_id": "nope"}).status_code == 404
