"""Whose negation is it: paperwork after a term, distance after a place, curated opposites."""

from __future__ import annotations

import pytest

from assistant.criteria import MISSING, PRESENT, Condition
from assistant.matching import CONTRADICTED, MET, UNKNOWN, evaluate_condition, prepare

CUT_OFF = Condition("未实现紧急切断功能", MISSING, terms=("紧急切断", "切断阀", "切断"))
CUT_OFF_RECORDS = Condition("切断阀测试记录缺失", MISSING, terms=("测试记录", "切断阀测试记录"))
REGISTERED = Condition("未办理使用登记", MISSING, terms=("使用登记", "登记"), contra=("办了使用登记",))
IN_POURING_BAY = Condition("位于浇注跨内", PRESENT, terms=("浇注跨",))


def status(condition: Condition, text: str) -> str:
    return evaluate_condition(condition, prepare(text)).status


def test_a_missing_record_is_not_a_missing_device():
    assert status(CUT_OFF, "切断阀测试记录缺了一次") == UNKNOWN
    assert status(CUT_OFF, "紧急切断都有，切断阀测试记录缺了一次") == CONTRADICTED


def test_the_device_itself_missing_still_counts():
    assert status(CUT_OFF, "罐区的紧急切断阀坏了") == MET
    assert status(CUT_OFF, "切断阀没装") == MET


def test_a_condition_about_records_is_met_by_missing_records():
    assert status(CUT_OFF_RECORDS, "切断阀测试记录缺了一次") == MET


def test_a_curated_opposite_outweighs_a_negation_of_a_shared_word():
    assert status(REGISTERED, "升降机也办了使用登记，就是登记标志没挂出来") == CONTRADICTED
    assert status(REGISTERED, "这台塔吊一直没办使用登记") == MET


def test_far_from_a_place_is_not_in_it():
    assert status(IN_POURING_BAY, "休息室离浇注跨很远") == CONTRADICTED
    assert status(IN_POURING_BAY, "休息室设在浇注跨里面") == MET


STOPPED = Condition("未停止作业、撤出人员", MISSING, terms=("停止作业", "撤出人员"))
STILL_PRODUCING = Condition("仍组织生产", PRESENT, terms=("组织生产",))


def test_carrying_on_means_work_was_not_stopped():
    assert status(STOPPED, "回风巷甲烷1.2%，井下还在正常生产") == MET
    assert status(STILL_PRODUCING, "一回路检修，矿上照样干") == MET


def test_stopping_work_is_the_opposite():
    assert status(STOPPED, "甲烷超了，班长马上停工撤人了") == CONTRADICTED
    assert status(STOPPED, "大雨天露天矿停了采装") == CONTRADICTED
    assert status(STOPPED, "甲烷超了，班长没让停止作业") == MET  # the terms' own negation still decides


def test_nothing_said_about_work_stays_unknown():
    assert status(STOPPED, "回风巷甲烷1.2%") == UNKNOWN


def test_pinyin_slips_are_repaired_but_real_words_are_kept():
    assert prepare("回风巷瓦丝1.2") == prepare("回风巷瓦斯1.2")
    assert "防爆" in prepare("除尘器里的灯不是防暴的")
    assert "联锁" in prepare("报警和风机没连锁") and "连锁店" in prepare("连锁店的仓库")
    assert "安全阀" in prepare("锅炉的安全伐堵死了") and "砍伐" in prepare("砍伐树木")


def test_a_negation_of_a_longer_word_of_another_condition_does_not_deny_a_stated_fact():
    from assistant.criteria import Alternative
    from assistant.matching import evaluate_alternative

    work = Condition("从事特种作业", PRESENT, terms=("特种作业",))
    certificate = Condition("未取得特种作业操作证", MISSING, terms=("特种作业操作证", "操作证"))
    branch = Alternative("特种作业人员无证上岗", (work, certificate))
    # Alone, the 没 before 特种作业 denies the work …
    assert status(work, "师傅没考过特种作业操作证") == CONTRADICTED
    # … but within the branch it belongs to the certificate: the work is just not stated.
    result = evaluate_alternative(branch, prepare("师傅没考过特种作业操作证"))
    assert result.status == "open" and [e.status for e in result.evidence] == [UNKNOWN, MET]


ALARM = Condition("未设置监测报警装置", MISSING, terms=("报警",))


def test_an_affirmation_may_stand_further_off_than_a_negation():
    assert status(ALARM, "压铸机冷却水有出水温度和流量差报警") == CONTRADICTED
    assert status(ALARM, "有台压铸机冷却水的流量差报警没装") == MET
    assert status(ALARM, "有出水温度的监测，就是流量差没报警") == MET


@pytest.mark.parametrize("text", ["湿法车间没装固定的气体检测报警", "锂电池没有专门的充电硐室"])
def test_a_plain_attribute_with_de_keeps_the_negation_on_its_noun(text):
    condition = Condition("未设置报警或硐室", MISSING, terms=("检测报警", "充电硐室"))
    assert evaluate_condition(condition, prepare(text)).status == MET


def test_a_negation_before_a_thing_and_its_permit_is_about_the_permit():
    condition = Condition("开展有限空间作业", PRESENT, terms=("有限空间",))
    assert evaluate_condition(condition, prepare("进凝汽器作业，没办有限空间作业票")).status == MET
    assert evaluate_condition(condition, prepare("今天没有有限空间作业")).status == CONTRADICTED


@pytest.mark.parametrize("text", ["外架那层的拉结点全割了", "连墙件被人甩了"])
def test_cut_off_after_a_device_means_it_is_gone(text):
    condition = Condition("未设置连墙件", MISSING, terms=("拉结点", "连墙件"))
    assert evaluate_condition(condition, prepare(text)).status == MET
