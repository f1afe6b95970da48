"""The multi-turn conversation set (eval/data/chat.jsonl) and its harness over the real index:
the set is well formed, the harness runs every dialogue through Dialogue + take_turn, the report
meets the floors recorded in eval/floors.json, and no citation is fabricated."""

from __future__ import annotations

import pytest

from api.services import build_classifier
from assistant.dialogue import Dialogue
from eval.chat import below_floors, evaluate, format_report, load_dialogues
from eval.retrieval import load_floors

pytestmark = pytest.mark.corpus

KINDS = {"answer", "classification", "refusal"}


@pytest.fixture(scope="module")
def dialogues() -> list[dict]:
    return load_dialogues()


@pytest.fixture(scope="module")
def report(real_index, dialogues) -> dict:
    return evaluate(lambda: Dialogue(real_index.store, real_index.retriever, build_classifier(real_index)), dialogues)


def test_the_set_is_well_formed(real_index, dialogues):
    ids = [d["id"] for d in dialogues]
    assert len(ids) == len(set(ids)), "dialogue ids must be unique"
    assert len(dialogues) >= 110
    for d in dialogues:
        assert 2 <= len(d["turns"]) <= 4, d["id"]
        for turn in d["turns"]:
            assert turn["user"].strip(), d["id"]
            assert turn["kind"] in KINDS, (d["id"], turn["kind"])
            if turn["kind"] == "refusal":
                assert turn["gold"] == [], d["id"]
            else:
                assert turn["gold"], (d["id"], turn["user"])
            missing = [g for g in turn["gold"] if g not in real_index.store.clauses]
            assert not missing, (d["id"], missing)
    refusals = sum(t["kind"] == "refusal" for d in dialogues for t in d["turns"])
    assert refusals >= 22


def test_no_user_turn_copies_its_gold_clause(real_index, dialogues):
    for d in dialogues:
        for turn in d["turns"]:
            text = turn["user"]
            for g in turn["gold"]:
                clause = real_index.store.clauses[g].text
                copied = [text[i:i + 8] for i in range(len(text) - 7) if text[i:i + 8] in clause]
                assert not copied, (d["id"], g, copied)


def test_harness_runs_and_meets_the_floors(report, dialogues):
    assert report["dialogues"] == len(dialogues)
    assert report["turns"] == sum(len(d["turns"]) for d in dialogues)
    assert format_report(report)
    floors = load_floors()
    assert "chat" in floors
    assert below_floors(report, floors) == []


def test_no_fabricated_citations(report):
    assert report["fabricated"] == 0
    assert all(not row["fabricated"] for row in report["errors"])


@pytest.mark.parametrize("cited, gold, hit", [
    ("law:16:1", ["law:16"], True),  # an item of the gold article
    ("law:16", ["law:16"], True),
    ("law:16", ["law:16:1"], False),  # the whole article is not the gold item
    ("law:160", ["law:16"], False),  # a prefix of digits is another article
    ("law:17:1", ["law:16"], False),
])
def test_a_citation_hits_inside_a_gold_clause_only(cited, gold, hit):
    from eval.chat import _within

    assert _within(cited, gold) is hit
