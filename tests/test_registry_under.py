"""Registry.under: the criteria at or below a clause, served from an index built once."""

from __future__ import annotations

from assistant.criteria import Criterion, Registry


def criterion(clause_id: str) -> Criterion:
    return Criterion(clause_id, clause_id.split(":")[0], "（一）示例。", "有下列情形之一的：", (), (), ())


def ids(found: list[Criterion]) -> list[str]:
    return [c.clause_id for c in found]


def test_an_article_stands_for_its_items_and_sub_items_in_registry_order():
    registry = Registry({cid: criterion(cid) for cid in (
        "metal-mine:1:1:2", "gongmao:11:10", "gongmao:11:1", "gongmao:110:1", "gongmao:11", "gb:4.3:b")})
    assert ids(registry.under("gongmao:11")) == ["gongmao:11:10", "gongmao:11:1", "gongmao:11"]
    assert ids(registry.under("gongmao:11:1")) == ["gongmao:11:1"]  # not 11:10, not 110:1
    assert ids(registry.under("metal-mine:1")) == ["metal-mine:1:1:2"]
    assert ids(registry.under("gb:4.3")) == ["gb:4.3:b"]
    assert registry.under("gongmao:12") == [] and registry.under("gong") == []


def test_criteria_added_later_are_found_and_results_are_fresh_lists():
    registry = Registry({"a:1:1": criterion("a:1:1")})
    assert ids(registry.under("a:1")) == ["a:1:1"]
    registry.criteria["a:1:2"] = criterion("a:1:2")
    found = registry.under("a:1")
    assert ids(found) == ["a:1:1", "a:1:2"]
    found.clear()  # a caller's list is its own
    assert len(registry.under("a:1")) == 2
