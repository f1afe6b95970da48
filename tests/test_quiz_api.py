"""The quiz routes (/v1/quizzes, /v1/quizzes/export) and the `hazard quiz` command over the real index."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api import settings as settings_module
from api.app import create_app
from api.cli import main
from api.settings import Settings

pytestmark = pytest.mark.corpus

PROBLEM = "application/problem+json"
HAN = re.compile(r"[\u4e00-\u9fff]")
BODY = {"documents": ["gongmao-major-hazard", "work-safety-law"], "single": 3, "multiple": 2, "judge": 3, "fill": 3,
        "difficulty": "medium", "seed": 11}


@pytest.fixture(scope="module")
def client(real_index):
    with TestClient(create_app(Settings(data_dir=real_index.path.parent.parent))) as c:
        yield c


@pytest.fixture(scope="module")
def quiz(client):
    response = client.post("/v1/quizzes", json=BODY)
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response, detail_part: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert HAN.search(response.json()["detail"]) and detail_part in response.json()["detail"], response.json()


def test_create_quiz_returns_validated_questions_with_id_and_seed(client, quiz):
    assert quiz["seed"] == 11 and quiz["id"].startswith("quiz-")
    assert quiz["requested"] == {"single": 3, "multiple": 2, "judge": 3, "fill": 3} == quiz["produced"]
    assert [q["type"] for q in quiz["questions"]] == ["single"] * 3 + ["multiple"] * 2 + ["judge"] * 3 + ["fill"] * 3
    for q in quiz["questions"]:
        assert q["citations"] and q["explanation"] and q["answer"]
    again = client.post("/v1/quizzes", json=BODY).json()
    assert again == quiz  # regenerate: same request and seed, same quiz


def test_quiz_without_seed_gets_one_that_reproduces_it(client):
    body = {**BODY, "seed": None}
    first = client.post("/v1/quizzes", json=body).json()
    assert isinstance(first["seed"], int)
    assert client.post("/v1/quizzes", json={**BODY, "seed": first["seed"]}).json()["questions"] == first["questions"]


@pytest.mark.parametrize("change, detail", [
    ({"documents": ["no-such-doc"]}, "未知文档"),
    ({"documents": [], "industries": ["航天"]}, "未知行业"),
    ({"single": 0, "multiple": 0, "judge": 0, "fill": 0}, "数量为0"),
    ({"single": 201}, "应不大于200"),
    ({"single": 150, "fill": 100}, "超过上限"),
    ({"difficulty": "impossible"}, "difficulty"),
])
def test_bad_quiz_requests_are_422_in_chinese(client, change, detail):
    assert_problem(client.post("/v1/quizzes", json={**BODY, **change}), detail)


@pytest.mark.parametrize("fmt, media", [
    ("markdown", "text/markdown"), ("json", "application/json"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_export_gives_a_file_with_content_type_and_utf8_name(client, quiz, fmt, media):
    response = client.post(f"/v1/quizzes/export?format={fmt}", json=quiz)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("隐患判定测验-") and quiz["id"] in name
    if fmt == "xlsx":
        from openpyxl import load_workbook

        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        assert rows[0][:2] == ("题型", "题干") and len(rows) == len(quiz["questions"]) + 1
    if fmt == "docx":
        from docx import Document

        text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
        assert "参考答案与解析" in text
    if fmt == "json":
        assert json.loads(response.content)["questions"] == quiz["questions"]


def test_export_revalidates_a_tampered_quiz(client, quiz):
    tampered = json.loads(json.dumps(quiz))
    single = tampered["questions"][0]
    keyed = single["answer"]
    wrong = next(letter for letter in single["options"] if letter != keyed)
    single["answer"] = wrong  # the key now points at a wrong option
    assert_problem(client.post("/v1/quizzes/export?format=docx", json=tampered), "未通过条款库校验")
    forged = json.loads(json.dumps(quiz))
    forged["questions"][-1]["citations"][0]["quote"] = "伪造的条文"
    assert_problem(client.post("/v1/quizzes/export?format=xlsx", json=forged), "不一致")


def test_export_takes_a_full_size_quiz(client):
    big = client.post("/v1/quizzes", json={"single": 80, "multiple": 40, "judge": 40, "fill": 40, "seed": 3}).json()
    assert sum(big["produced"].values()) >= 195
    assert len(json.dumps(big, ensure_ascii=False).encode("utf-8")) > 64 * 1024  # above the ordinary body cap
    response = client.post("/v1/quizzes/export?format=xlsx", json=big)
    assert response.status_code == 200, response.text


# -- CLI ---------------------------------------------------------------------------------------------
@pytest.fixture
def run(real_index, monkeypatch):
    monkeypatch.setenv("HAZARD_DATA_DIR", str(real_index.path.parent.parent))
    settings_module.get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
    settings_module.get_settings.cache_clear()


def test_cli_quiz_json_matches_the_api(run, quiz):
    result = run("quiz", "--document", "gongmao-major-hazard", "--document", "work-safety-law", "--single", "3",
                 "--multiple", "2", "--judge", "3", "--fill", "3", "--seed", "11")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["questions"] == quiz["questions"]


def test_cli_quiz_writes_docx_and_refuses_bad_input(run, tmp_path):
    out = tmp_path / "paper.docx"
    result = run("quiz", "--industry", "冶金", "--single", "2", "--judge", "2", "--format", "docx", "--out", str(out))
    assert result.exit_code == 0, result.output
    from docx import Document

    assert "参考答案与解析" in "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert [p.name for p in tmp_path.iterdir()] == ["paper.docx"]  # no temporary file left behind
    bad = run("quiz", "--document", "no-such-doc", "--single", "2")
    assert bad.exit_code == 2 and "未知文档" in bad.stderr
    assert run("quiz", "--single", "2", "--format", "xlsx").exit_code == 2
