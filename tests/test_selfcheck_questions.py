"""Criterion text → yes/no questions, on clause texts written for the test."""

from __future__ import annotations

from assistant.selfcheck_questions import NO, YES, clause_body, questions_for


def test_missing_measure_asks_whether_it_is_in_place():
    [q] = questions_for("（三）干式除尘系统未采取泄爆、惰化、抑爆等任一种爆炸防控措施的；")
    assert q.text == "干式除尘系统是否已采取泄爆、惰化、抑爆等任一种爆炸防控措施？"
    assert q.hazard_if == NO


def test_dangerous_state_asks_whether_it_exists():
    [q] = questions_for("（一）粉尘爆炸危险场所设置在非框架结构的多层建筑物内的；")
    assert q.text == "粉尘爆炸危险场所是否设置在非框架结构的多层建筑物内？"
    assert q.hazard_if == YES


def test_or_branches_become_separate_questions_sharing_the_subject():
    qs = questions_for("（一）熏蒸作业场所未配备报警仪器，或者未配备防毒面具的；")
    assert [q.text for q in qs] == ["熏蒸作业场所是否已配备报警仪器？", "熏蒸作业场所是否已配备防毒面具？"]
    assert {q.hazard_if for q in qs} == {NO}


def test_a_branch_with_its_own_subject_stops_the_sharing():
    qs = questions_for("（五）炉窑的闭路水冷元件未设置报警装置，或者开路水冷元件未设置流量报警装置，或者未监测开路水冷元件出水温度的；")
    assert qs[2].text == "是否已监测开路水冷元件出水温度？"


def test_required_pair_joined_by_or_must_both_be_set():
    [q] = questions_for("（七）调漆间未设置可燃气体报警装置或者通风设施的。")
    assert q.text == "调漆间是否已设置可燃气体报警装置和通风设施？"


def test_a_consequence_clause_is_asked_as_one_situation():
    [q] = questions_for("（十）未落实粉尘清理制度，造成作业现场积尘严重的。")
    assert q.text == "是否存在未落实粉尘清理制度，造成作业现场积尘严重的情况？"
    assert q.hazard_if == YES


def test_broken_device_asks_whether_it_works():
    [q] = questions_for("f) 熄火保护装置缺失或失效。")
    assert (q.text, q.hazard_if) == ("熄火保护装置是否齐全有效？", NO)


def test_not_meeting_a_rule_asks_whether_it_is_met():
    [q] = questions_for("（七）电气设备不符合防爆要求的；")
    assert (q.text, q.hazard_if) == ("电气设备是否符合防爆要求？", NO)


def test_negation_inside_a_modifier_is_not_turned_around():
    [q] = questions_for("(二)矿井整体发包给未取得营业执照的单位。")
    assert q.text.startswith("是否存在") and q.hazard_if == YES


def test_entry_of_a_nested_list_is_asked_with_its_intro():
    [q] = questions_for("5.隔爆腔之间直接贯通。", "“X”重大事故隐患，是指有下列情形之一的：\n(四)防爆电气设备存在下列失爆情形之一的：")
    assert q.text == "防爆电气设备是否存在以下失爆情形：隔爆腔之间直接贯通？"
    assert q.hazard_if == YES


def test_clause_body_drops_numbering_and_closing_de_but_keeps_exceptions():
    assert clause_body("（三）铸造环节未设置排放设施的（倾动式炉除外）；") == "铸造环节未设置排放设施（倾动式炉除外）"
    assert clause_body("十二、一证多厂。") == "一证多厂"


def test_a_branch_that_already_names_the_situation_is_not_wrapped_twice():
    [q] = questions_for("（一）存在未按照规定开展预测进行采掘作业情形的。")
    assert q.text == "是否存在未按照规定开展预测进行采掘作业情形？"
    [q] = questions_for("（五）边坡存在严重质量缺陷，可能导致严重后果的情形。")
    assert q.text == "是否存在边坡存在严重质量缺陷，可能导致严重后果的情形？"
