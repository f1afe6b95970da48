"""Classification over the real corpus: team-set floors, citation integrity, annotation coverage."""

from __future__ import annotations

import pytest

from api.contracts import decision_json
from api.services import build_classifier
from assistant.criteria import criterion_clauses
from eval.classify import below_floors, evaluate, load_situations
from eval.retrieval import load_floors
from ingest.annotations import load_annotations

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def classifier(real_index):
    return build_classifier(real_index)


@pytest.fixture(scope="module")
def report(classifier):
    return evaluate(classifier, load_situations())


def test_team_situation_set_meets_the_recorded_floors(report):
    assert below_floors(report, load_floors()) == []


def test_blind_situation_set_meets_its_recorded_floors(classifier):
    blind = evaluate(classifier, load_situations(set_name="classify_blind"))
    assert below_floors(blind, load_floors(), "classify_blind") == []


def test_every_citation_resolves_and_quotes_the_official_text(classifier):
    store = classifier.store
    for item in load_situations():
        data = decision_json(classifier, classifier.classify(item["situation"], _profile(item)))
        for c in data["criteria"] + [c for f in data["findings"] for c in f["criteria"]]:
            clause = store.clause(c["clause_id"])
            assert c["quote"] == clause.text, c["clause_id"]
            assert c["citation"] == store.citation(c["clause_id"]).citation


def _profile(item):
    from assistant.classifier import Profile

    return Profile(item.get("industry") or "")


def test_every_criterion_has_an_annotation_and_every_annotation_a_criterion(real_index):
    annotations, scopes = load_annotations()
    criteria = {c.clause_id for c in criterion_clauses(real_index.store)}
    assert set(annotations) - criteria == set()
    assert criteria - set(annotations) == set()
    assert all(key in real_index.store.clauses for key in scopes)


def test_annotation_examples_behave_as_written(real_index):
    from eval.annotation_check import check

    annotations, scopes = load_annotations()
    assert check(real_index.store, annotations, scopes) == []


def test_metadata_only_standard_is_named_not_guessed(classifier):
    decision = classifier.classify("商场的疏散通道被锁死了，消防设施也停用了")
    assert decision.label == "insufficient"
    assert "GB 35181-2025" in decision.explanation and "未收录" in decision.explanation


def test_a_non_coal_mine_is_not_a_coal_mine(real_index):
    from api.services import build_classifier

    industries, _ = build_classifier(real_index).infer_scope("非煤矿山的运人车超员了")
    assert "煤矿" not in industries and "金属非金属矿山" in industries


def test_a_broken_fire_alarm_goes_to_the_fire_standard_not_gongmao_article_14(real_index):
    from api.services import build_classifier

    d = build_classifier(real_index).classify("养老院的火灾自动报警系统一直故障没修")
    assert d.label == "insufficient"
    assert "GB 35181" in d.explanation
    assert all(m.criterion.clause_id != "gongmao-major-hazard:14" for f in d.findings for m in f.matched)


def test_portable_fire_equipment_alone_is_general_and_names_the_fire_standard(classifier):
    d = classifier.classify("仓库的灭火器过期了三个月没换")
    assert d.label == "general"
    assert "重大火灾隐患判定规则" in d.explanation and "未收录" in d.explanation


def test_portable_equipment_does_not_hide_a_blocked_exit(classifier):
    d = classifier.classify("商场疏散通道被货架堵死了，灭火器也过期了")
    assert d.label == "insufficient" and "GB 35181" in d.explanation


def test_a_defect_of_something_the_criteria_speak_of_is_a_finding(classifier):
    # No criterion is near and no generic hazard word is used, but 交接班/皮带 are workplace words.
    for situation in ("班组的交接班记录没填", "空压机的皮带罩松了"):
        assert classifier.classify(situation).label == "general", situation


def test_a_workplace_word_without_a_defect_is_no_finding(classifier):
    for chat in ("中午食堂有没有红烧肉", "快递三天没动", "我家猫不吃饭"):
        assert classifier.classify(chat).label == "out_of_scope", chat


def test_a_guessed_defect_is_asked_about_and_a_confirmed_one_decides(classifier):
    guessed = classifier.classify("仓库那台叉车刹车不太灵")
    assert guessed.label == "insufficient" and guessed.findings[0].questions
    assert guessed.findings[0].nearest[0].criterion.clause_id == "special-equipment-major-hazard:4.10:c"
    confirmed = classifier.classify("仓库那台叉车刹车不太灵，试车时确实刹不住")
    assert confirmed.label == "major"


def test_a_crowded_places_exit_goes_to_the_fire_standard_a_mines_does_not(classifier):
    crowded = classifier.classify("网吧营业的时候后面那个疏散门用铁链锁着")
    assert crowded.label == "insufficient" and "GB 35181" in crowded.explanation
    mine = classifier.classify("采煤工作面只有一个安全出口，另一个冒顶堵了")
    assert mine.label == "major" and "GB 35181" not in mine.explanation


def test_an_emergency_shower_is_no_fire_sprinkler(classifier):
    d = classifier.classify("冷库氨机房门口的应急喷淋水压不够")
    assert d.label == "general" and "GB 35181" not in d.explanation


def test_not_seeing_something_is_asked_about_not_taken_as_missing(classifier):
    assert classifier.classify("布袋除尘器上没看到泄爆片，是铝粉的").label == "insufficient"
    assert classifier.classify("铝粉布袋除尘器没有泄爆片").label == "major"


def test_a_trade_quantity_named_without_trade_or_figure_asks_for_both(classifier):
    d = classifier.classify("今年产量超核定能力了")
    assert d.label == "insufficient"
    questions = d.findings[0].questions
    assert "煤矿" in questions[0] and any("百分之多少" in q for q in questions[1:])
