"""The web UI at / and the streamed chat it reads (POST /v1/chat as server-sent events), over the
real index with conversations in a temporary SQLite database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from apps import make_app
from fastapi.testclient import TestClient

from api.routes.chat import split_segments

pytestmark = pytest.mark.corpus

STATIC = Path(__file__).resolve().parents[1] / "api" / "static"
HAN = re.compile(r"[\u4e00-\u9fff]")

LAW_QUESTION = "生产经营单位发现重大事故隐患要向谁报告？"
SITUATION = "车间二楼做木制品打磨"
REPLY = "砖混结构，不是框架"


@pytest.fixture(scope="module")
def client(real_index, tmp_path_factory):
    db_url = f"sqlite:///{tmp_path_factory.mktemp('ui') / 'chat.sqlite3'}"
    with TestClient(make_app(real_index, db_url)) as c:
        yield c


def parse_sse(text: str) -> list[tuple[str, object]]:
    """(event, JSON data) pairs of a text/event-stream body."""
    events = []
    for block in re.split(r"\r?\n\r?\n", text):
        name, data = "message", []
        for line in block.splitlines():
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def stream_chat(client, body: dict, **kwargs) -> list[tuple[str, object]]:
    response = client.post("/v1/chat", json=body, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    return parse_sse(response.text)


def assert_event_order(events) -> None:
    """segment+ citations classification? done, or a single error."""
    names = [n for n, _ in events]
    assert names.count("done") == 1 and names[-1] == "done", names
    first_other = next(i for i, n in enumerate(names) if n != "segment")
    assert first_other >= 1, names
    assert names[first_other] == "citations", names
    assert names[first_other + 1:-1] in ([], ["classification"]), names


# -- the page and its assets -------------------------------------------------------------------
def test_root_serves_the_chinese_app_shell(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "<title>隐患判定助手</title>" in html
    for element_id in ("chat-input", "send", "messages", "clause-panel", "search-form", "search-results",
                       "documents-table"):
        assert f'id="{element_id}"' in html, element_id
    for tab in ("对话", "条款检索", "文档", "发送"):
        assert tab in html
    assert 'src="/static/app.js"' in html and 'href="/static/app.css"' in html


def test_page_forbids_anything_from_elsewhere(client):
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp


SCRIPTS = ("app.js", "quiz.js", "selfcheck.js", "ledger.js")


@pytest.mark.parametrize("name", ["index.html", "app.css", *SCRIPTS])
def test_assets_reference_only_the_same_origin(name):
    text = (STATIC / name).read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text, name
    assert not re.search(r"(?:src|href)\s*=\s*[\"']//", text), name  # protocol-relative URLs
    assert "@import" not in text and "url(" not in text.replace("url(data:", ""), name


def test_index_references_only_local_assets():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert refs, "no asset references found"
    for ref in refs:
        assert ref.startswith(("/static/", "#")) or ref == "data:,", ref
    assert "<script>" not in html and " style=" not in html  # no inline script or style (CSP)


@pytest.mark.parametrize("path, media_types", [
    ("/static/app.js", ("text/javascript", "application/javascript")),
    ("/static/quiz.js", ("text/javascript", "application/javascript")),
    ("/static/selfcheck.js", ("text/javascript", "application/javascript")),
    ("/static/ledger.js", ("text/javascript", "application/javascript")),
    ("/static/app.css", ("text/css",)),
    ("/static/index.html", ("text/html",)),
])
def test_static_files_are_served_with_their_content_type(client, path, media_types):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in media_types
    assert response.content == (STATIC / path.rsplit("/", 1)[1]).read_bytes()


def test_missing_static_file_is_a_chinese_404(client):
    response = client.get("/static/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert HAN.search(response.json()["detail"])


def test_the_ui_is_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_never_writes_html(name):
    """Data reaches the page through textContent and attributes only: no innerHTML other than
    clearing a container with '', no outerHTML / insertAdjacentHTML / document.write / eval."""
    js = (STATIC / name).read_text(encoding="utf-8")
    for m in re.finditer(r"\.innerHTML\s*(\+?=)\s*([^;\n]*)", js):
        assert m.group(1) == "=" and m.group(2).strip() in ("''", '""'), m.group(0)
    for forbidden in ("outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                      "createContextualFragment", "DOMParser"):
        assert forbidden not in js, forbidden
    assert "setAttribute('on" not in js and 'setAttribute("on' not in js
    # The CSP has no 'unsafe-inline' for styles: sizes go through CSSOM (node.style.width), never a style attribute.
    assert not re.search(r"""setAttribute\(\s*['"]style|style\s*:|cssText""", js), name


def test_scripts_call_only_routes_of_the_contract(client):
    """Every /v1 address a script builds starts like a path of /openapi.json (and its query
    parameters are the route's own)."""
    paths = client.get("/openapi.json").json()["paths"]
    urls = sorted({u for name in SCRIPTS for u in re.findall(r"'(/v1/[^']*)'", (STATIC / name).read_text(encoding="utf-8"))})
    assert len(urls) >= 10, urls
    for url in urls:
        prefix, _, query = url.partition("?")
        matching = [p for p in paths if p == prefix or (prefix.endswith("/") and p.startswith(prefix))]
        assert matching, url
        for param in re.findall(r"([a-z_]+)=", query):
            params = {q["name"] for p in matching for op in paths[p].values() for q in op.get("parameters", [])}
            assert param in params, (url, param)


def test_every_script_in_the_static_dir_is_loaded_and_checked():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    on_disk = sorted(p.name for p in STATIC.glob("*.js"))
    assert sorted(SCRIPTS) == on_disk
    loaded = re.findall(r'<script src="/static/([^"]+)" defer></script>', html)
    assert loaded[0] == "app.js" and sorted(loaded) == on_disk  # app.js first: the pages use its helpers


def test_page_scripts_register_with_the_shell():
    app = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "var VIEWS = ['chat', 'search', 'documents', 'quiz', 'selfcheck', 'ledger'];" in app
    for name, view in (("quiz.js", "quiz"), ("selfcheck.js", "selfcheck"), ("ledger.js", "ledger")):
        assert f"ui.registerPage('{view}', init);" in (STATIC / name).read_text(encoding="utf-8"), name


def test_new_pages_are_in_the_navigation_with_labelled_controls():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for view, tab in (("quiz", "出题"), ("selfcheck", "企业自查"), ("ledger", "台账判定")):
        assert f'<a class="tab" id="tab-{view}" href="#{view}" data-view="{view}">{tab}</a>' in html
        assert f'<section class="view" id="view-{view}" data-view="{view}" aria-label="{tab}" hidden>' in html
    # Every form control sits inside a <label> or is named by one (for=…): a screen reader can say what it is.
    controls = re.findall(r"<(input|select|textarea)\b[^>]*>", html)
    assert len(controls) > 20
    for m in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
        attrs = m.group(2)
        control_id = re.search(r'id="([^"]+)"', attrs)
        before = html[:m.start()]
        inside_label = before.rfind("<label") > before.rfind("</label>")
        named = control_id and f'for="{control_id.group(1)}"' in html
        assert inside_label or named, m.group(0)
    for hook in ('id="quiz-form"', 'id="quiz-questions"', 'id="selfcheck-profile"', 'id="selfcheck-groups"',
                 'id="selfcheck-report"', 'id="ledger-file"', 'id="ledger-drop"', 'id="ledger-table"'):
        assert hook in html, hook
    # Problem details are announced: each page has an alert region for errors.
    for error in ("quiz-error", "selfcheck-error", "ledger-error"):
        assert re.search(rf'<p class="error-text" id="{error}" role="alert" hidden>', html), error


def test_stable_hooks_for_browser_tests():
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for hook in ("'message assistant", "'citation-chip'", "'classification-card ", "'follow-up'"):
        assert hook in js, hook
    for hook in ('id="chat-input"', 'id="send"', 'id="clause-panel"'):
        assert hook in html, hook
    for label in ("重大事故隐患", "一般事故隐患", "需补充信息", "不属于事故隐患描述", "已按上下文检索："):
        assert label in js, label


# -- chat as server-sent events ------------------------------------------------------------------
def test_streamed_answer_equals_the_json_answer(client):
    streamed = stream_chat(client, {"message": LAW_QUESTION}, params={"stream": "true"})
    assert_event_order(streamed)
    plain = client.post("/v1/chat", json={"message": LAW_QUESTION})
    assert plain.status_code == 200 and plain.headers["content-type"] == "application/json"
    expected = plain.json()

    segments = [d["text"] for n, d in streamed if n == "segment"]
    assert len(segments) > 1  # in pieces, not one blob
    assert "".join(segments) == expected["answer"]
    events = {n: d for n, d in streamed if n != "segment"}
    assert events["citations"] == expected["citations"]
    assert "classification" not in events
    done = events["done"]
    assert set(done) == {"session_id", "kind", "follow_up_questions", "searched_query"}
    assert re.fullmatch(r"[0-9a-f]{32}", done["session_id"])
    assert done["session_id"] != expected["session_id"]  # each started its own session
    assert (done["kind"], done["follow_up_questions"], done["searched_query"]) == \
        (expected["kind"], expected["follow_up_questions"], expected["searched_query"])


def test_accept_header_asks_for_a_stream(client):
    events = stream_chat(client, {"message": LAW_QUESTION}, headers={"Accept": "text/event-stream"})
    assert_event_order(events)
    # an explicit ?stream=false wins over the header
    response = client.post("/v1/chat", params={"stream": "false"}, json={"message": LAW_QUESTION},
                           headers={"Accept": "text/event-stream"})
    assert response.headers["content-type"] == "application/json" and "answer" in response.json()


def test_streamed_follow_up_continues_the_session(client):
    first = stream_chat(client, {"message": SITUATION}, params={"stream": "true"})
    assert_event_order(first)
    events = {n: d for n, d in first if n != "segment"}
    assert events["classification"]["label"] == "insufficient"
    sid = events["done"]["session_id"]
    assert events["done"]["follow_up_questions"] == events["classification"]["follow_up_questions"]

    reply = stream_chat(client, {"message": REPLY, "session_id": sid}, params={"stream": "true"})
    assert_event_order(reply)
    events = {n: d for n, d in reply if n != "segment"}
    assert events["done"]["session_id"] == sid
    assert events["done"]["searched_query"] == f"{SITUATION}，{REPLY}"  # the UI shows 已按上下文检索
    assert events["classification"]["label"] == "major"
    assert "gongmao-major-hazard:11:1" in [c["clause_id"] for c in events["citations"]]

    history = client.get(f"/v1/sessions/{sid}").json()["messages"]
    assert [m["text"] for m in history if m["role"] == "user"] == [SITUATION, REPLY]
    answer = "".join(d["text"] for n, d in reply if n == "segment")
    assert history[-1]["text"] == answer


def test_yes_no_reply_as_the_ui_sends_it(client):
    """The 否 button under "该建筑是否为框架结构？" sends "不是，该建筑不是框架结构"."""
    sid = client.post("/v1/chat", json={"message": SITUATION}).json()["session_id"]
    data = client.post("/v1/chat", json={"message": "不是，该建筑不是框架结构", "session_id": sid}).json()
    assert data["kind"] == "classification" and data["classification"]["label"] == "major"
    sid = client.post("/v1/chat", json={"message": SITUATION}).json()["session_id"]
    data = client.post("/v1/chat", json={"message": "是，该建筑是框架结构", "session_id": sid}).json()
    assert data["kind"] == "classification" and data["classification"]["label"] != "major"


def test_blank_message_is_an_error_event(client):
    events = stream_chat(client, {"message": "   "}, params={"stream": "true"})
    assert [n for n, _ in events] == ["error"]
    problem = events[0][1]
    assert problem["status"] == 422 and problem["type"].startswith("urn:hazard-assistant:problem:")
    assert "消息为空" in problem["detail"]


def test_unknown_session_is_an_error_event(client):
    events = stream_chat(client, {"message": LAW_QUESTION, "session_id": "no-such-session"},
                         params={"stream": "true"})
    assert [n for n, _ in events] == ["error"]
    assert events[0][1]["status"] == 404 and "未找到会话" in events[0][1]["detail"]


def test_empty_message_fails_validation_before_streaming(client):
    response = client.post("/v1/chat", params={"stream": "true"}, json={"message": ""},
                           headers={"Accept": "text/event-stream"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "message" in response.json()["detail"]


def test_stream_is_documented_in_openapi(client):
    op = client.get("/openapi.json").json()["paths"]["/v1/chat"]["post"]
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatResponse"}
    assert "text/event-stream" in content
    assert set(op["responses"]["200"]["x-sse-events"]) == {"segment", "citations", "classification", "done", "error"}
    assert any(p["name"] == "stream" and p["in"] == "query" for p in op["parameters"])


@pytest.mark.parametrize("text", [
    "", "一句话没有句号", "判定：重大事故隐患。\n依据“（一）甲；乙。”规定。已满足：甲（“乙”）；丙。",
    "第一句。第二句！第三句？\n\n第二段", "“引号里。还有一句。”然后。", "结尾换行。\n",
])
def test_segments_join_back_to_the_answer(text):
    segments = split_segments(text)
    assert "".join(segments) == text
    assert all(segments) or text == ""


def test_segments_end_at_sentences_not_inside_quotes():
    assert split_segments("判定：需补充信息。\n可能构成“（一）甲；乙。”规定的隐患。请补充：是否为框架？") == \
        ["判定：需补充信息。\n", "可能构成“（一）甲；乙。”规定的隐患。", "请补充：是否为框架？"]
