"""Answer-key checking: pure behaviour on made-up clauses, then `hazard answer` (CLI), POST
/v1/quizzes/check and the evaluation floors over the real corpus."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from assistant.answering import (
    AnswerChecker,
    Question,
    QuestionError,
    align,
    find_references,
    parse_question,
    skeleton,
)
from assistant.lexical import BM25Index, Tokenizer
from assistant.model import Clause, Document
from assistant.retrieval import Retriever
from assistant.store import ClauseStore

# -- a small made-up corpus -----------------------------------------------------------------------
LAW = Document(slug="demo-law", title="示例安全法", short_title="示例安全法", doc_number="示例令第1号",
               kind="法律", status="现行有效", effective="2024-01-01", role="law")
STANDARD = Document(slug="demo-standard", title="示例行业重大事故隐患判定标准", doc_number="示例令第2号",
                    kind="部门规章", status="现行有效", effective="2024-05-01", role="criteria",
                    replaces=("示例行业重大事故隐患判定标准（2015版）",))
NAMED_ONLY = Document(slug="demo-rules", title="示例仓储安全规则", doc_number="GB 99999-2030",
                      kind="国家标准", status="现行有效", role="criteria")


def _clause(doc, article, text, item=None, lead_in="", parent=None, order=0):
    cid = f"{doc.slug}:{article}" + (f":{item}" if item is not None else "")
    return Clause(clause_id=cid, doc_slug=doc.slug, level="item" if item else "article", article=article,
                  item=item, text=text, lead_in=lead_in, parent_id=parent, order=order)


LEAD = "仓储企业有下列情形之一的，应当判定为重大事故隐患："
CLAUSES = [
    _clause(LAW, 3, "第三条 单位负责人接到事故报告后，应当于1小时内向当地应急管理部门报告。", order=1),
    _clause(LAW, 4, "第四条 生产经营单位必须为从业人员缴纳工伤保险费。", order=2),
    _clause(LAW, 5, "第五条 发生一般事故的，处三十万元以上一百万元以下的罚款。", order=3),
    _clause(LAW, 6, "第六条 一般事故，是指造成3人以上10人以下重伤的事故。", order=4),
    _clause(STANDARD, 3, f"第三条 {LEAD}\n（一）货架区设置在非框架结构的多层建筑内的；\n"
            "（二）叉车充电区未设置固定式氢气浓度监测报警装置的；\n（三）冷库内作业人员超过9人的。", order=1),
    _clause(STANDARD, 3, "（一）货架区设置在非框架结构的多层建筑内的；", 1, LEAD, "demo-standard:3", 2),
    _clause(STANDARD, 3, "（二）叉车充电区未设置固定式氢气浓度监测报警装置的；", 2, LEAD, "demo-standard:3", 3),
    _clause(STANDARD, 3, "（三）冷库内作业人员超过9人的。", 3, LEAD, "demo-standard:3", 4),
    _clause(STANDARD, 9, "第九条 本标准自2024年5月1日起施行。《示例行业重大事故隐患判定标准（2015版）》同时废止。", order=5),
]


@pytest.fixture(scope="module")
def checker() -> AnswerChecker:
    docs = {d.slug: d for d in (LAW, STANDARD, NAMED_ONLY)}
    docs = {s: Document(**{**d.__dict__, "clause_count": sum(c.doc_slug == s for c in CLAUSES)}) for s, d in docs.items()}
    store = ClauseStore(docs, {c.clause_id: c for c in CLAUSES})
    tokenizer = Tokenizer()
    bm25 = BM25Index.build([c.clause_id for c in CLAUSES], [tokenizer.tokens(store.index_text(c)) for c in CLAUSES])
    retriever = Retriever(store, bm25, tokenizer)
    return AnswerChecker(store, lambda q, k, f: retriever.search(q, k=k, filters=f))


def judge(text: str, key=None) -> Question:
    return parse_question({"id": "q", "type": "judge", "question": text, **({"answer": key} if key is not None else {})})


def test_skeleton_folds_numerals_width_and_function_words():
    assert skeleton("处三十万元以上一百万元以下的罚款") == skeleton("处30万元以上100万元以下罚款")
    assert skeleton("上一年年收入百分之四十") == skeleton("上1年年收入40%")
    assert skeleton("应当设置") == skeleton("必须设置")
    assert "一般" in skeleton("一般事故")  # 一 is a numeral only before a unit


def test_verbatim_statement_is_true_and_cites_its_clause(checker):
    result = checker.answer(judge("单位负责人接到事故报告后，应当于1小时内向当地应急管理部门报告。"))
    assert result.answer is True
    assert [c.clause_id for c in result.citations] == ["demo-law:3"]
    assert result.citations[0].quote == CLAUSES[0].text


def test_a_different_number_makes_the_statement_false(checker):
    result = checker.answer(judge("单位负责人接到事故报告后，应当于2小时内向当地应急管理部门报告。"))
    assert result.answer is False
    assert result.citations[0].clause_id == "demo-law:3"
    assert "数值不同" in result.note


def test_a_dropped_negation_makes_a_criterion_false(checker):
    result = checker.answer(judge("仓储企业货架区设置在框架结构的多层建筑内的，应当判定为重大事故隐患。"))
    assert result.answer is False
    assert result.citations[0].clause_id == "demo-standard:3:1"


def test_a_permission_where_the_clause_obliges_is_false(checker):
    result = checker.answer(judge("生产经营单位可以根据经营状况决定是否为从业人员缴纳工伤保险费。"))
    assert result.answer is False


def test_nothing_relevant_gives_null_with_a_note(checker):
    result = checker.answer(judge("灭火器压力表指针在绿区表示压力正常。"))
    assert result.answer is None
    assert result.citations == []
    assert "语料不能确定" in result.note


def test_single_choice_fills_the_blank_with_the_supported_option(checker):
    q = parse_question({"id": 1, "type": "single", "question": "冷库内作业人员超过（ ）人的，应当判定为重大事故隐患。",
                        "options": {"A": "5", "B": "9", "C": "10", "D": "15"}})
    result = checker.answer(q)
    assert result.answer == "B"
    assert result.citations[0].clause_id == "demo-standard:3:3"
    assert 0.5 <= result.confidence <= 1


def test_multiple_choice_keeps_every_supported_option_and_drops_flipped_ones(checker):
    q = parse_question({"id": 2, "type": "multiple",
                        "question": "依据《示例行业重大事故隐患判定标准》，仓储企业有下列情形之一的，应当判定为重大事故隐患（ ）。",
                        "options": {"A": "货架区设置在非框架结构的多层建筑内",
                                    "B": "叉车充电区未设置固定式氢气浓度监测报警装置",
                                    "C": "叉车充电区设置了固定式氢气浓度监测报警装置",
                                    "D": "冷库内作业人员超过9人"}, "answer": ["A", "B", "D"]})
    result = checker.answer(q)
    assert result.answer == ["A", "B", "D"]
    assert result.agrees_with_key is True
    assert {c.clause_id for c in result.citations} == {"demo-standard:3:1", "demo-standard:3:2", "demo-standard:3:3"}


def test_a_number_inside_the_clauses_range_is_supported(checker):
    q = parse_question({"id": 3, "type": "single", "question": "造成5人重伤的事故属于（ ）。",
                        "options": {"A": "一般事故", "B": "较大事故"}})
    assert align(skeleton("造成5人重伤"), skeleton("是指造成3人以上10人以下重伤的事故")).contradictions == ()
    assert checker.answer(q).answer == "A"


def test_an_outdated_key_is_flagged_with_the_current_text(checker):
    q = parse_question({"id": 4, "type": "single", "question": "发生一般事故的，处（ ）的罚款。",
                        "options": {"A": "二十万元以上五十万元以下", "B": "三十万元以上一百万元以下"}, "answer": "A"})
    result = checker.answer(q)
    assert result.answer == "B"
    assert result.agrees_with_key is False
    assert "所给答案与现行条文不一致" in result.note and "旧文本" in result.note
    assert "示例安全法" in result.note


def test_a_superseded_standard_is_named_and_its_claim_to_be_current_is_false(checker):
    refs = find_references("依据《示例行业重大事故隐患判定标准（2015版）》", checker.store)
    assert refs.superseded == (("示例行业重大事故隐患判定标准（2015版）", "demo-standard"),)
    result = checker.answer(judge("判定仓储企业重大事故隐患，现行依据是《示例行业重大事故隐患判定标准（2015版）》。", True))
    assert result.answer is False
    assert result.agrees_with_key is False
    assert "已被《示例行业重大事故隐患判定标准》（示例令第2号）替代" in result.note
    assert result.citations[0].clause_id == "demo-standard:9"


def test_a_document_known_only_by_name_gives_null(checker):
    result = checker.answer(judge("依据GB 99999-2030《示例仓储安全规则》，货架高度超过8米应判定为重大事故隐患。"))
    assert result.answer is None
    assert "示例仓储安全规则" in result.note and "目录信息" in result.note


def test_no_key_means_no_agreement_field(checker):
    assert checker.answer(judge("生产经营单位必须为从业人员缴纳工伤保险费。")).agrees_with_key is None


@pytest.mark.parametrize("raw, message", [
    ({"id": 1, "type": "essay", "question": "x"}, "题型"),
    ({"id": 1, "type": "single", "question": "x（ ）"}, "选项"),
    ({"id": 1, "type": "judge"}, "题干"),
    ({"id": 1, "type": "single", "question": "x", "options": {"A": "a", "B": "b"}, "answer": "E"}, "不存在的选项"),
    ({"id": 1, "type": "judge", "question": "x", "answer": "也许"}, "true 或 false"),
    ("not an object", "JSON对象"),
])
def test_unreadable_questions_raise_a_chinese_error(raw, message):
    with pytest.raises(QuestionError, match=message):
        parse_question(raw)


def test_keys_are_read_in_the_usual_forms():
    assert parse_question({"id": 1, "type": "multiple", "question": "x", "options": {"A": "a", "B": "b", "C": "c"},
                           "answer": "CA"}).key == ("A", "C")
    assert parse_question({"id": 1, "type": "judge", "question": "x", "answer": "错误"}).key is False


# -- the real corpus: CLI, API, evaluation -----------------------------------------------------------
corpus = pytest.mark.corpus


@pytest.fixture
def run(real_index, monkeypatch):
    from api import settings as settings_module
    from api.cli import main

    monkeypatch.setenv("HAZARD_DATA_DIR", str(real_index.path.parent.parent))
    settings_module.get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
    settings_module.get_settings.cache_clear()


@corpus
def test_cli_jsonl_answers_every_line_in_order_and_keeps_bad_lines(run, tmp_path):
    lines = [
        json.dumps({"id": "law", "type": "single", "question": "生产经营单位的主要负责人是本单位安全生产（ ），对本单位的安全生产工作全面负责。",
                    "options": {"A": "第一责任人", "B": "直接责任人", "C": "监督人", "D": "协调人"}, "answer": "B"},
                   ensure_ascii=False),
        "{not json",
        json.dumps({"id": "no-options", "type": "single", "question": "题干（ ）"}, ensure_ascii=False),
        json.dumps({"id": "judge", "type": "judge",
                    "question": "单位负责人接到事故报告后，应当于2小时内向事故发生地县级以上人民政府安全生产监督管理部门报告。"},
                   ensure_ascii=False),
    ]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines), encoding="utf-8")
    result = run("answer", "--jsonl", str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["law", None, "no-options", "judge"]
    assert rows[0]["answer"] == "A" and rows[0]["agrees_with_key"] is False
    assert rows[0]["citations"][0]["clause_id"] == "work-safety-law:5"
    assert set(rows[0]["citations"][0]) == {"clause_id", "citation", "document_title", "doc_number", "article",
                                            "item", "sub_item", "quote"}
    assert rows[1]["answer"] is None and "第2行" in rows[1]["note"] and "JSON" in rows[1]["note"]
    assert rows[2]["answer"] is None and "选项" in rows[2]["note"]
    assert rows[3]["answer"] is False and rows[3]["citations"][0]["clause_id"] == "accident-reporting-regulations:9"
    assert "agrees_with_key" not in rows[3]
    assert not list(tmp_path.glob(".out.jsonl.*")), "no temporary file is left behind"


@corpus
def test_cli_single_question_prints_answer_and_citation(run):
    result = run("answer", "煤矿重大事故隐患包括下列（ ）个方面。", "--option", "A=15", "--option", "B=17",
                 "--answer", "A", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "B" and data["agrees_with_key"] is False
    assert data["citations"][0]["clause_id"] == "coal-major-hazard:3"
    text = run("answer", "安全生产工作坚持安全第一、预防为主、综合治理的方针。")
    assert "答案：正确" in text.output and "第三条" in text.output


@corpus
def test_cli_without_question_fails_in_chinese(run):
    result = CliRunner().invoke(__import__("api.cli", fromlist=["main"]).main, ["answer"])
    assert result.exit_code != 0
    assert "请提供题干" in result.output


@pytest.fixture(scope="module")
def client(real_index, tmp_path_factory):
    from apps import make_app

    app = make_app(real_index, f"sqlite:///{tmp_path_factory.mktemp('db') / 'chat.sqlite3'}")
    with TestClient(app) as c:
        yield c


@corpus
def test_api_checks_a_batch_like_the_cli(client):
    from test_api import Call, validate_against_openapi

    body = {"questions": [
        {"id": 7, "type": "judge", "question": "特种设备使用单位应当在特种设备投入使用前或者投入使用后六十日内办理使用登记。",
         "answer": True},
        {"id": "x", "type": "multiple", "question": "无选项的多选题"},
    ]}
    response = client.post("/v1/quizzes/check", json=body)
    validate_against_openapi(client.get("/openapi.json").json(),
                             Call("post", "/v1/quizzes/check", "/v1/quizzes/check", 200), response)
    results = response.json()["results"]
    assert [r["id"] for r in results] == [7, "x"]
    assert results[0]["answer"] is False and results[0]["agrees_with_key"] is False
    assert results[0]["citations"][0]["clause_id"] == "special-equipment-law:33"
    assert results[1]["answer"] is None and "选项" in results[1]["note"]


@corpus
def test_api_refuses_more_than_200_questions_with_a_chinese_problem(client):
    from test_api import assert_problem

    many = [{"id": i, "type": "judge", "question": "安全生产工作坚持安全第一的方针。"} for i in range(201)]
    assert_problem(client.post("/v1/quizzes/check", json={"questions": many}), 422, "至多核对200题")
    assert_problem(client.post("/v1/quizzes/check", json={"questions": []}), 422)


@corpus
def test_eval_harness_meets_the_floors(real_index):
    from api.services import build_answer_checker
    from eval.answer import below_floors, evaluate, load_items
    from eval.retrieval import load_floors

    floors = load_floors()
    assert floors.get("answer"), "eval/floors.json has answer floors"
    report = evaluate(build_answer_checker(real_index), load_items())
    assert report["questions"] >= 110
    assert below_floors(report, floors) == [], report["all"]


@corpus
def test_answer_set_passes_its_checker(real_index, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    listing = tmp_path / "clauses.jsonl"
    listing.write_text("".join(json.dumps({"clause_id": c.clause_id, "text": c.text}, ensure_ascii=False) + "\n"
                               for c in real_index.store.clauses.values()), encoding="utf-8")
    checker_script = Path(__file__).resolve().parents[1] / "eval" / "check_answer_set.py"
    result = subprocess.run([sys.executable, str(checker_script), str(listing)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "OK: all checks passed" in result.stdout
