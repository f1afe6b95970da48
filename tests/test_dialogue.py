"""Routing a conversation turn (assistant/dialogue.py), pure: made-up turns, a stand-in classifier."""

from __future__ import annotations

import pytest

from assistant.classifier import InputError
from assistant.dialogue import (
    CLARIFY, CLASSIFY, QUESTION_THREAD, REFUSE, RETRIEVE, SITUATION, Turn, as_statement, follow_up_content,
    merge_reply, pending_follow_up, route,
)

SITUATION_TEXT = "车间二楼做木制品打磨"
QUESTIONS = ("该建筑是否为框架结构？", "除尘系统是干式（布袋、滤筒、旋风）还是湿式？")


def label_of(text: str) -> str:
    """Stand-in for the classifier: anything about a workplace is in scope."""
    return "out_of_scope" if not any(w in text for w in ("车间", "作业", "配电", "通道", "监护", "设备")) else "general"


def never_called(text: str) -> str:
    raise AssertionError("the classifier should not be needed")


def pending_history() -> list[Turn]:
    return [
        Turn("user", SITUATION_TEXT),
        Turn("assistant", "判定：需补充信息。", "classification", query=SITUATION_TEXT, topic=SITUATION_TEXT,
             thread=SITUATION, label="insufficient", questions=QUESTIONS, clause_ids=("std:11:1",)),
    ]


def answered_history() -> list[Turn]:
    q = "生产经营单位发现重大事故隐患要向谁报告？"
    return [
        Turn("user", q),
        Turn("assistant", "依据……", "answer", query=q, topic=q, thread=QUESTION_THREAD, clause_ids=("law:41", "law:46")),
    ]


# -- first messages -------------------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    "生产经营单位发现重大事故隐患要向谁报告？",
    "重大事故隐患不整改罚多少",
    "有限空间作业要不要设监护人",
    "安全生产法第四十一条",
    "粉尘防爆有哪些规定",
])
def test_questions_about_the_law_are_answered(message):
    r = route(message, [], label_of)
    assert r.action == RETRIEVE and r.query == message and r.thread == QUESTION_THREAD


@pytest.mark.parametrize("message", ["车间二楼做木制品打磨", "有限空间作业没有监护人", "配电箱门坏了，线头裸露"])
def test_situations_are_classified(message):
    r = route(message, [], label_of)
    assert r.action == CLASSIFY and r.query == message and r.thread == SITUATION


def test_a_determination_question_is_classified():
    r = route("车间通道堆放杂物算不算重大隐患？", [], label_of)
    assert r.action == CLASSIFY


def test_a_state_the_classifier_calls_out_of_scope_is_no_situation():
    r = route("湖水没有结冰", [], label_of)
    assert r.action == RETRIEVE  # left to retrieval, which finds nothing relevant


@pytest.mark.parametrize("message", ["今天天气怎么样", "你好", "帮我推荐一部电影", "湖人昨天赢了没有？",
                                     "淘宝双十一有什么优惠", "谢谢"])
def test_out_of_domain_messages_are_refused(message):
    assert route(message, [], never_called).action == REFUSE


def test_a_safety_word_keeps_a_weather_question_in_scope():
    r = route("大风天气能不能进行高处作业？", [], label_of)
    assert r.action == RETRIEVE


def test_blank_message_is_an_input_error():
    with pytest.raises(InputError):
        route("   ", [], label_of)


# -- answering a pending follow-up question -----------------------------------------------------------
def test_pending_follow_up_is_the_last_insufficient_classification():
    assert pending_follow_up(pending_history()) is not None
    assert pending_follow_up(answered_history()) is None
    done = pending_history() + [Turn("user", "x"), Turn("assistant", "判定：重大事故隐患。", "classification",
                                                        query="x", label="major")]
    assert pending_follow_up(done) is None


def test_reply_to_the_pending_question_is_merged_and_classified_again():
    r = route("砖混结构，不是框架", pending_history(), never_called)
    assert r.action == CLASSIFY
    assert r.query == "车间二楼做木制品打磨，砖混结构，不是框架"
    assert r.topic == SITUATION_TEXT


@pytest.mark.parametrize("reply, merged", [
    ("不是", "车间二楼做木制品打磨，该建筑不是框架结构"),
    ("是的", "车间二楼做木制品打磨，该建筑是框架结构"),
    ("30人", "车间二楼做木制品打磨，30人"),
    ("干式的，布袋除尘", "车间二楼做木制品打磨，干式的，布袋除尘"),
])
def test_short_replies_are_merged(reply, merged):
    r = route(reply, pending_history(), never_called)
    assert (r.action, r.query) == (CLASSIFY, merged)


def test_a_question_while_a_follow_up_is_pending_is_not_merged():
    r = route("什么是框架结构？", pending_history(), label_of)
    assert r.action == RETRIEVE and r.query == "什么是框架结构？"


def test_merge_never_splits_the_situation_into_findings():
    assert "；" not in merge_reply("车间打磨；", "砖混；不是框架", QUESTIONS)


@pytest.mark.parametrize("reply, question, statement", [
    ("不是", "该建筑是否为框架结构？", "该建筑不是框架结构"),
    ("是", "该建筑是否为框架结构？", "该建筑是框架结构"),
    ("没有", "现场是否有监护人？", "现场没有监护人"),
    ("没有", "干式除尘系统是否设置了锁气卸灰装置？", "干式除尘系统未设置锁气卸灰装置"),
    ("砖混结构", "该建筑是否为框架结构？", "砖混结构"),
])
def test_yes_no_becomes_a_statement(reply, question, statement):
    assert as_statement(reply, question) == statement


# -- follow-ups rewritten with the context -----------------------------------------------------------------
@pytest.mark.parametrize("message, content", [
    ("还有别的吗？", ""), ("还有吗", ""), ("其他的呢？", ""), ("有没有其他的", ""),
    ("那如果是单层钢结构厂房呢？", "单层钢结构厂房"), ("电力企业呢？", "电力企业"), ("那罚多少呢？", "罚多少"),
    ("生产经营单位发现重大事故隐患要向谁报告呢？", None), ("车间二楼做木制品打磨", None),
])
def test_follow_up_content(message, content):
    assert follow_up_content(message) == content


def test_more_please_repeats_the_previous_search_without_what_was_shown():
    r = route("还有别的吗？", answered_history(), never_called)
    assert r.action == RETRIEVE
    assert r.query == "生产经营单位发现重大事故隐患要向谁报告？"
    assert r.exclude == ("law:41", "law:46")


def test_what_if_on_a_question_rewrites_the_question():
    r = route("那如果是电力企业呢？", answered_history(), never_called)
    assert r.action == RETRIEVE
    assert r.query == "生产经营单位发现重大事故隐患要向谁报告（电力企业）"


def test_what_if_on_a_situation_classifies_the_original_situation_with_the_new_condition():
    history = pending_history() + [
        Turn("user", "砖混结构，不是框架"),
        Turn("assistant", "判定：重大事故隐患。", "classification", query="车间二楼做木制品打磨，砖混结构，不是框架",
             topic=SITUATION_TEXT, thread=SITUATION, label="major", clause_ids=("std:11:1",)),
    ]
    r = route("那如果是单层钢结构厂房呢？", history, never_called)
    assert r.action == CLASSIFY
    assert r.query == "车间二楼做木制品打磨，单层钢结构厂房"
    more = route("还有别的吗？", history, never_called)
    assert more.action == RETRIEVE and more.query == "车间二楼做木制品打磨，砖混结构，不是框架"
    assert more.exclude == ("std:11:1",)


def test_a_question_on_a_situation_is_answered_from_the_clauses():
    history = pending_history()[:1] + [Turn("assistant", "判定：重大事故隐患。", "classification", query=SITUATION_TEXT,
                                            topic=SITUATION_TEXT, thread=SITUATION, label="major")]
    r = route("那罚多少呢？", history, never_called)
    assert r.action == RETRIEVE and r.query == "车间二楼做木制品打磨，罚多少"


def test_a_follow_up_without_context_asks_for_more():
    assert route("还有别的吗？", [], never_called).action == CLARIFY
    refused = [Turn("user", "你好"), Turn("assistant", "抱歉……", "refusal", query="你好")]
    assert route("还有别的吗？", refused, never_called).action == CLARIFY


# -- further facts after a classification, elliptical questions ------------------------------------
def classified_history(label: str = "general") -> list[Turn]:
    return [
        Turn("user", "熔炼炉旁没做应急排放坑"),
        Turn("assistant", "判定：一般事故隐患。", "classification", query="熔炼炉旁没做应急排放坑",
             topic="熔炼炉旁没做应急排放坑", thread=SITUATION, label=label, clause_ids=("std:5:3",)),
    ]


@pytest.mark.parametrize("fact", ["是机械厂的铸造车间", "也没有设置紧急泄放设施", "人没撤出来"])
def test_a_further_fact_is_added_to_the_classified_situation(fact):
    r = route(fact, classified_history(), lambda text: "general")
    assert r.action == CLASSIFY
    assert r.query == f"熔炼炉旁没做应急排放坑，{fact}"
    assert r.thread == SITUATION and r.topic == "熔炼炉旁没做应急排放坑"


def test_a_complete_major_hazard_after_a_classification_stands_alone():
    new = "有限空间作业现场没有监护人"
    r = route(new, classified_history(), lambda text: "major" if text == new else "general")
    assert r.action == CLASSIFY and r.query == new


def test_an_additive_cue_keeps_even_a_major_fact_with_the_situation():
    r = route("也没有监护人", classified_history(), lambda text: "major")
    assert r.query == "熔炼炉旁没做应急排放坑，也没有监护人"


def test_nothing_is_added_to_an_out_of_scope_turn():
    history = classified_history("out_of_scope")
    assert route("是机械厂的铸造车间", history, lambda text: "general").query == "是机械厂的铸造车间"


@pytest.mark.parametrize("question", ["罚多少？", "不买罚多少？", "瞒报了怎么罚？", "没做预案怎么处罚？"])
def test_an_elliptical_question_is_asked_about_the_previous_topic(question):
    r = route(question, answered_history(), never_called)
    assert r.action == RETRIEVE
    assert r.query.startswith("生产经营单位发现重大事故隐患要向谁报告")
    assert r.query != "生产经营单位发现重大事故隐患要向谁报告？"


@pytest.mark.parametrize("question", ["什么是框架结构？", "特种作业人员要持证吗？", "有限空间作业要先干什么？"])
def test_a_question_naming_its_subject_stands_alone(question):
    r = route(question, answered_history(), never_called)
    assert r.action == RETRIEVE and r.query == question


def test_a_statement_the_classifier_finds_major_is_classified_without_a_state_cue():
    r = route("煤矿一路电源供电", [], lambda text: "major")
    assert r.action == CLASSIFY and r.thread == SITUATION


def test_a_topic_phrase_the_classifier_finds_only_general_is_answered():
    r = route("粉尘防爆规定", [], lambda text: "general")
    assert r.action == RETRIEVE


def test_a_short_question_after_an_answer_prefers_the_documents_it_cited():
    r = route("监护人能不能走开？", answered_history(), never_called)
    assert r.action == RETRIEVE and r.query == "监护人能不能走开？"
    assert r.prefer == ("law",)


def test_a_long_question_or_a_first_question_prefers_nothing():
    assert route("监护人能不能走开？", [], never_called).prefer == ()
    long_question = "生产经营单位进行有限空间作业时，监护人员在作业期间能不能离开作业现场去做别的事情？"
    assert route(long_question, answered_history(), never_called).prefer == ()
