"""The `hazard` CLI's JSON contracts (other tools rely on them) over the real index."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api import settings as settings_module
from api.cli import main

pytestmark = pytest.mark.corpus


@pytest.fixture
def run(real_index, monkeypatch):
    monkeypatch.setenv("HAZARD_DATA_DIR", str(real_index.path.parent.parent))
    settings_module.get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    yield invoke
    settings_module.get_settings.cache_clear()


def test_docs_json_lists_every_document_with_contract_fields(run, corpus_dir):
    result = run("docs", "--json")
    assert result.exit_code == 0
    docs = json.loads(result.output)
    stems = {p.stem for sub in ("laws", "standards") for p in (corpus_dir / sub).glob("*.md")}
    assert {d["slug"] for d in docs} == stems
    for d in docs:
        assert {"slug", "title", "doc_number", "status", "effective", "clause_count"} <= set(d)
    by_slug = {d["slug"]: d for d in docs}
    assert by_slug["gongmao-major-hazard"]["clause_count"] == 79
    assert by_slug["fire-major-hazard"]["metadata_only"] is True
    assert by_slug["fire-major-hazard"]["status"] == "现行有效"


def test_clause_json_gives_official_text_citation_and_document(run):
    result = run("clause", "gongmao-major-hazard:11:10", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["text"] == "（十）未落实粉尘清理制度，造成作业现场积尘严重的。"
    assert data["citation"] == "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条第（十）项"
    assert data["parent_id"] == "gongmao-major-hazard:11"
    assert data["document"]["doc_number"] == "应急管理部令第10号"


def test_unknown_clause_id_exits_non_zero_with_chinese_message(run):
    result = CliRunner().invoke(main, ["clause", "gongmao-major-hazard:99:1", "--json"])
    assert result.exit_code != 0
    assert "未找到条款" in result.output


def test_search_json_is_a_ranked_list_with_contract_fields(run):
    result = run("search", "有限空间作业没有监护人", "-k", "3", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert len(rows) == 3
    for row in rows:
        assert {"clause_id", "citation", "score", "quote"} <= set(row)
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    assert all("监护" in r["quote"] for r in rows)


def test_search_with_document_filter(run):
    rows = json.loads(run("search", "监护", "--document", "construction-major-hazard", "--json").output)
    assert rows and {r["clause_id"].split(":")[0] for r in rows} == {"construction-major-hazard"}


def test_empty_search_is_refused(run):
    result = CliRunner().invoke(main, ["search", "  "])
    assert result.exit_code != 0 and "为空" in result.output
