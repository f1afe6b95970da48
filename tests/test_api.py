"""The HTTP API over the real index: routes, problem+json errors, and the OpenAPI contract."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.app import create_app
from api.contracts import decision_json
from api.settings import Settings
from assistant.classifier import LABEL_ZH, Profile

pytestmark = pytest.mark.corpus

PROBLEM = "application/problem+json"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def app(real_index):
    return create_app(Settings(data_dir=real_index.path.parent.parent))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:  # the context manager runs the lifespan, which loads the index
        yield c


@pytest.fixture
def no_index_client(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        yield c


def assert_problem(response, status: int, detail_part: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert HAN.search(body["detail"]), body["detail"]
    assert detail_part in body["detail"]
    return body


# -- happy paths ---------------------------------------------------------------------------
def test_healthz_and_readyz_report_the_loaded_index(client, real_index):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["generation"] == real_index.generation
    assert ready["documents"] == len(real_index.store.documents)
    assert ready["clauses"] == len(real_index.store.clauses)


def test_documents_lists_every_document_like_the_cli(client, real_index):
    docs = client.get("/v1/documents").json()
    assert {d["slug"] for d in docs} == set(real_index.store.documents)
    by_slug = {d["slug"]: d for d in docs}
    assert by_slug["gongmao-major-hazard"]["clause_count"] == 79
    assert by_slug["fire-major-hazard"]["metadata_only"] is True
    roles = [d["role"] == "criteria" for d in docs]
    assert roles == sorted(roles, reverse=True)  # criteria standards first


def test_clause_gives_text_citation_and_hierarchy(client):
    data = client.get("/v1/clauses/gongmao-major-hazard:11:10").json()
    assert data["text"] == "（十）未落实粉尘清理制度，造成作业现场积尘严重的。"
    assert data["citation"] == "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条第（十）项"
    assert (data["article"], data["item"], data["sub_item"]) == (11, 10, None)
    assert data["parent"]["clause_id"] == "gongmao-major-hazard:11"
    assert data["parent"]["citation"].endswith("第十一条")
    assert len(data["siblings"]) == 9
    assert "gongmao-major-hazard:11:10" not in {s["clause_id"] for s in data["siblings"]}
    assert data["children"] == []
    assert data["document"]["doc_number"] == "应急管理部令第10号"


def test_article_lists_its_items_as_children(client):
    data = client.get("/v1/clauses/gongmao-major-hazard:11").json()
    assert data["parent"] is None
    assert "gongmao-major-hazard:11:10" in {c["clause_id"] for c in data["children"]}


def test_gb_clause_keeps_string_numbering(client):
    data = client.get("/v1/clauses/special-equipment-major-hazard:4.3:b").json()
    assert (data["article"], data["item"]) == ("4.3", "b")
    assert data["parent"]["clause_id"] == "special-equipment-major-hazard:4.3"


def test_search_ranks_clauses_with_contract_fields(client):
    data = client.get("/v1/search", params={"q": "有限空间作业没有监护人", "k": 3}).json()
    assert data["query"] == "有限空间作业没有监护人"
    assert 1 <= len(data["results"]) <= 3
    first = data["results"][0]
    assert {"clause_id", "citation", "score", "quote", "document_title", "doc_number", "status",
            "bm25", "dense"} <= set(first)
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_document_filter_keeps_only_that_document(client):
    data = client.get("/v1/search", params={"q": "有限空间作业没有监护人", "document": "construction-major-hazard"}).json()
    assert data["results"]
    assert all(r["clause_id"].startswith("construction-major-hazard:") for r in data["results"])


def test_search_filters_repeat(client):
    params = [("q", "粉尘爆炸"), ("document", "gongmao-major-hazard"), ("document", "dust-explosion-rules"),
              ("status", "现行有效"), ("k", "50")]
    data = client.get("/v1/search", params=params).json()
    slugs = {r["clause_id"].split(":")[0] for r in data["results"]}
    assert slugs and slugs <= {"gongmao-major-hazard", "dust-explosion-rules"}
    assert all(r["status"].startswith("现行有效") for r in data["results"])


def test_classify_returns_the_cli_json_contract(client, app):
    response = client.post("/v1/classify", json={"situation": "车间通道堆放杂物"})
    assert response.status_code == 200
    data = response.json()
    assert data["label"] in LABEL_ZH
    classifier = app.state.hazard.classifier
    expected = decision_json(classifier, classifier.classify("车间通道堆放杂物"))
    assert data == json.loads(json.dumps(expected, ensure_ascii=False))


def test_classify_passes_the_profile(client, app):
    body = {"situation": "粉尘涉爆车间未落实粉尘清理制度，作业现场积尘严重",
            "profile": {"industry": "机械", "domains": ["粉尘涉爆"]}}
    data = client.post("/v1/classify", json=body).json()
    classifier = app.state.hazard.classifier
    expected = decision_json(classifier, classifier.classify(body["situation"], Profile("机械", ("粉尘涉爆",))))
    assert data == json.loads(json.dumps(expected, ensure_ascii=False))
    assert data["label"] == "major"


def test_index_is_loaded_once_at_startup(real_index):
    loads = []

    def loader(settings):
        loads.append(settings)
        return real_index

    with TestClient(create_app(Settings(data_dir=real_index.path.parent.parent), index_loader=loader)) as c:
        for _ in range(3):
            assert c.get("/v1/documents").status_code == 200
        assert c.post("/v1/classify", json={"situation": "有限空间作业无人监护"}).status_code == 200
    assert len(loads) == 1


# -- errors --------------------------------------------------------------------------------
def test_unknown_clause_is_404_problem(client):
    assert_problem(client.get("/v1/clauses/gongmao-major-hazard:99:1"), 404, "未找到条款")


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_query_is_422_problem(client, q):
    assert_problem(client.get("/v1/search", params={"q": q}), 422)


def test_missing_query_is_422_problem(client):
    body = assert_problem(client.get("/v1/search"), 422, "q")
    assert body["invalid_params"] == [{"name": "q", "reason": "缺失（必填）"}]


@pytest.mark.parametrize("k", [0, 51, "ten"])
def test_k_out_of_bounds_is_422_problem(client, k):
    assert_problem(client.get("/v1/search", params={"q": "粉尘", "k": k}), 422, "k")


def test_empty_situation_is_422_problem(client):
    assert_problem(client.post("/v1/classify", json={"situation": "  "}), 422, "情形描述为空")


def test_situation_over_the_classifier_limit_is_422_problem(client):
    # 20001 characters fit in the 64 KiB body, so the classifier's own limit answers.
    assert_problem(client.post("/v1/classify", json={"situation": "有" * 20001}), 422, "情形描述过长")


def test_malformed_classify_body_is_422_problem(client):
    assert_problem(client.post("/v1/classify", content=b"{not json", headers={"content-type": "application/json"}),
                   422, "JSON")
    assert_problem(client.post("/v1/classify", json={"text": "车间通道堆放杂物"}), 422, "situation")


def test_oversized_body_is_413_problem(client):
    assert_problem(client.post("/v1/classify", json={"situation": "粉尘" * 20000}), 413, "64 KiB")


def test_oversized_streamed_body_is_413_problem(client):
    chunks = (b" " * 8192 for _ in range(10))  # no Content-Length: counted as it arrives
    assert_problem(client.post("/v1/classify", content=chunks, headers={"content-type": "application/json"}), 413)


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/v1/no-such-thing"), 404, "/v1/no-such-thing")


def test_wrong_method_is_405_problem(client):
    response = client.delete("/v1/documents")
    assert_problem(response, 405, "DELETE")
    assert response.headers["allow"] == "GET"


def test_unexpected_error_is_500_problem_without_traceback(real_index):
    class Exploding:
        def search(self, *args, **kwargs):
            raise RuntimeError("secret internals")

    broken = dataclasses.replace(real_index, retriever=Exploding())
    app = create_app(Settings(data_dir=real_index.path.parent.parent), index_loader=lambda s: broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/v1/search", params={"q": "粉尘"})
    body = assert_problem(response, 500, "服务器内部错误")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["detail"] == "服务器内部错误"


def test_without_index_the_app_starts_but_is_not_ready(no_index_client):
    assert no_index_client.get("/healthz").json() == {"status": "ok"}
    assert_problem(no_index_client.get("/readyz"), 503, "索引尚未建立")
    assert_problem(no_index_client.get("/v1/documents"), 503, "索引尚未建立")
    assert_problem(no_index_client.get("/v1/search", params={"q": "粉尘"}), 503, "索引尚未建立")
    assert_problem(no_index_client.post("/v1/classify", json={"situation": "车间通道堆放杂物"}), 503, "索引尚未建立")


# -- the OpenAPI document is the contract --------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: str
    url: str
    path: str | None  # the OpenAPI path template; None: no route, so the Problem schema applies
    status: int
    kwargs: dict = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url[:60]} → {self.status}"


CALLS = [
    Call("get", "/healthz", "/healthz", 200),
    Call("get", "/readyz", "/readyz", 200),
    Call("get", "/v1/documents", "/v1/documents", 200),
    Call("get", "/v1/clauses/gongmao-major-hazard:11:10", "/v1/clauses/{clause_id}", 200),
    Call("get", "/v1/clauses/special-equipment-major-hazard:4.3:b", "/v1/clauses/{clause_id}", 200),
    Call("get", "/v1/clauses/gongmao-major-hazard:99:1", "/v1/clauses/{clause_id}", 404),
    Call("get", "/v1/search?q=有限空间作业没有监护人&document=construction-major-hazard", "/v1/search", 200),
    Call("get", "/v1/search?q=粉尘爆炸&k=50&status=现行有效&industry=冶金", "/v1/search", 200),
    Call("get", "/v1/search?q=", "/v1/search", 422),
    Call("get", "/v1/search?q=%20", "/v1/search", 422),
    Call("get", "/v1/search?q=粉尘&k=51", "/v1/search", 422),
    Call("post", "/v1/classify", "/v1/classify", 200, {"json": {"situation": "车间通道堆放杂物"}}),
    Call("post", "/v1/classify", "/v1/classify", 200,
         {"json": {"situation": "1. 有限空间作业没有监护人；2. 配电箱门坏了", "industry": "机械"}}),
    Call("post", "/v1/classify", "/v1/classify", 422, {"json": {"situation": ""}}),
    Call("post", "/v1/classify", "/v1/classify", 422, {"json": {}}),
    Call("post", "/v1/classify", "/v1/classify", 413, {"json": {"situation": "粉尘" * 20000}}),
    Call("get", "/v1/no-such-thing", None, 404),
    Call("delete", "/v1/documents", None, 405),
]

NO_INDEX_CALLS = [
    Call("get", "/healthz", "/healthz", 200),
    Call("get", "/readyz", "/readyz", 503),
    Call("get", "/v1/documents", "/v1/documents", 503),
    Call("get", "/v1/clauses/gongmao-major-hazard:11:10", "/v1/clauses/{clause_id}", 503),
    Call("get", "/v1/search?q=粉尘", "/v1/search", 503),
    Call("post", "/v1/classify", "/v1/classify", 503, {"json": {"situation": "车间通道堆放杂物"}}),
]


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validate_against_openapi(openapi: dict, call: Call, response) -> None:
    """The body must match the schema the OpenAPI document declares for this path, method,
    status and media type; statuses and media types that are not declared fail."""
    assert response.status_code == call.status, response.text
    media_type = response.headers["content-type"].split(";")[0]
    if call.path is None:
        assert media_type == PROBLEM
        pointer = _pointer("components", "schemas", "Problem")
    else:
        responses = openapi["paths"][call.path][call.method]["responses"]
        assert str(call.status) in responses, f"{call}: status not declared"
        assert media_type in responses[str(call.status)].get("content", {}), f"{call}: {media_type} not declared"
        pointer = _pointer("paths", call.path, call.method, "responses", str(call.status), "content", media_type,
                           "schema")
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(openapi, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:openapi#/{pointer}"}, registry=registry)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, f"{call}: {errors[:5]}"


@pytest.fixture(scope="module")
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


@pytest.mark.parametrize("call", CALLS, ids=str)
def test_response_matches_the_openapi_document(client, openapi, call):
    validate_against_openapi(openapi, call, client.request(call.method, call.url, **call.kwargs))


@pytest.mark.parametrize("call", NO_INDEX_CALLS, ids=str)
def test_no_index_response_matches_the_openapi_document(no_index_client, call):
    openapi = no_index_client.get("/openapi.json").json()
    validate_against_openapi(openapi, call, no_index_client.request(call.method, call.url, **call.kwargs))


def test_every_route_documents_its_problem_responses(openapi):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            for status, declared in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(declared["content"]) == [PROBLEM], (path, method, status)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_validator_rejects_a_body_that_breaks_the_contract(openapi):
    class Fake:
        status_code = 200
        headers = {"content-type": "application/json"}

        def json(self):
            return {"query": "x", "results": [{"clause_id": 1}]}

    with pytest.raises(AssertionError):
        validate_against_openapi(openapi, Call("get", "/v1/search?q=x", "/v1/search", 200), Fake())
