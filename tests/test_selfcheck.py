"""Enterprise self-check over the real registry: scope of the checklist, answers → report."""

from __future__ import annotations

import pytest

from api.services import build_classifier, consequence_rules, industry_domains
from assistant.selfcheck import (
    ANSWER_NO,
    ANSWER_UNSURE,
    ANSWER_YES,
    ProfileError,
    UnknownItemsError,
    build_checklist,
    build_report,
    resolve_profile,
)

pytestmark = pytest.mark.corpus

GONGMAO = "gongmao-major-hazard"


@pytest.fixture(scope="module")
def classifier(real_index):
    return build_classifier(real_index)


def checklist(classifier, industry="", domains=(), description=""):
    return build_checklist(classifier, resolve_profile(classifier, industry, domains, description, industry_domains()))


def registry_ids(classifier, prefix: str) -> set[str]:
    return {c.clause_id for c in classifier.registry.under(prefix)}


@pytest.mark.parametrize("profile", [
    {"industry": "有色"},
    {"description": "我们是做铝型材挤压和熔铸的"},
])
def test_aluminium_plant_gets_every_criterion_of_its_articles_and_nothing_of_other_trades(classifier, profile):
    result = checklist(classifier, domains=("粉尘涉爆", "有限空间"), **profile)
    listed = set(result.criteria_ids())
    for article in ("3", "5", "11", "13"):
        expected = registry_ids(classifier, f"{GONGMAO}:{article}")
        assert expected and expected <= listed, (article, sorted(expected - listed))
    assert not registry_ids(classifier, f"{GONGMAO}:4") & listed  # 冶金
    assert not registry_ids(classifier, f"{GONGMAO}:12") & listed  # 涉氨制冷 not declared
    assert not [cid for cid in listed if cid.startswith(("coal-major-hazard", "construction-major-hazard"))]


def test_description_is_shown_as_inferred(classifier):
    profile = resolve_profile(classifier, "", ("粉尘涉爆",), "我们是做铝型材挤压和熔铸的", industry_domains())
    assert profile.inferred_industries == ("有色",)
    assert "金属冶炼" in profile.inferred_domains and profile.declared_domains == ("粉尘涉爆",)


def test_undeclared_domain_items_are_not_asked(classifier):
    listed = set(checklist(classifier, "机械").criteria_ids())
    assert registry_ids(classifier, f"{GONGMAO}:7") <= listed
    assert not registry_ids(classifier, f"{GONGMAO}:11") & listed


def test_groups_follow_the_articles_and_link_each_item_to_its_clause(classifier, real_index):
    result = checklist(classifier, "有色", ("粉尘涉爆",))
    group = next(g for g in result.groups if g.group_id == f"{GONGMAO}:11")
    assert group.heading.endswith("第十一条")
    for item in group.items:
        assert item.citation.quote == real_index.store.clause(item.clause_id).text
        assert item.question.endswith("？") and item.hazard_if in ("yes", "no")


def test_no_industry_is_a_clear_error(classifier):
    with pytest.raises(ProfileError, match="行业"):
        resolve_profile(classifier, "", (), "", industry_domains())
    with pytest.raises(ProfileError, match="专项领域"):
        resolve_profile(classifier, "有色", ("涉水",), "", industry_domains())


def test_report_names_hazards_unsure_items_and_consequences(classifier):
    result = checklist(classifier, "有色", ("粉尘涉爆",))
    items = {i.item_id: i for i in result.items()}
    dry = items[f"{GONGMAO}:11:3"]  # 干式除尘系统是否已采取…爆炸防控措施？ → 否 is the hazard
    layout = items[f"{GONGMAO}:11:1"]  # 是否设置在非框架结构的多层建筑物内？ → 是 is the hazard
    answers = {i: (ANSWER_NO if it.hazard_if == "yes" else ANSWER_YES) for i, it in items.items()}
    answers[dry.item_id] = ANSWER_NO
    del answers[layout.item_id]  # unanswered → 不确定
    report = build_report(classifier, result, answers, consequence_rules())
    assert [h.clause_id for h in report.hazards] == [dry.clause_id]
    assert report.hazards[0].citation.quote.startswith("（三）干式除尘系统")
    assert [u.item.item_id for u in report.uncertain] == [layout.item_id]
    assert report.uncertain[0].item.to_check  # what to look at, from the annotations
    roles = {c.role for c in report.consequences}
    assert {"duty", "report", "penalty"} <= roles
    assert any(c.citation.clause_id == "work-safety-law:102" for c in report.consequences)


def test_all_clear_answers_give_no_hazard_and_no_consequences(classifier):
    result = checklist(classifier, "轻工")
    answers = {i.item_id: (ANSWER_NO if i.hazard_if == "yes" else ANSWER_YES) for i in result.items()}
    report = build_report(classifier, result, answers, consequence_rules())
    assert report.hazards == () and report.consequences == () and report.clear_count == len(answers)
    assert build_report(classifier, result, {}, consequence_rules()).uncertain[0].item.item_id == \
        result.items()[0].item_id  # nothing answered: everything is 不确定
    assert ANSWER_UNSURE == "不确定"


def test_unknown_item_ids_are_named(classifier):
    result = checklist(classifier, "轻工")
    with pytest.raises(UnknownItemsError) as err:
        build_report(classifier, result, {"bogus:1": ANSWER_YES, f"{GONGMAO}:8:1": ANSWER_YES}, consequence_rules())
    assert err.value.item_ids == ["bogus:1"]
