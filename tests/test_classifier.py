"""The classifier on a small made-up standard: decisions, negation, thresholds, exclusions, inputs."""

from __future__ import annotations

import pytest

from assistant.classifier import (GENERAL, INSUFFICIENT, MAJOR, OUT_OF_SCOPE, Classifier, InputError, Profile,
                                  split_findings)
from assistant.criteria import build_registry, criterion_clauses
from assistant.lexical import BM25Index, Tokenizer
from assistant.model import Document
from assistant.retrieval import Retriever
from assistant.store import ClauseStore
from ingest.structure import body_lines, structure

STANDARD = """
第一条 为了测试，制定本标准。
第二条 测试企业有下列情形之一的，应当判定为重大事故隐患：
（一）粉尘作业场所设置在非框架结构的多层建筑内的；
（二）干式除尘系统未采取泄爆、惰化、抑爆等任一种爆炸防控措施的；
（三）冷冻间内作业人员数量超过9人的；
（四）熔炼炉未设置应急储存设施的（倾动式熔炼炉除外）。
第三条 其他严重违反安全生产法律法规的，应当判定为重大事故隐患。
"""

DEFINITION = "第三条 本规定所称安全生产事故隐患，是指违反安全生产法律法规的物的危险状态、人的不安全行为和管理上的缺陷。"

ANNOTATIONS = {
    "test-std:2:1": {"alternatives": [{"when": "粉尘场所在非框架多层建筑", "require": [
        {"fact": "存在粉尘作业场所", "terms": ["粉尘", "打磨", "抛光"]},
        {"fact": "建筑为多层", "terms": ["多层", "二楼", "楼上"], "contra": ["单层"], "ask": "建筑是单层还是多层？"},
        {"fact": "建筑为非框架结构", "terms": ["非框架", "砖混"], "contra": ["框架结构"], "ask": "该建筑是否为框架结构？"}]}]},
    "test-std:2:2": {"alternatives": [{"when": "干式除尘无爆炸防控措施", "require": [
        {"fact": "干式除尘系统", "terms": ["干式除尘", "除尘器"], "contra": ["湿式除尘"]},
        {"fact": "未采取泄爆惰化抑爆措施", "kind": "missing", "terms": ["泄爆", "惰化", "抑爆", "隔爆"],
         "ask": "除尘系统是否采取了泄爆、隔爆、惰化、抑爆等任一种爆炸防控措施？"}]}]},
    "test-std:2:3": {"alternatives": [{"when": "冷冻间作业人员超过9人", "require": [
        {"fact": "冷冻间作业", "terms": ["冷冻间", "速冻间"]},
        {"fact": "作业人员超过9人", "kind": "number", "terms": ["人"], "op": ">", "value": 9, "unit": "人",
         "ask": "冷冻间内同时作业的有多少人？"}]}]},
    "test-std:2:4": {"alternatives": [{"when": "熔炼炉无应急储存设施", "except": ["倾动式"], "require": [
        {"fact": "熔炼炉", "terms": ["熔炼炉"]},
        {"fact": "未设置应急储存设施", "kind": "missing", "terms": ["应急储存", "事故坑"]}]}]},
    "test-std:3": {"catch_all": True, "alternatives": []},
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    body = structure("test-std", body_lines(STANDARD))
    defs = structure("hazard-investigation-rules", body_lines(DEFINITION))
    docs = {
        "test-std": Document(slug="test-std", title="测试行业重大事故隐患判定标准", doc_number="测试令第1号",
                             role="criteria", industries=("测试",), clause_count=len(body.clauses)),
        "hazard-investigation-rules": Document(slug="hazard-investigation-rules", title="安全生产事故隐患排查治理暂行规定",
                                               clause_count=len(defs.clauses)),
    }
    store = ClauseStore(docs, {c.clause_id: c for c in body.clauses + defs.clauses})
    tok = Tokenizer()
    ids = store.ordered_ids()
    bm25 = BM25Index.build(ids, [tok.tokens(store.index_text(store.clauses[c])) for c in ids])
    registry = build_registry(store, ANNOTATIONS, {})
    return Classifier(store, registry, Retriever(store, bm25, tok), {"industries": {"测试": ["测试企业"]}, "general_industries": ["测试"]})


def test_registry_takes_leaves_of_determination_articles_only(classifier):
    ids = {c.clause_id for c in criterion_clauses(classifier.store)}
    assert ids == {"test-std:2:1", "test-std:2:2", "test-std:2:3", "test-std:2:4", "test-std:3"}


def test_all_conditions_met_is_major_with_citation_and_evidence(classifier):
    d = classifier.classify("车间二楼做打磨，楼是砖混的，不是框架结构")
    assert d.label == MAJOR
    match = d.findings[0].matched[0]
    assert match.criterion.clause_id == "test-std:2:1"
    assert "第二条第（一）项" in d.explanation and "砖混" in d.explanation


def test_contradicted_condition_is_general_with_the_differing_fact(classifier):
    d = classifier.classify("二楼打磨车间，是框架结构的")
    assert d.label == GENERAL
    top = d.findings[0].nearest[0]
    assert top.criterion.clause_id == "test-std:2:1"
    assert [e.condition.fact for e in top.best.contradicted] == ["建筑为非框架结构"]
    assert "安全生产事故隐患排查治理暂行规定" in d.explanation


def test_unknown_deciding_fact_asks_a_follow_up_question(classifier):
    d = classifier.classify("打磨车间在二楼")
    assert d.label == INSUFFICIENT
    assert d.questions == ["该建筑是否为框架结构？"]


def test_negated_measure_is_major_and_present_measure_is_not(classifier):
    assert classifier.classify("除尘器是干式的，泄爆片、隔爆阀啥都没有").label == MAJOR
    assert classifier.classify("布袋除尘器装了泄爆片").label == GENERAL


def test_threshold_is_compared_with_the_stated_number(classifier):
    assert classifier.classify("速冻间里同时有12个人在干活").label == MAJOR
    assert classifier.classify("速冻间里同时有6个人在干活").label == GENERAL
    assert classifier.classify("速冻间里人挺多的").label == INSUFFICIENT


def test_exclusion_written_in_the_clause_is_respected(classifier):
    assert classifier.classify("熔炼炉没有应急储存设施").label == MAJOR
    d = classifier.classify("倾动式熔炼炉没有应急储存设施")
    assert d.label == GENERAL and "除外" in d.explanation


def test_catch_all_clause_is_never_matched(classifier):
    d = classifier.classify("其他严重违反安全生产法律法规")
    assert all(m.criterion.clause_id != "test-std:3" for f in d.findings for m in f.matched)


def test_several_findings_in_one_message_are_judged_separately(classifier):
    d = classifier.classify("1. 除尘器没有任何泄爆措施；2. 车间通道堆放杂物；3. 今天食堂的饭不错")
    assert [f.label for f in d.findings][:2] == [MAJOR, GENERAL]
    assert d.label == MAJOR and len(d.findings) == 3


def test_split_findings_keeps_a_single_description_whole():
    assert split_findings("打磨车间在二楼，楼是砖混的") == ["打磨车间在二楼，楼是砖混的"]
    assert split_findings("①叉车无证驾驶②灭火器过期") == ["叉车无证驾驶", "灭火器过期"]


def test_not_a_safety_description_is_out_of_scope(classifier):
    assert classifier.classify("今天天气很好").label == OUT_OF_SCOPE
    assert classifier.classify("hello, how are you?").label == OUT_OF_SCOPE


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "x" * 20001])
def test_empty_or_oversized_input_is_a_clear_error(classifier, bad):
    with pytest.raises(InputError) as exc:
        classifier.classify(bad)
    assert "情形描述" in str(exc.value)


def test_twenty_thousand_characters_are_accepted(classifier):
    text = ("车间通道堆放杂物。" * 2300)[:20000]
    assert classifier.classify(text).label in (GENERAL, INSUFFICIENT)


def test_emoji_control_characters_and_traditional_script_do_not_break_it(classifier):
    d = classifier.classify("除塵器(chén)是乾式的\u0007，洩爆片啥都沒有😱")
    assert d.label == MAJOR


def test_profile_industry_is_carried_into_the_finding(classifier):
    d = classifier.classify("除尘器没有泄爆", Profile(industry="测试"))
    assert "测试" in d.findings[0].industries


def test_equipment_out_of_service_is_general_with_the_matching_criterion(classifier):
    d = classifier.classify("熔炼炉没有设置应急储存设施，炉子停产大修中")
    assert d.label == GENERAL
    f = d.findings[0]
    assert f.nearest and f.nearest[0].criterion.clause_id == "test-std:2:4"
    assert "停产大修" in f.explanation and "恢复使用" in f.explanation


def test_out_of_service_words_do_not_count_when_it_is_still_used(classifier):
    assert classifier.classify("熔炼炉没有设置应急储存设施，挂了禁用牌但还在用").label == MAJOR


def test_a_spoken_approximate_number_over_the_threshold_is_major(classifier):
    assert classifier.classify("冷冻间里有十几个人在干活").label == MAJOR


def test_an_estimate_instead_of_a_finding_asks_for_the_deciding_fact(classifier):
    assert classifier.classify("干式除尘器老旧").label == GENERAL
    d = classifier.classify("干式除尘器看着有点问题")
    assert d.label == INSUFFICIENT
    assert any("泄爆" in q for q in d.questions)


@pytest.fixture(scope="module")
def trade_classifier(classifier) -> Classifier:
    """The same standard, written for a trade that needs evidence ("特行"), not a general one."""
    from dataclasses import replace

    store = classifier.store
    docs = dict(store.documents)
    docs["test-std"] = replace(docs["test-std"], industries=("特行",))
    store = ClauseStore(docs, store.clauses)
    registry = build_registry(store, ANNOTATIONS, {"test-std": {"industries": ["特行"]}})
    return Classifier(store, registry, classifier.retriever,
                      {"industries": {"特行": ["特行企业"], "测试": ["测试企业"]}, "general_industries": ["测试"]})


def test_a_trade_criterion_met_without_naming_the_trade_is_major_and_asks_the_trade(trade_classifier):
    d = trade_classifier.classify("冷冻间内同时有12个人在作业")
    assert d.label == MAJOR
    assert d.findings[0].matched[0].criterion.clause_id == "test-std:2:3"
    assert any("特行" in q for q in d.questions)


def test_another_trade_named_keeps_the_trade_criterion_out(trade_classifier):
    assert trade_classifier.classify("测试企业的冷冻间内同时有12个人在作业").label != MAJOR
