"""POST /v1/chat and /v1/sessions over the real index, with conversations in a temporary SQLite
database: routing, grounded answers, follow-ups, persistence across restarts, errors, and the
OpenAPI contract."""

from __future__ import annotations

import re

import pytest
from apps import make_app
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.app import create_app
from api.settings import Settings
from assistant.answer import compose_answer
from eval.retrieval import load_questions

pytestmark = pytest.mark.corpus

PROBLEM = "application/problem+json"
HAN = re.compile(r"[\u4e00-\u9fff]")

LAW_QUESTION = "生产经营单位发现重大事故隐患要向谁报告？"
SITUATION = "车间二楼做木制品打磨"
REPLY = "砖混结构，不是框架"
MORE = "还有别的吗？"
WEATHER = "今天天气怎么样"
WHAT_IF = "那如果是单层钢结构厂房呢？"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('chat') / 'chat.sqlite3'}"


@pytest.fixture(scope="module")
def client(real_index, db_url):
    with TestClient(make_app(real_index, db_url)) as c:
        yield c


@pytest.fixture(scope="module")
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


def check_contract(openapi: dict, path: str, method: str, response) -> dict:
    """The body matches what the OpenAPI document declares for this path, method and status."""
    declared = openapi["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{method.upper()} {path} → {status} not declared"
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in declared[status]["content"], f"{media_type} not declared"
    pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in
                       ("paths", path, method, "responses", status, "content", media_type, "schema"))
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(openapi, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:openapi#/{pointer}"}, registry=registry)
    body = response.json()
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors[:5]
    return body


def assert_problem(openapi, path, method, response, status: int, detail_part: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = check_contract(openapi, path, method, response)
    assert HAN.search(body["detail"]) and detail_part in body["detail"], body["detail"]
    return body


def assert_quotes_are_the_store_text(real_index, citations) -> None:
    for c in citations:
        assert c["quote"] == real_index.store.clause(c["clause_id"]).text
        assert c["citation"] == real_index.store.citation(c["clause_id"]).citation


@pytest.fixture(scope="module")
def say(client, openapi, real_index):
    def post(message: str, session_id: str | None = None, **extra) -> dict:
        body = {"message": message, **({"session_id": session_id} if session_id else {}), **extra}
        response = client.post("/v1/chat", json=body)
        assert response.status_code == 200, response.text
        data = check_contract(openapi, "/v1/chat", "post", response)
        assert_quotes_are_the_store_text(real_index, data["citations"])
        return data

    return post


@pytest.fixture(scope="module")
def situation_session(say) -> dict:
    """One conversation: a situation, the answer to the follow-up question, more, off-topic."""
    first = say(SITUATION)
    sid = first["session_id"]
    return {"id": sid, "first": first, "reply": say(REPLY, sid), "more": say(MORE, sid), "weather": say(WEATHER, sid)}


# -- a question about the law ------------------------------------------------------------------------
def test_law_question_gets_a_grounded_answer(say):
    data = say(LAW_QUESTION)
    assert data["kind"] == "answer"
    assert "work-safety-law:41" in [c["clause_id"] for c in data["citations"]]
    assert data["searched_query"] == LAW_QUESTION
    assert data["classification"] is None
    assert "报告" in data["answer"] and "《中华人民共和国安全生产法》" in data["answer"]
    assert len(data["citations"]) <= 3


def test_a_named_article_is_quoted(say):
    data = say("安全生产法第四十一条")
    assert data["kind"] == "answer"
    assert data["citations"][0]["clause_id"] == "work-safety-law:41"


# -- a situation, the follow-up question and its answer ------------------------------------------------------
def test_situation_needs_more_information(situation_session):
    first = situation_session["first"]
    assert first["kind"] == "classification"
    assert first["classification"]["label"] == "insufficient"
    assert first["follow_up_questions"]
    assert first["follow_up_questions"] == first["classification"]["follow_up_questions"]


def test_reply_to_the_question_is_merged_and_classified_major(situation_session):
    reply = situation_session["reply"]
    assert reply["session_id"] == situation_session["id"]
    assert reply["kind"] == "classification"
    assert reply["classification"]["label"] == "major"
    assert reply["searched_query"] == f"{SITUATION}，{REPLY}"
    matched = [c["clause_id"] for c in reply["classification"]["criteria"] if c["role"] == "matched"]
    assert "gongmao-major-hazard:11:1" in matched
    assert "gongmao-major-hazard:11:1" in [c["clause_id"] for c in reply["citations"]]


def test_more_please_is_rewritten_with_the_situation(situation_session):
    more = situation_session["more"]
    assert more["searched_query"] != MORE
    assert SITUATION in more["searched_query"]
    assert more["kind"] == "answer"
    shown = {c["clause_id"] for c in situation_session["reply"]["citations"]}
    assert more["citations"] and not shown & {c["clause_id"] for c in more["citations"]}


def test_off_topic_is_refused_politely(situation_session):
    weather = situation_session["weather"]
    assert weather["kind"] == "refusal"
    assert weather["citations"] == [] and weather["classification"] is None
    assert "抱歉" in weather["answer"]


def test_history_has_every_turn(client, openapi, real_index, situation_session):
    response = client.get(f"/v1/sessions/{situation_session['id']}")
    data = check_contract(openapi, "/v1/sessions/{session_id}", "get", response)
    messages = data["messages"][:8]  # the restart test may add a turn later
    assert [m["role"] for m in messages] == ["user", "assistant"] * 4
    assert [m["text"] for m in messages[::2]] == [SITUATION, REPLY, MORE, WEATHER]
    assert [m["kind"] for m in messages[1::2]] == ["classification", "classification", "answer", "refusal"]
    assert all(m["kind"] is None for m in messages[::2])
    assert messages[3]["citations"] == situation_session["reply"]["citations"]
    assert messages[3]["classification"]["label"] == "major"
    assert messages[5]["searched_query"] == situation_session["more"]["searched_query"]
    times = [m["created_at"] for m in messages]
    assert times == sorted(times)
    for m in messages:
        assert_quotes_are_the_store_text(real_index, m["citations"])


def test_session_survives_a_restart(real_index, db_url, situation_session):
    with TestClient(make_app(real_index, db_url)) as again:
        history = again.get(f"/v1/sessions/{situation_session['id']}").json()
        assert len(history["messages"]) >= 8
        response = again.post("/v1/chat", json={"session_id": situation_session["id"], "message": WHAT_IF})
        assert response.status_code == 200, response.text
        data = response.json()
    # the new instance read the earlier turns: the follow-up builds on the original situation
    assert data["session_id"] == situation_session["id"]
    assert data["kind"] == "classification"
    assert data["searched_query"] == f"{SITUATION}，单层钢结构厂房"
    assert data["classification"]["label"] != "major"


def test_profile_is_kept_for_the_session(say):
    data = say("未落实粉尘清理制度，作业现场积尘严重", profile={"industry": "机械", "domains": ["粉尘涉爆"]})
    assert data["kind"] == "classification"
    assert data["classification"]["label"] == "major"
    assert "机械" in data["classification"]["findings"][0]["industries"]


# -- deleting ---------------------------------------------------------------------------------------------
def test_delete_then_get_is_404(client, openapi, say):
    sid = say(LAW_QUESTION)["session_id"]
    deleted = client.delete(f"/v1/sessions/{sid}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(openapi, "/v1/sessions/{session_id}", "get", client.get(f"/v1/sessions/{sid}"), 404, "未找到会话")
    assert_problem(openapi, "/v1/sessions/{session_id}", "delete", client.delete(f"/v1/sessions/{sid}"), 404, "未找到会话")
    assert_problem(openapi, "/v1/chat", "post", client.post("/v1/chat", json={"session_id": sid, "message": "还有吗"}),
                   404, "未找到会话")


# -- errors -----------------------------------------------------------------------------------------------
def test_unknown_session_is_404(client, openapi):
    assert_problem(openapi, "/v1/sessions/{session_id}", "get", client.get("/v1/sessions/no-such-session"), 404,
                   "未找到会话")
    response = client.post("/v1/chat", json={"session_id": "no-such-session", "message": LAW_QUESTION})
    assert_problem(openapi, "/v1/chat", "post", response, 404, "未找到会话")


@pytest.mark.parametrize("message, detail", [("", "message"), ("   ", "消息为空"), ("有" * 4001, "上限4000")])
def test_empty_or_long_message_is_422(client, openapi, message, detail):
    assert_problem(openapi, "/v1/chat", "post", client.post("/v1/chat", json={"message": message}), 422, detail)


def test_missing_message_is_422(client, openapi):
    assert_problem(openapi, "/v1/chat", "post", client.post("/v1/chat", json={}), 422, "message")


def test_a_failed_message_starts_no_session(client, db_url, real_index):
    from api.db import ChatDatabase, ChatSession
    from sqlalchemy import func, select

    db = ChatDatabase(db_url)
    with db._sessions() as s:
        before = s.scalar(select(func.count()).select_from(ChatSession))
    client.post("/v1/chat", json={"message": "   "})
    with db._sessions() as s:
        assert s.scalar(select(func.count()).select_from(ChatSession)) == before
    db.dispose()


def test_chat_without_index_is_503(tmp_path, openapi):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with TestClient(create_app(settings)) as c:
        assert_problem(openapi, "/v1/chat", "post", c.post("/v1/chat", json={"message": LAW_QUESTION}), 503, "索引")


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    assert Settings(data_dir=tmp_path).resolved_database_url() == f"sqlite:///{(tmp_path / 'hazard.sqlite3').resolve()}"
    assert Settings(data_dir=tmp_path, database_url="sqlite://").resolved_database_url() == "sqlite://"


def test_routes_are_documented(openapi):
    assert {"post"} <= set(openapi["paths"]["/v1/chat"])
    assert {"get", "delete"} <= set(openapi["paths"]["/v1/sessions/{session_id}"])
    assert "204" in openapi["paths"]["/v1/sessions/{session_id}"]["delete"]["responses"]


# -- the relevance threshold holds on the team's question set ----------------------------------------------
NEGATIVES = ["今天天气怎么样", "你好", "湖人昨天赢了没有", "帮我推荐一部电影", "晚饭吃什么好", "明天会下雨吗",
             "世界杯谁是冠军", "给我讲个笑话", "淘宝双十一有什么优惠", "股票明天会涨吗", "红烧肉怎么做", "猫为什么喜欢睡觉"]


def test_threshold_keeps_the_retrieval_questions_and_drops_chatter(real_index):
    retriever, store = real_index.retriever, real_index.store
    questions = load_questions()
    missed = [q["question"] for q in questions
              if not compose_answer(q["question"], retriever.search(q["question"], k=10), store.citation).found]
    assert len(missed) <= len(questions) * 0.01, missed
    answered = [n for n in NEGATIVES if compose_answer(n, retriever.search(n, k=10), store.citation).found]
    assert answered == []


# -- the terminal chat shares the dialogue and the database ---------------------------------------------------
def test_cli_chat_uses_the_same_dialogue_and_database(real_index, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from api import settings as settings_module
    from api.cli import main
    from api.db import ChatDatabase

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HAZARD_DATA_DIR", str(real_index.path.parent.parent))
    monkeypatch.setenv("HAZARD_DATABASE_URL", url)
    settings_module.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["chat"], input=f"{SITUATION}\n\n{REPLY}\n{WEATHER}\nexit\n{LAW_QUESTION}\n",
                                    catch_exceptions=False)
    finally:
        settings_module.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "判定：需补充信息" in out and "判定：重大事故隐患" in out
    assert f"按上文理解为：{SITUATION}，{REPLY}" in out
    assert "抱歉" in out
    sid = re.search(r"会话ID：([0-9a-f]{32})", out).group(1)
    db = ChatDatabase(url)
    try:
        texts = [m.text for m in db.messages(sid) if m.role == "user"]
    finally:
        db.dispose()
    assert texts == [SITUATION, REPLY, WEATHER]  # blank lines skipped, nothing read after exit

    with TestClient(make_app(real_index, url)) as c:  # the API continues the terminal's session
        data = c.post("/v1/chat", json={"session_id": sid, "message": MORE}).json()
    assert SITUATION in data["searched_query"]
