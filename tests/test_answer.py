"""Grounded answers (assistant/answer.py), pure: made-up clauses, no index."""

from __future__ import annotations

import pytest

from assistant.answer import (
    Relevance, clause_subject, compose_answer, extract_deadline, extract_penalty, focus_terms, lead_with_subject,
    referenced_clauses,
)
from assistant.model import Clause, Document
from assistant.retrieval import SearchHit
from assistant.store import ClauseStore

LAW = Document(slug="test-law", title="中华人民共和国测试安全法", short_title="测试安全法", doc_number="主席令第一号",
               status="现行有效")
OLD = Document(slug="test-old", title="测试旧规定", doc_number="测试令第2号", status="已废止")

TEXTS = {
    "test-law:10": "第十条 生产经营单位应当建立隐患排查制度，及时发现并消除事故隐患。事故隐患排查情况应当如实记录。"
                   "其中，重大事故隐患排查情况应当及时向负有安全生产监督管理职责的部门报告。",
    "test-law:20": "第二十条 生产经营单位未采取措施消除事故隐患的，责令立即消除，处五万元以下的罚款；"
                   "生产经营单位拒不执行的，责令停产停业整顿，对其直接负责的主管人员处二万元以上五万元以下的罚款。",
    "test-law:30": "第三十条 使用单位应当在设备投入使用后三十日内，向监督管理部门办理使用登记。",
    "test-law:40": "第四十条 事故发生后，单位负责人接到报告后，应当于1小时内向有关部门报告。",
    "test-old:1": "第一条 为了加强测试管理，制定本规定。",
}


def _clause(cid: str, text: str) -> Clause:
    slug, article = cid.split(":")
    return Clause(clause_id=cid, doc_slug=slug, level="article", article=int(article), text=text)


STORE = ClauseStore({d.slug: d for d in (LAW, OLD)}, {cid: _clause(cid, t) for cid, t in TEXTS.items()})


def hit(cid: str, dense: float | None = 0.9, bm25: float | None = 30.0) -> SearchHit:
    return SearchHit(clause=STORE.clauses[cid], score=0.05, bm25=bm25, dense=dense)


# -- extraction ----------------------------------------------------------------------------------
def test_penalty_range_is_extracted():
    p = extract_penalty("对其直接负责的主管人员处二万元以上五万元以下的罚款；逾期未改正的，责令停产停业整顿")
    assert p.span == "处二万元以上五万元以下的罚款"
    assert (p.low, p.high) == ("二万元", "五万元")


def test_penalty_with_arabic_numbers_and_prefix_words():
    p = extract_penalty("对存在重大事故隐患仍然进行生产的煤矿企业，责令停产整顿，并处50万元以上200万元以下的罚款")
    assert p.span == "处50万元以上200万元以下的罚款"
    assert (p.low, p.high) == ("50万元", "200万元")


def test_penalty_with_upper_bound_only():
    p = extract_penalty("生产经营单位未采取措施消除事故隐患的，责令立即消除，处五万元以下的罚款")
    assert p.span == "处五万元以下的罚款"
    assert (p.low, p.high) == (None, "五万元")


def test_no_penalty_in_a_duty_clause():
    assert extract_penalty("生产经营单位应当及时处理发现的问题，并如实记录") is None
    # "处理" is no penalty even when 罚款 appears further on, in another segment
    assert extract_penalty("应当及时处理；罚款按有关规定执行") is None


@pytest.mark.parametrize("text, expected", [
    ("发现重大隐患应在3个工作日内向派出机构报告", "3个工作日"),
    ("应当于1小时内向有关部门报告", "1小时"),
    ("事故发生后二十四小时内报告", "二十四小时"),
    ("在设备投入使用后三十日内办理使用登记", "三十日"),
    ("自收到通知之日起15天以内整改完毕", "15天"),
])
def test_deadline_is_extracted(text, expected):
    assert extract_deadline(text) == expected


def test_no_deadline_without_a_time_limit():
    assert extract_deadline("自公布之日起施行") is None
    assert extract_deadline("每日检查一次") is None


def test_subject_leads_the_sentence():
    text = TEXTS["test-law:10"]
    assert clause_subject(text) == "生产经营单位"
    assert lead_with_subject("其中，重大事故隐患排查情况应当及时报告", "生产经营单位") == \
        "生产经营单位的重大事故隐患排查情况应当及时报告"
    assert lead_with_subject("应当立即处理", "安全生产管理人员") == "安全生产管理人员应当立即处理"
    # a sentence naming its own actor keeps it
    assert lead_with_subject("监督管理部门应当督促整改", "生产经营单位") == "监督管理部门应当督促整改"


def test_focus_is_what_the_question_asks_about():
    assert "报告" in focus_terms("发现重大事故隐患要向谁报告？")


# -- composing -----------------------------------------------------------------------------------
def test_who_must_report_answers_with_the_matching_sentence_and_its_subject():
    a = compose_answer("生产经营单位发现重大事故隐患要向谁报告？", [hit("test-law:10"), hit("test-law:20")],
                       STORE.citation)
    assert a.found and a.basis == "duty"
    assert a.direct == ("依据《中华人民共和国测试安全法》（主席令第一号）第十条，生产经营单位的重大事故隐患排查情况"
                        "应当及时向负有安全生产监督管理职责的部门报告。")
    assert [c.clause_id for c in a.citations] == ["test-law:10", "test-law:20"]
    assert a.citations[0] == STORE.citation("test-law:10")
    assert f"“{TEXTS['test-law:10']}”" in a.text


def test_penalty_question_quotes_the_fine_from_a_top_clause():
    a = compose_answer("不消除事故隐患罚多少？", [hit("test-law:10"), hit("test-law:20")], STORE.citation)
    assert a.basis == "penalty"
    assert "处五万元以下的罚款" in a.direct and "处二万元以上五万元以下的罚款" in a.direct
    assert a.direct.startswith("依据《中华人民共和国测试安全法》（主席令第一号）第二十条")
    assert a.citations[0].clause_id == "test-law:20"  # the clause the answer rests on comes first


def test_deadline_question_gives_the_time_limit():
    a = compose_answer("设备投入使用后多久要办理使用登记？", [hit("test-law:30"), hit("test-law:40")], STORE.citation)
    assert a.basis == "deadline"
    assert "三十日内" in a.direct and "（时限：三十日内）" in a.direct
    assert a.direct.startswith("依据《中华人民共和国测试安全法》（主席令第一号）第三十条，使用单位应当")


def test_document_answer_flags_a_document_not_in_force():
    a = compose_answer("测试管理", [hit("test-old:1")], STORE.citation)
    assert a.basis == "document"
    assert "已废止" in a.direct


def test_every_generated_sentence_comes_from_the_clauses():
    a = compose_answer("生产经营单位发现重大事故隐患要向谁报告？", [hit("test-law:10")], STORE.citation)
    body = a.direct.split("，", 1)[1].rstrip("。")
    assert body.removeprefix("生产经营单位的") in TEXTS["test-law:10"]


# -- nothing relevant ------------------------------------------------------------------------------
def test_below_threshold_there_is_no_answer():
    weak = [hit("test-law:10", dense=0.85, bm25=14.0), hit("test-law:20", dense=None, bm25=19.0)]
    a = compose_answer("今天天气怎么样", weak, STORE.citation)
    assert not a.found and a.citations == [] and a.basis == "none"
    assert "没有检索到" in a.text and "换一种说法" in a.text
    assert "今天天气怎么样" in a.text


def test_no_hits_means_no_answer():
    assert not compose_answer("随便问问", [], STORE.citation).found


def test_thresholds_per_signal():
    r = Relevance()
    assert r.relevant(hit("test-law:10", dense=0.87, bm25=None))
    assert not r.relevant(hit("test-law:10", dense=0.86, bm25=25.0))
    assert r.relevant(hit("test-law:10", dense=None, bm25=45.0))  # strong lexical match alone
    # BM25-only indexes have no dense score: the BM25 threshold decides
    assert r.relevant(hit("test-law:10", dense=None, bm25=25.0), dense_available=False)
    assert not r.relevant(hit("test-law:10", dense=None, bm25=15.0), dense_available=False)


def test_irrelevant_hits_are_not_quoted():
    a = compose_answer("重大事故隐患向谁报告", [hit("test-law:10"), hit("test-law:20", dense=0.80, bm25=5.0)],
                       STORE.citation)
    assert [c.clause_id for c in a.citations] == ["test-law:10"]


# -- explicit references ---------------------------------------------------------------------------
def test_named_article_is_found_directly():
    assert referenced_clauses("测试安全法第二十条", STORE) == ["test-law:20"]
    assert referenced_clauses("《中华人民共和国测试安全法》第三十条怎么规定的", STORE) == ["test-law:30"]
    assert referenced_clauses("第二十条", STORE) == []  # no document named
    assert referenced_clauses("测试安全法第九十九条", STORE) == []  # no such article


def test_a_bare_reference_shows_the_article():
    a = compose_answer("测试安全法第二十条", [], STORE.citation, pinned=["test-law:20"])
    assert a.found and a.citations[0].clause_id == "test-law:20"
    assert a.direct == "以下是《中华人民共和国测试安全法》（主席令第一号）第二十条的原文。"
