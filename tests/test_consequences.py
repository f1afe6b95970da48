"""Legal consequences: the team's table against the real store, and the rules on a made-up store."""

from __future__ import annotations

import pytest

from api.services import build_classifier, consequence_rules
from assistant.consequences import (
    ENFORCEMENT,
    OBLIGATION,
    PENALTY,
    RETRIEVED_NOTE,
    SANCTION,
    ConsequenceRules,
    consequences_for,
    obligations_for,
)
from assistant.model import Clause, Document
from assistant.store import ClauseStore


def tiny_store() -> ClauseStore:
    law = Document("law", "某法", kind="法律", status="现行有效", role="law", clause_count=2)
    clauses = {
        "law:1": Clause("law:1", "law", "article", 1, text="第一条 单位应当消除事故隐患。"),
        "law:2": Clause("law:2", "law", "article", 2, text="第二条 未消除事故隐患的，处罚款。"),
    }
    return ClauseStore({"law": law}, clauses)


RULES = ConsequenceRules.from_data({
    "default": [{"clause": "law:1", "role": "duty"},
                {"clause": "law:2", "role": "penalty", "severity": "major", "note": "罚款"}],
    "obligations": {"std:3": ["law:1"]},
})


def test_major_only_rules_are_left_out_for_a_general_hazard():
    store = tiny_store()
    assert [c.role for c in consequences_for(RULES, store, None, major=True)] == ["duty", PENALTY]
    assert [c.role for c in consequences_for(RULES, store, None, major=False)] == ["duty"]


def test_quotes_come_from_the_store():
    [duty, penalty] = consequences_for(RULES, tiny_store(), None)
    assert duty.citation.quote == "第一条 单位应当消除事故隐患。"
    assert penalty.citation.citation == "《某法》第二条"


def test_an_article_entry_covers_its_items():
    assert RULES.curated_obligations("std:3:4") == ("law:1",)
    assert RULES.curated_obligations("std:4:1") == ()


def test_unknown_role_is_refused():
    with pytest.raises(ValueError):
        ConsequenceRules.from_data({"default": [{"clause": "law:1", "role": "fine"}]})


# -- the real table over the real store -------------------------------------------------------


@pytest.fixture(scope="module")
def classifier(real_index):
    return build_classifier(real_index)


@pytest.mark.corpus
def test_every_clause_in_the_table_resolves(real_index):
    missing = sorted(consequence_rules().clause_ids() - set(real_index.store.clauses))
    assert missing == []


@pytest.mark.corpus
def test_penalty_clauses_name_a_fine_and_sanctions_a_closure_or_shutdown(real_index):
    rules = consequence_rules()
    penalties = [r for r in rules.all_rules() if r.role == PENALTY]
    sanctions = [r for r in rules.all_rules() if r.role == SANCTION]
    assert penalties and sanctions
    for r in penalties:
        assert "罚款" in real_index.store.clause(r.clause_id).text, r.clause_id
    for r in sanctions:
        text = real_index.store.clause(r.clause_id).text
        assert "关闭" in text or "停产" in text, r.clause_id


@pytest.mark.corpus
def test_duty_clause_is_the_work_safety_law_article_on_hazard_elimination(real_index):
    duties = [r for r in consequence_rules().default if r.role == "duty"]
    text = real_index.store.clause(duties[0].clause_id).text
    assert "排查治理" in text and "消除事故隐患" in text


@pytest.mark.corpus
def test_a_coal_hazard_adds_the_coal_regulations(classifier):
    criterion = classifier.registry.get("coal-major-hazard:5:6")
    ids = {c.citation.clause_id for c in consequences_for(consequence_rules(), classifier.store, criterion)}
    assert {"work-safety-law:102", "coal-mine-safety-regulations:64"} <= ids
    gongmao = classifier.registry.get("gongmao-major-hazard:11:3")
    ids = {c.citation.clause_id for c in consequences_for(consequence_rules(), classifier.store, gongmao)}
    assert "coal-mine-safety-regulations:64" not in ids and "dust-explosion-rules:12" in ids
    assert any(c.role == ENFORCEMENT for c in consequences_for(consequence_rules(), classifier.store, gongmao))


@pytest.mark.corpus
def test_curated_obligation_is_certain_and_a_retrieved_one_is_marked(classifier):
    rules = consequence_rules()
    [curated] = obligations_for(rules, classifier.store, classifier.registry.get("gongmao-major-hazard:11:10"),
                                retriever=classifier.retriever)
    assert curated.citation.clause_id == "dust-explosion-rules:18" and not curated.retrieved
    retrieved = obligations_for(rules, classifier.store, classifier.registry.get("gongmao-major-hazard:5:3"),
                                retriever=classifier.retriever)
    assert retrieved and all(o.retrieved and o.note == RETRIEVED_NOTE and o.role == OBLIGATION for o in retrieved)
    for o in retrieved:
        doc = classifier.store.documents[o.citation.clause_id.split(":")[0]]
        assert doc.kind in ("法律", "行政法规", "部门规章") and doc.role != "criteria"
