"""Access control: API keys (CLI, hashing, 401), roles (403), ownership (404 for another owner's
data), single-user mode, the serve guard, rate limits (429) and request limits. Every HTTP
response here is validated against /openapi.json."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.access import ROUTE_ROLES, auth_required, is_loopback, roles_for
from api.app import create_app
from api.db import ChatDatabase
from api.keys import KeyStore
from api.ratelimit import RateLimiter
from api.settings import Settings

pytestmark = pytest.mark.corpus

REPO = Path(__file__).resolve().parents[1]
PROBLEM = "application/problem+json"
HAN = re.compile(r"[\u4e00-\u9fff]")
KEY = re.compile(r"hz_[A-Za-z0-9_-]{43}")
PROFILE = {"industry": "有色", "domains": ["粉尘涉爆"]}
SITUATION = "车间二楼做木制品打磨，楼是砖混的"


# -- checking every response against the OpenAPI document -----------------------------------------
class Contract:
    """Wraps a TestClient: each response must be declared in /openapi.json (path, method, status,
    media type) and a JSON body must match the declared schema."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None):
        self.client, self.headers = client, headers or {}
        self.openapi = client.get("/openapi.json").json()
        self._templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in self.openapi["paths"]]
        self._registry = Registry().with_resource(
            "urn:openapi", Resource.from_contents(self.openapi, default_specification=DRAFT202012))

    def as_key(self, key: str | None) -> Contract:
        other = object.__new__(Contract)
        other.__dict__.update(self.__dict__)
        other.headers = {"Authorization": f"Bearer {key}"} if key else {}
        return other

    def request(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.request(method, url, headers=headers, **kwargs)
        self.check(method, url, response)
        return response

    def get(self, url, **kw):
        return self.request("get", url, **kw)

    def post(self, url, **kw):
        return self.request("post", url, **kw)

    def delete(self, url, **kw):
        return self.request("delete", url, **kw)

    def check(self, method: str, url: str, response) -> None:
        path = url.split("?")[0]
        template = next((t for rx, t in self._templates if rx.match(path)), None)
        media = response.headers.get("content-type", "").split(";")[0]
        if template is None:
            assert media == PROBLEM, f"{method} {url}: undeclared path answered {media}"
            pointer = "components/schemas/Problem"
        else:
            declared = self.openapi["paths"][template][method]["responses"]
            status = str(response.status_code)
            assert status in declared, f"{method.upper()} {template} → {status} not declared"
            if response.status_code == 204:
                assert not response.content
                return
            assert media in declared[status].get("content", {}), f"{method.upper()} {template} {status}: {media}"
            schema = declared[status]["content"][media].get("schema")
            if schema is None or not media.endswith("json"):
                return  # a file download: its media type is what is declared
            pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in
                               ("paths", template, method, "responses", status, "content", media, "schema"))
        validator = Draft202012Validator({"$ref": f"urn:openapi#/{pointer}"}, registry=self._registry)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]
        assert not errors, f"{method.upper()} {url}: {errors[:5]}"


def assert_problem(response, status: int, detail_part: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and HAN.search(body["detail"]), body
    assert detail_part in body["detail"], body["detail"]
    return body


# -- apps -------------------------------------------------------------------------------------------
def keyed_settings(data_dir: Path, **extra) -> Settings:
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.sqlite3'}", auth="on",
                    rate_limit=0, llm_base_url="", **extra)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("auth-data")


@pytest.fixture(scope="module")
def keys(data_dir) -> dict[str, str]:
    """One key per person, created before the server starts (as `hazard keys create` would)."""
    db = ChatDatabase(f"sqlite:///{data_dir / 'app.sqlite3'}")
    db.create_all()
    store = KeyStore(db.engine)
    made = {name: store.create(name, role)[0] for name, role in (
        ("企业甲", "enterprise"), ("企业乙", "enterprise"), ("执法丙", "inspector"),
        ("讲师丁", "trainer"), ("管理员", "admin"), ("将吊销", "enterprise"))}
    db.dispose()
    return made


@pytest.fixture(scope="module")
def api(real_index, data_dir, keys):
    app = create_app(keyed_settings(data_dir), index_loader=lambda s: real_index)
    with TestClient(app) as client:
        yield Contract(client)


# -- keys on the command line -----------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path, monkeypatch):
    from api import settings as settings_module
    from api.cli import main

    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    monkeypatch.setenv("HAZARD_DATABASE_URL", url)
    settings_module.get_settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run, url
    settings_module.get_settings.cache_clear()


def test_keys_create_prints_the_key_once_list_hides_it_revoke_disables_it(cli):
    run, url = cli
    created = run("keys", "create", "--role", "inspector", "--name", "张三-执法终端")
    assert created.exit_code == 0, created.output
    found = KEY.findall(created.stdout)
    assert len(found) == 1, created.stdout
    key = found[0]
    assert "只显示这一次" in created.stderr and "Authorization: Bearer" in created.stderr

    listed = run("keys", "list")
    assert listed.exit_code == 0 and "张三-执法终端" in listed.output and "inspector" in listed.output
    assert "有效" in listed.output
    as_json = run("keys", "list", "--json")
    assert key not in listed.output + as_json.output and "hz_" not in listed.output + as_json.output
    assert hashlib.sha256(key.encode()).hexdigest() not in as_json.output
    assert '"revoked_at": null' in as_json.output

    db = ChatDatabase(url)
    try:
        store = KeyStore(db.engine)
        principal = store.check(key).principal
        assert (principal.owner, principal.role) == ("张三-执法终端", "inspector")
        revoked = run("keys", "revoke", "张三-执法终端")
        assert revoked.exit_code == 0 and "已吊销" in revoked.output
        assert store.check(key).problem == "revoked"
        assert "已吊销" in run("keys", "list").output
        again = run("keys", "revoke", "张三-执法终端")
        assert again.exit_code == 0 and "此前已吊销" in again.output
    finally:
        db.dispose()


def test_keys_cli_refuses_bad_input_in_chinese(cli):
    run, _ = cli
    assert run("keys", "create", "--role", "admin", "--name", "甲").exit_code == 0
    duplicate = run("keys", "create", "--role", "trainer", "--name", "甲")
    assert duplicate.exit_code != 0 and "已被使用" in duplicate.output and not KEY.search(duplicate.output)
    unknown = run("keys", "revoke", "不存在的密钥")
    assert unknown.exit_code != 0 and "没有名为" in unknown.output
    assert run("keys", "create", "--role", "superuser", "--name", "乙").exit_code != 0
    spaced = run("keys", "create", "--role", "trainer", "--name", "有 空格")
    assert spaced.exit_code != 0 and "空格" in spaced.output


def test_the_database_holds_only_the_hash_of_a_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    db = ChatDatabase(url)
    db.create_all()
    key, _ = KeyStore(db.engine).create("甲", "enterprise")
    db.dispose()
    rows = sqlite3.connect(tmp_path / "k.sqlite3").execute("SELECT * FROM api_keys").fetchall()
    flat = " ".join(map(str, rows[0]))
    assert key not in flat and key[3:] not in flat
    assert hashlib.sha256(key.encode()).hexdigest() in flat


def test_a_replacement_key_for_the_same_owner_sees_the_same_data(tmp_path):
    db = ChatDatabase(f"sqlite:///{tmp_path / 'k.sqlite3'}")
    db.create_all()
    store = KeyStore(db.engine)
    old, _ = store.create("张三", "inspector")
    store.revoke("张三")
    new, info = store.create("张三-2", "inspector", owner="张三")
    assert info.owner == "张三" and store.check(new).principal.owner == "张三"
    assert store.check(old).principal is None
    db.dispose()


# -- 401 --------------------------------------------------------------------------------------------
def test_without_a_key_every_v1_route_is_401_with_bearer_challenge(api):
    anonymous = api.as_key(None)
    for method, url in (("get", "/v1/documents"), ("get", "/v1/search?q=粉尘"), ("post", "/v1/classify"),
                        ("get", f"/v1/sessions/{uuid.uuid4().hex}"), ("get", "/v1/self-checks?enterprise=甲")):
        response = anonymous.request(method, url, json={"situation": SITUATION})
        assert_problem(response, 401, "缺少 API 密钥")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_wrong_or_malformed_key_is_401(api, keys):
    assert_problem(api.as_key("hz_" + "x" * 43).get("/v1/documents"), 401, "API 密钥无效")
    assert_problem(api.as_key(keys["企业甲"][:-1]).get("/v1/documents"), 401, "API 密钥无效")
    basic = api.get("/v1/documents", headers={"Authorization": f"Basic {keys['企业甲']}"})
    assert_problem(basic, 401, "缺少 API 密钥")


def test_a_revoked_key_is_401_at_once(api, keys, data_dir):
    client = api.as_key(keys["将吊销"])
    assert client.get("/v1/documents").status_code == 200
    db = ChatDatabase(f"sqlite:///{data_dir / 'app.sqlite3'}")
    KeyStore(db.engine).revoke("将吊销")
    db.dispose()
    response = client.get("/v1/documents")
    assert_problem(response, 401, "已被吊销")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_public_routes_need_no_key(api):
    anonymous = api.as_key(None)
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/readyz").status_code == 200
    assert api.client.get("/").status_code == 200
    assert api.client.get("/openapi.json").status_code == 200
    assert api.client.get("/static/app.js").status_code == 200


def test_openapi_declares_the_bearer_scheme_on_v1_routes_only(api):
    spec = api.openapi
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "security" not in spec["paths"]["/healthz"]["get"]
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                assert operation["security"] == [{"ApiKey": []}], path
                assert {"401", "429"} <= set(operation["responses"]), path


# -- 403 --------------------------------------------------------------------------------------------
def test_each_role_is_refused_what_it_may_not_use(api, keys):
    trainer, enterprise, inspector = (api.as_key(keys[n]) for n in ("讲师丁", "企业甲", "执法丙"))
    assert_problem(trainer.post("/v1/classify", json={"situation": SITUATION}), 403, "培训讲师")
    assert_problem(trainer.post("/v1/chat", json={"message": SITUATION}), 403)
    assert_problem(enterprise.post("/v1/quizzes", json={}), 403, "企业")
    assert_problem(inspector.post("/v1/self-checks", json={"enterprise": {"name": "甲"}, "answers": {}}), 403)
    assert_problem(enterprise.post("/v1/paperwork", json={"kind": "record", "situations": [SITUATION]}), 403)
    admin_paths = [p for p in api.openapi["paths"] if p.startswith("/v1/admin/")]
    assert admin_paths, "no admin routes in the app"
    for path in admin_paths:
        for method in api.openapi["paths"][path]:
            url = path.replace("{name}", "x.md")
            for who in (trainer, enterprise, inspector):
                assert_problem(who.request(method, url), 403, "管理员")


def test_each_role_can_use_what_it_is_given(api, keys):
    trainer, enterprise, inspector = (api.as_key(keys[n]) for n in ("讲师丁", "企业甲", "执法丙"))
    for who in (trainer, enterprise, inspector):
        assert who.get("/v1/documents").status_code == 200
        assert who.get("/v1/search", params={"q": "有限空间"}).status_code == 200
        assert who.get("/v1/clauses/gongmao-major-hazard:11:10").status_code == 200
    assert enterprise.post("/v1/classify", json={"situation": SITUATION}).status_code == 200
    assert inspector.post("/v1/classify", json={"situation": SITUATION}).status_code == 200
    assert inspector.get("/v1/checklists", params={"industry": "有色"}).status_code == 200
    quiz = trainer.post("/v1/quizzes", json={"documents": ["gongmao-major-hazard"], "single": 2, "seed": 1})
    assert quiz.status_code == 200, quiz.text


def test_role_table_defaults_to_admin_only():
    assert roles_for("/v1/quizzes/check") == ROUTE_ROLES["/v1/quizzes"]
    assert roles_for("/v1/admin/documents/x") == ("admin",)
    assert roles_for("/v1/something-new") == ("admin",)
    assert roles_for("/v1/quizzes-other") == ("admin",)  # a prefix matches whole segments only


# -- ownership --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def owned(api, keys):
    """What 企业甲 has made: a chat session, a self-check report and a processed ledger."""
    a = api.as_key(keys["企业甲"])
    chat = a.post("/v1/chat", json={"message": SITUATION})
    assert chat.status_code == 200, chat.text
    report = a.post("/v1/self-checks", json={"enterprise": {"name": "某铝业有限公司"}, "profile": PROFILE,
                                             "answers": {}})
    assert report.status_code == 201, report.text
    ledger = a.post("/v1/ledgers", files={"file": ("台账.csv", "隐患描述\n有限空间作业没有监护人\n".encode(), "text/csv")})
    assert ledger.status_code == 201, ledger.text
    return {"session": chat.json()["session_id"], "report": report.json()["id"], "ledger": ledger.json()["id"]}


def test_another_owner_gets_404_for_every_object(api, keys, owned):
    b = api.as_key(keys["企业乙"])
    sid, rid, lid = owned["session"], owned["report"], owned["ledger"]
    assert_problem(b.get(f"/v1/sessions/{sid}"), 404)
    assert_problem(b.delete(f"/v1/sessions/{sid}"), 404)
    assert_problem(b.post("/v1/chat", json={"session_id": sid, "message": "还有别的吗？"}), 404)
    # Streamed, it is the same `error` event (404) as for a session that does not exist.
    streamed = b.post("/v1/chat?stream=true", json={"session_id": sid, "message": "还有别的吗？"})
    missing = b.post("/v1/chat?stream=true", json={"session_id": uuid.uuid4().hex, "message": "还有别的吗？"})
    for response in (streamed, missing):
        assert response.text.startswith("event: error\n") and '"status":404' in response.text, response.text
    assert "event: segment" not in streamed.text
    assert_problem(b.get(f"/v1/self-checks/{rid}"), 404)
    assert_problem(b.get(f"/v1/self-checks/{rid}/export?format=html"), 404)
    assert_problem(b.delete(f"/v1/self-checks/{rid}"), 404)
    assert b.get("/v1/self-checks", params={"enterprise": "某铝业有限公司"}).json() == []
    assert_problem(b.get(f"/v1/ledgers/{lid}"), 404)
    assert_problem(b.get(f"/v1/ledgers/{lid}/file"), 404)
    assert_problem(b.delete(f"/v1/ledgers/{lid}"), 404)
    inspector = api.as_key(keys["执法丙"])
    assert_problem(inspector.post("/v1/paperwork", json={"kind": "record", "self_check_id": rid}), 404)

    # Nothing was changed by those attempts: the owner still has all three, history intact.
    a = api.as_key(keys["企业甲"])
    assert [m["role"] for m in a.get(f"/v1/sessions/{sid}").json()["messages"]] == ["user", "assistant"]
    assert a.get(f"/v1/self-checks/{rid}").status_code == 200
    assert a.get(f"/v1/self-checks/{rid}/export?format=html").status_code == 200
    assert [r["id"] for r in a.get("/v1/self-checks", params={"enterprise": "某铝业有限公司"}).json()] == [rid]
    assert a.get(f"/v1/ledgers/{lid}").status_code == 200
    assert a.get(f"/v1/ledgers/{lid}/file").status_code == 200


def test_someone_elses_id_looks_exactly_like_a_missing_one(api, keys, owned):
    b = api.as_key(keys["企业乙"])
    for url, real in (("/v1/sessions/{}", owned["session"]), ("/v1/self-checks/{}", owned["report"]),
                      ("/v1/ledgers/{}", owned["ledger"])):
        guessed = uuid.uuid4().hex
        foreign = assert_problem(b.get(url.format(real)), 404)
        missing = assert_problem(b.get(url.format(guessed)), 404)
        assert foreign["detail"].replace(real, "ID") == missing["detail"].replace(guessed, "ID")


def test_owners_have_their_own_enterprises_and_admin_sees_only_its_own(api, keys, owned):
    b, admin = api.as_key(keys["企业乙"]), api.as_key(keys["管理员"])
    mine = b.post("/v1/self-checks", json={"enterprise": {"name": "某铝业有限公司"}, "profile": PROFILE,
                                           "answers": {}})
    assert mine.status_code == 201, mine.text  # same enterprise name as 企业甲's, a separate record
    assert [r["id"] for r in b.get("/v1/self-checks", params={"enterprise": "某铝业有限公司"}).json()] == [mine.json()["id"]]
    own = admin.post("/v1/self-checks", json={"enterprise": {"name": "管理员自查"}, "profile": PROFILE, "answers": {}}).json()
    assert [r["id"] for r in admin.get("/v1/self-checks", params={"enterprise": "管理员自查"}).json()] == [own["id"]]
    assert admin.get(f"/v1/self-checks/{own['id']}").status_code == 200
    assert_problem(admin.get(f"/v1/self-checks/{owned['report']}"), 404)
    assert_problem(admin.get(f"/v1/sessions/{owned['session']}"), 404)


def test_the_owner_continues_and_deletes_its_own_objects(api, keys, owned):
    a = api.as_key(keys["企业甲"])
    more = a.post("/v1/chat", json={"session_id": owned["session"], "message": "砖混结构，不是框架"})
    assert more.status_code == 200 and more.json()["session_id"] == owned["session"]
    scratch = a.post("/v1/ledgers", files={"file": ("x.csv", "隐患描述\n配电箱门坏了\n".encode(), "text/csv")}).json()
    assert a.delete(f"/v1/ledgers/{scratch['id']}").status_code == 204
    assert_problem(a.get(f"/v1/ledgers/{scratch['id']}"), 404)
    report = a.post("/v1/self-checks", json={"enterprise": {"name": "临时"}, "profile": PROFILE, "answers": {}}).json()
    assert a.delete(f"/v1/self-checks/{report['id']}").status_code == 204
    assert_problem(a.get(f"/v1/self-checks/{report['id']}"), 404)


# -- the migration of databases from before API keys ------------------------------------------------
OLD_SCHEMA = """
CREATE TABLE chat_sessions (id VARCHAR(32) NOT NULL, created_at DATETIME, updated_at DATETIME, profile JSON,
                            PRIMARY KEY (id));
CREATE TABLE chat_messages (id INTEGER NOT NULL, session_id VARCHAR(32) NOT NULL, seq INTEGER NOT NULL,
    role VARCHAR(16) NOT NULL, text TEXT NOT NULL, kind VARCHAR(16), searched_query TEXT, citations JSON,
    meta JSON, created_at DATETIME, PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES chat_sessions (id) ON DELETE CASCADE);
CREATE TABLE enterprises (id INTEGER NOT NULL, name VARCHAR(200) NOT NULL, code VARCHAR(64), created_at DATETIME,
                          PRIMARY KEY (id));
CREATE UNIQUE INDEX ix_enterprises_name ON enterprises (name);
CREATE TABLE self_check_reports (id VARCHAR(32) NOT NULL, enterprise_id INTEGER NOT NULL, profile JSON,
    answers JSON, report JSON, created_at DATETIME, PRIMARY KEY (id),
    FOREIGN KEY(enterprise_id) REFERENCES enterprises (id) ON DELETE CASCADE);
INSERT INTO chat_sessions VALUES ('0123456789abcdef0123456789abcdef', '2025-01-01 00:00:00', '2025-01-01 00:00:00', '{}');
INSERT INTO chat_messages VALUES (1, '0123456789abcdef0123456789abcdef', 1, 'user', '旧消息', NULL, NULL, '[]', '{}',
                                  '2025-01-01 00:00:00');
INSERT INTO enterprises VALUES (1, '旧单位', NULL, '2025-01-01 00:00:00');
INSERT INTO self_check_reports VALUES ('fedcba9876543210fedcba9876543210', 1, '{}', '{}', '{"summary": "旧"}',
                                       '2025-01-01 00:00:00');
"""


def test_an_old_database_gets_owner_columns_once_and_old_rows_belong_to_local(tmp_path):
    from api.ownership import add_owner_columns
    from api.selfcheck_db import SelfCheckStore, UnknownSelfCheckError

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    db = ChatDatabase(f"sqlite:///{path}")
    try:
        db.create_all()
        assert add_owner_columns(db.engine) == []  # already done: nothing more to do
        db.create_all()
        with sqlite3.connect(path) as conn:
            for table in ("chat_sessions", "enterprises", "self_check_reports"):
                owners = {r[0] for r in conn.execute(f"SELECT owner FROM {table}")}
                assert owners == {"local"}, table
        sid = "0123456789abcdef0123456789abcdef"
        db.check_owner(sid, "local")
        assert [m.text for m in db.messages(sid)] == ["旧消息"]
        assert SelfCheckStore(db.engine).get("fedcba9876543210fedcba9876543210").report == {"summary": "旧"}
        with pytest.raises(UnknownSelfCheckError):
            SelfCheckStore(db.engine, "甲").get("fedcba9876543210fedcba9876543210")
        # Enterprise names are now unique per owner, not across the database.
        SelfCheckStore(db.engine, "甲").save("旧单位", None, {}, {}, {})
        SelfCheckStore(db.engine).save("旧单位", None, {}, {}, {})
        assert len(SelfCheckStore(db.engine).history("旧单位")) == 2
        assert len(SelfCheckStore(db.engine, "甲").history("旧单位")) == 1
    finally:
        db.dispose()


# -- single-user mode -------------------------------------------------------------------------------
def test_single_user_mode_on_loopback_needs_no_key(real_index, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", llm_base_url="")
    assert settings.auth == "auto" and not auth_required(settings)
    with TestClient(create_app(settings, index_loader=lambda s: real_index)) as client:
        api = Contract(client)
        assert api.get("/v1/documents").status_code == 200
        chat = api.post("/v1/chat", json={"message": SITUATION})
        assert chat.status_code == 200
        assert api.get(f"/v1/sessions/{chat.json()['session_id']}").status_code == 200
        assert api.get("/v1/admin/ingest").status_code != 403  # the local user is admin
    # A request arriving over the network still needs a key, whatever started the app.
    with TestClient(create_app(settings, index_loader=lambda s: real_index), client=("203.0.113.7", 40000)) as remote:
        assert_problem(remote.get("/v1/documents"), 401, "缺少 API 密钥")


def test_auth_mode_follows_the_setting_and_the_bind_address():
    def required(auth: str, host: str) -> bool:
        return auth_required(Settings(auth=auth, bind_host=host))

    assert not required("auto", "127.0.0.1") and not required("off", "::1") and not required("auto", "localhost")
    assert required("on", "127.0.0.1")
    assert required("auto", "0.0.0.0") and required("off", "0.0.0.0") and required("auto", "192.168.1.5")
    assert required("auto", "example.org") and required("bogus", "127.0.0.1")
    assert is_loopback("[::1]") and not is_loopback("::")


# -- hazard serve refuses to expose an unguarded API -----------------------------------------------
def run_serve(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    process = subprocess.Popen([str(REPO / ".venv" / "bin" / "hazard"), "serve", *args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # it started after all: stop it and everything it spawned
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_serve_on_all_interfaces_without_keys_refuses_to_start(tmp_path):
    env = {"HAZARD_DATA_DIR": str(tmp_path), "HAZARD_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    result = run_serve(env, "--host", "0.0.0.0", "--port", "0")
    assert result.returncode not in (0, None)
    assert "拒绝启动" in result.stderr and "hazard keys create" in result.stderr
    assert "服务已启动" not in result.stdout

    db = ChatDatabase(env["HAZARD_DATABASE_URL"])
    store = KeyStore(db.engine)
    store.create("只有吊销的", "admin")
    store.revoke("只有吊销的")
    db.dispose()
    assert run_serve(env, "--host", "0.0.0.0", "--port", "0").returncode not in (0, None)
    bad_mode = run_serve({**env, "HAZARD_AUTH": "maybe"}, "--port", "0")
    assert bad_mode.returncode not in (0, None) and "HAZARD_AUTH" in bad_mode.stderr


def test_serve_on_all_interfaces_with_a_key_requires_it(real_index, tmp_path):
    """The real server: bound to 0.0.0.0, so even a loopback client needs the key."""
    import httpx

    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    db = ChatDatabase(url)
    db.create_all()
    key, _ = KeyStore(db.engine).create("执法", "inspector")
    db.dispose()
    env = {**os.environ, "HAZARD_DATA_DIR": str(real_index.path.parent.parent), "HAZARD_DATABASE_URL": url,
           "HAZARD_LLM_BASE_URL": ""}
    process = subprocess.Popen([str(REPO / ".venv" / "bin" / "hazard"), "serve", "--host", "0.0.0.0", "--port", "0"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    try:
        port = None
        for line in process.stdout:  # the announcement comes once the index is loaded
            if match := re.search(r"服务已启动：http://0\.0\.0\.0:(\d+)/", line):
                port = int(match.group(1))
                break
        assert port, "the server did not start"
        base = f"http://127.0.0.1:{port}"
        anonymous = httpx.get(f"{base}/v1/documents", timeout=30)
        assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        keyed = httpx.get(f"{base}/v1/documents", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert keyed.status_code == 200 and keyed.json()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.poll() is not None


# -- rate limits ------------------------------------------------------------------------------------
def test_bucket_refills_at_the_rate_and_says_how_long_to_wait():
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])  # one token every 10 s
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    assert limiter.acquire("a") == 10
    assert limiter.acquire("b") == 0  # each caller has its own bucket
    now[0] = 4.0
    assert limiter.acquire("a") == 6
    now[0] = 10.0
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 10
    now[0] = 1000.0
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 10]  # refills only up to the burst


def test_over_the_limit_is_429_with_retry_after_per_key(real_index, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    db = ChatDatabase(db_url)
    db.create_all()
    store = KeyStore(db.engine)
    first, second = store.create("甲", "inspector")[0], store.create("乙", "inspector")[0]
    db.dispose()
    settings = keyed_settings(tmp_path).model_copy(update={"rate_limit": 60, "rate_burst": 3})
    with TestClient(create_app(settings, index_loader=lambda s: real_index)) as client:
        api = Contract(client)
        a = api.as_key(first)
        assert [a.get("/v1/documents").status_code for _ in range(3)] == [200, 200, 200]
        limited = a.get("/v1/documents")
        assert_problem(limited, 429, "请求过于频繁")
        assert int(limited.headers["retry-after"]) >= 1
        assert api.as_key(second).get("/v1/documents").status_code == 200  # another key is not affected
        assert api.as_key(None).get("/healthz").status_code == 200  # probes are never limited


def test_single_user_mode_limits_per_client_address(real_index, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", rate_limit=60,
                        rate_burst=2)
    app = create_app(settings, index_loader=lambda s: real_index)
    with TestClient(app) as one:
        two = TestClient(app, client=("127.0.0.2", 40000))  # the same running app, another address
        assert [one.get("/v1/documents").status_code for _ in range(3)] == [200, 200, 429]
        assert two.get("/v1/documents").status_code == 200


# -- request limits ---------------------------------------------------------------------------------
def test_every_request_body_is_capped(real_index, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}",
                        max_upload_bytes=200 * 1024, rate_limit=0)
    with TestClient(create_app(settings, index_loader=lambda s: real_index)) as client:
        api = Contract(client)
        posts = [(p, m) for p, ops in api.openapi["paths"].items() for m in ops if m in ("post", "put", "patch")]
        assert len(posts) >= 8
        for path, method in posts:
            url = path.replace("{name}", "x.md")
            body = b"{" + b" " * (300 * 1024) + b"}"  # over both caps
            response = api.request(method, url, content=body, headers={"content-type": "application/json"})
            assert_problem(response, 413, "请求体过大")


def test_message_and_situation_lengths_are_limited(api, keys):
    a = api.as_key(keys["企业甲"])
    assert_problem(a.post("/v1/chat", json={"message": "粉尘" * 2001}), 422, "message")
    assert_problem(a.post("/v1/chat", json={"message": ""}), 422)
    assert_problem(a.post("/v1/classify", json={"situation": "粉" * 20001}), 422)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
