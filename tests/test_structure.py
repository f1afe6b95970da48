"""ingest.structure over small made-up standards, one numbering family at a time."""

from __future__ import annotations

import pytest

from assistant.model import ARTICLE, FAMILY_ARTICLES, FAMILY_GB, FAMILY_LIST, ITEM, SUB_ITEM
from ingest.structure import StructureError, body_lines, structure


def parse(text: str, slug: str = "test-std"):
    return structure(slug, body_lines(text))


def by_id(body):
    return {c.clause_id: c for c in body.clauses}


# ==========================================================================================
# 条 / 项 family
# ==========================================================================================
ARTICLES = """\
# 测试行业重大事故隐患判定标准

## 第一章 总则

第一条 为了准确判定测试行业重大事故隐患，制定本标准。

第二条本标准适用于测试企业。

## 第二章 判定

第二节 专门规定

第三条本规定所称重大事故隐患，是指测试企业有下列情形之一的：
（一）未设置测试报警装置的；
(二)测试罐区未按规定设置围堰的；
(三)测试仓库超量储存的。
测试企业应当每月组织一次自查。

第四条 测试企业有下列情形之一的，应当判定为重大事故隐患：
（一）测试设备存在下列问题之一的：
1.压力表失效的；
2.安全阀未校验的；
（二）测试作业未审批的。

第五条 测试矿井有下列情形之一的，应当判定为重大事故隐患：
第三条规定的测试企业同时适用本条。
（九）测试通风存在下列情形之一的：
1.测试瓦斯抽采不达标的，见表1；
表1 测试抽采指标
<table>
<tr><td>测试量</td><td>≤8</td></tr>
</table>
2.测试风量不足；
3.测试风门失效；
4.测试风桥漏风；
5.测试局扇停运；
6.测试测风站缺失；
7.2个测试工作面串联通风。
"""


@pytest.fixture(scope="module")
def articles():
    return parse(ARTICLES)


def test_articles_family_detected(articles):
    assert articles.family == FAMILY_ARTICLES
    assert articles.warnings == []


def test_article_ids_in_order(articles):
    assert [c.clause_id for c in articles.clauses if c.level == ARTICLE] == [
        "test-std:1", "test-std:2", "test-std:3", "test-std:4", "test-std:5"]
    assert [c.order for c in articles.clauses] == list(range(len(articles.clauses)))


def test_all_clause_ids(articles):
    assert [c.clause_id for c in articles.clauses] == [
        "test-std:1", "test-std:2",
        "test-std:3", "test-std:3:1", "test-std:3:2", "test-std:3:3",
        "test-std:4", "test-std:4:1", "test-std:4:1:1", "test-std:4:1:2", "test-std:4:2",
        "test-std:5", "test-std:5:9",
        "test-std:5:9:1", "test-std:5:9:2", "test-std:5:9:3", "test-std:5:9:4",
        "test-std:5:9:5", "test-std:5:9:6", "test-std:5:9:7",
    ]


def test_article_number_without_space(articles):
    c = by_id(articles)["test-std:2"]
    assert c.article == 2
    assert c.text == "第二条本标准适用于测试企业。"


def test_chapters_and_sections(articles):
    c = by_id(articles)
    assert c["test-std:1"].chapter == "第一章 总则"
    assert c["test-std:2"].chapter == "第一章 总则"
    assert c["test-std:3"].chapter == "第二章 判定 / 第二节 专门规定"
    assert c["test-std:3:1"].chapter == "第二章 判定 / 第二节 专门规定"


def test_fullwidth_and_halfwidth_item_markers(articles):
    c = by_id(articles)
    assert c["test-std:3:1"].text == "（一）未设置测试报警装置的；"
    assert c["test-std:3:2"].text == "(二)测试罐区未按规定设置围堰的；"
    assert (c["test-std:3:2"].level, c["test-std:3:2"].article, c["test-std:3:2"].item) == (ITEM, 3, 2)


def test_item_keeps_parent_leadin(articles):
    lead = "本规定所称重大事故隐患，是指测试企业有下列情形之一的："
    c = by_id(articles)
    for cid in ("test-std:3:1", "test-std:3:2", "test-std:3:3"):
        assert c[cid].lead_in == lead
        assert c[cid].parent_id == "test-std:3"


def test_search_text_includes_leadin(articles):
    item = by_id(articles)["test-std:3:1"]
    assert item.search_text == "本规定所称重大事故隐患，是指测试企业有下列情形之一的：\n（一）未设置测试报警装置的；"


def test_paragraph_after_items_is_new_paragraph_of_article(articles):
    c = by_id(articles)
    assert c["test-std:3:3"].text == "(三)测试仓库超量储存的。"
    assert c["test-std:3"].text.endswith("(三)测试仓库超量储存的。\n测试企业应当每月组织一次自查。")
    assert "自查" not in c["test-std:3:3"].text


def test_article_text_contains_its_items(articles):
    assert by_id(articles)["test-std:4"].text == (
        "第四条 测试企业有下列情形之一的，应当判定为重大事故隐患：\n"
        "（一）测试设备存在下列问题之一的：\n"
        "1.压力表失效的；\n"
        "2.安全阀未校验的；\n"
        "（二）测试作业未审批的。"
    )


def test_sub_items_under_item(articles):
    c = by_id(articles)
    sub = c["test-std:4:1:2"]
    assert (sub.level, sub.article, sub.item, sub.sub_item) == (SUB_ITEM, 4, 1, 2)
    assert sub.text == "2.安全阀未校验的；"
    assert sub.parent_id == "test-std:4:1"
    assert sub.lead_in == "测试企业有下列情形之一的，应当判定为重大事故隐患：\n（一）测试设备存在下列问题之一的："
    assert c["test-std:4:1"].text == "（一）测试设备存在下列问题之一的：\n1.压力表失效的；\n2.安全阀未校验的；"
    assert c["test-std:4:2"].text == "（二）测试作业未审批的。"


def test_cross_reference_at_line_start_is_not_an_article(articles):
    c = by_id(articles)
    assert [x.article for x in articles.clauses if x.level == ARTICLE] == [1, 2, 3, 4, 5]
    assert "第三条规定的测试企业同时适用本条。" in c["test-std:5"].text.split("\n")
    assert "同时适用本条" not in c["test-std:3"].text


def test_item_number_can_start_above_one(articles):
    item = by_id(articles)["test-std:5:9"]
    assert (item.article, item.item, item.parent_id) == (5, 9, "test-std:5")


def test_table_and_caption_stay_with_sub_item(articles):
    c = by_id(articles)
    sub = c["test-std:5:9:1"]
    assert sub.text == (
        "1.测试瓦斯抽采不达标的，见表1；\n"
        "表1 测试抽采指标\n"
        "<table>\n<tr><td>测试量</td><td>≤8</td></tr>\n</table>"
    )
    assert sub.parent_id == "test-std:5:9"
    assert "<table>" in c["test-std:5:9"].text
    assert "<table>" in c["test-std:5"].text
    assert "<table>" not in c["test-std:5:9:2"].text


def test_seven_point_two_after_sub_item_six_is_sub_item_seven(articles):
    sub = by_id(articles)["test-std:5:9:7"]
    assert sub.sub_item == 7
    assert sub.text == "7.2个测试工作面串联通风。"


def test_sub_item_ids_and_parents(articles):
    subs = [c for c in articles.clauses if c.level == SUB_ITEM and c.article == 5]
    assert [c.sub_item for c in subs] == [1, 2, 3, 4, 5, 6, 7]
    assert {c.parent_id for c in subs} == {"test-std:5:9"}


def test_parent_ids_point_to_existing_clauses(articles):
    ids = {c.clause_id for c in articles.clauses}
    for c in articles.clauses:
        if c.level == ARTICLE:
            assert c.parent_id is None
        else:
            assert c.parent_id in ids


def test_decimal_after_sub_item_is_not_a_sub_item():
    body = parse("""\
第一条 测试矿井有下列情形之一的：
（一）测试气体浓度超限的：
1.测试甲烷浓度达到限值，限值见表1；
表1 测试限值
1.0%为体积分数。
2.测试二氧化碳超限。
""")
    c = by_id(body)
    assert [x.clause_id for x in body.clauses] == ["test-std:1", "test-std:1:1", "test-std:1:1:1", "test-std:1:1:2"]
    assert c["test-std:1:1:1"].text.endswith("表1 测试限值\n1.0%为体积分数。")
    assert c["test-std:1:1:2"].text == "2.测试二氧化碳超限。"


def test_decimal_right_after_item_is_not_sub_item_one():
    body = parse("""\
一、测试矿山重大事故隐患
（一）测试气体浓度达到
1.0%以上未撤出人员的；
（二）测试风机停运的。
""")
    c = by_id(body)
    assert [x.clause_id for x in body.clauses] == ["test-std:1", "test-std:1:1", "test-std:1:2"]
    assert c["test-std:1:1"].text == "（一）测试气体浓度达到\n1.0%以上未撤出人员的；"


def test_numbered_lines_directly_under_article_are_items():
    body = parse("""\
第一条 测试企业有下列情形之一的：
1.未设置测试装置的；
2.测试装置失效的。
""")
    c = by_id(body)
    assert [x.clause_id for x in body.clauses] == ["test-std:1", "test-std:1:1", "test-std:1:2"]
    assert c["test-std:1:2"].level == ITEM
    assert c["test-std:1:2"].lead_in == "测试企业有下列情形之一的："


def test_cross_reference_with_following_article_marker_is_not_an_article():
    body = parse("""\
第一条 测试企业应当遵守本标准。
第二条 测试。
第三条、第四条规定的情形另行处理。
第三条 测试企业有下列情形之一的：
（一）测试。
""")
    assert [c.clause_id for c in body.clauses] == ["test-std:1", "test-std:2", "test-std:3", "test-std:3:1"]
    assert by_id(body)["test-std:2"].text == "第二条 测试。\n第三条、第四条规定的情形另行处理。"


def test_malformed_numeral_does_not_crash_or_open_a_clause():
    body = parse("""\
第一条 测试企业有下列情形之一的：
（十十）测试。
""")
    assert [c.clause_id for c in body.clauses] == ["test-std:1"]


# ==========================================================================================
# list family (一、 takes the article position)
# ==========================================================================================
LIST = """\
# 测试行业重大事故隐患判定标准（试行）

为准确判定测试行业重大事故隐患，制定本标准。

依据有关规定，以下情形应当判定为重大事故隐患：

一、测试人员未经培训上岗作业。

二、测试装置未设置紧急切断系统。

三、测试仓库超量储存，
且未采取隔离措施。
"""


@pytest.fixture(scope="module")
def listed():
    return parse(LIST)


def test_list_family_ids(listed):
    assert listed.family == FAMILY_LIST
    assert [c.clause_id for c in listed.clauses] == ["test-std:1", "test-std:2", "test-std:3"]
    c = by_id(listed)["test-std:2"]
    assert (c.level, c.article, c.item, c.sub_item, c.parent_id) == (ARTICLE, 2, None, None, None)


def test_list_leadin_comes_from_preamble_sentence(listed):
    lead = "依据有关规定，以下情形应当判定为重大事故隐患："
    assert listed.lead_in == lead
    assert listed.preamble == "为准确判定测试行业重大事故隐患，制定本标准。\n" + lead
    assert [c.lead_in for c in listed.clauses] == [lead, lead, lead]
    assert by_id(listed)["test-std:1"].search_text == lead + "\n一、测试人员未经培训上岗作业。"


def test_list_wrapped_line_continues_the_entry(listed):
    assert by_id(listed)["test-std:3"].text == "三、测试仓库超量储存，\n且未采取隔离措施。"


def test_list_leadin_needs_colon_and_hazard_word():
    body = parse("""\
本标准由测试部门解释：
测试单位应当自查。
一、测试。
""")
    assert body.lead_in == ""
    assert by_id(body)["test-std:1"].lead_in == ""


PARTS = """\
# 测试矿山重大事故隐患判定标准

### 一、测试地下矿山重大事故隐患

（一）测试安全出口存在下列情形之一的：
1.只有一个测试安全出口的；
2.测试安全出口间距小于30米的；
（二）测试排水系统失效的。

### 二、测试露天矿山重大事故隐患

（一）测试边坡存在下列情形之一的：
1.测试边坡角超过设计的；
"""


@pytest.fixture(scope="module")
def parts():
    return parse(PARTS, "test-mine")


def test_parts_ids(parts):
    assert parts.family == FAMILY_LIST
    assert [c.clause_id for c in parts.clauses] == [
        "test-mine:1", "test-mine:1:1", "test-mine:1:1:1", "test-mine:1:1:2", "test-mine:1:2",
        "test-mine:2", "test-mine:2:1", "test-mine:2:1:1",
    ]


def test_part_sub_item_fields(parts):
    sub = by_id(parts)["test-mine:1:1:2"]
    assert (sub.level, sub.article, sub.item, sub.sub_item) == (SUB_ITEM, 1, 1, 2)
    assert sub.text == "2.测试安全出口间距小于30米的；"
    assert sub.part_title == "一、测试地下矿山重大事故隐患"
    assert sub.parent_id == "test-mine:1:1"
    assert sub.lead_in == "一、测试地下矿山重大事故隐患\n（一）测试安全出口存在下列情形之一的："


def test_part_items_take_part_title_as_leadin(parts):
    c = by_id(parts)
    assert c["test-mine:1:2"].lead_in == "一、测试地下矿山重大事故隐患"
    assert c["test-mine:2:1"].part_title == "二、测试露天矿山重大事故隐患"
    assert c["test-mine:2:1:1"].part_title == "二、测试露天矿山重大事故隐患"
    assert c["test-mine:1"].part_title == "一、测试地下矿山重大事故隐患"


# ==========================================================================================
# GB dotted clauses
# ==========================================================================================
GB = """\
# 测试设备重大事故隐患判定准则

## 4 重大事故隐患判定

4.1 测试设备有下列情形之一仍继续使用的，应判定为重大事故隐患。
a) 未经测试检验的；
b) 超过测试使用年限的。
4.2 测试锅炉缺水仍继续运行的，应判定为重大事故隐患。
4.3 测试容器有下列情形之一仍继续使用的，应判定为重大事故隐患。
a) 测试安全阀失效的；
b) 测试压力表缺失的；
c) 测试容器超压运行的。
4.4 测试四。
4.5 测试五。
4.6 测试六。
4.7 测试七。
4.8 测试八。
4.9 测试游乐设施有下列情形之一的：
a) 测试九甲。
4.10 测试车辆有下列情形之一的：
a) 测试十甲；
b) 测试十乙。
"""


@pytest.fixture(scope="module")
def gb():
    return parse(GB, "test-gb")


def test_gb_family_clause_numbers(gb):
    assert gb.family == FAMILY_GB
    articles = [c.article for c in gb.clauses if c.level == ARTICLE]
    assert articles == ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10"]


def test_gb_lettered_item(gb):
    item = by_id(gb)["test-gb:4.3:b"]
    assert (item.level, item.article, item.item, item.sub_item) == (ITEM, "4.3", "b", None)
    assert item.text == "b) 测试压力表缺失的；"
    assert item.parent_id == "test-gb:4.3"
    assert item.lead_in == "测试容器有下列情形之一仍继续使用的，应判定为重大事故隐患。"


def test_gb_clause_ten_follows_nine(gb):
    c = by_id(gb)
    assert c["test-gb:4.10"].text == "4.10 测试车辆有下列情形之一的：\na) 测试十甲；\nb) 测试十乙。"
    assert c["test-gb:4.10:b"].parent_id == "test-gb:4.10"
    assert c["test-gb:4.9"].text == "4.9 测试游乐设施有下列情形之一的：\na) 测试九甲。"
    assert len([x for x in gb.clauses if x.level == ITEM]) == 8


# ==========================================================================================
# no structure
# ==========================================================================================
def test_text_without_structure_raises():
    with pytest.raises(StructureError):
        parse("# 测试通知\n\n测试企业应当加强安全管理。\n请各单位遵照执行。")


def test_only_heading_gives_no_clauses():
    body = parse("# 测试行业重大事故隐患判定标准\n")
    assert body.clauses == []
    assert body.family == FAMILY_ARTICLES


def test_empty_body_gives_no_clauses():
    assert parse("").clauses == []


def test_body_lines_keeps_table_as_one_line_and_drops_comments():
    lines = body_lines("第一条 测试。\n<!-- 备注 -->\n<table>\n<tr><td>甲</td></tr>\n</table>\n\n  第二条 测试。 ")
    assert lines == ["第一条 测试。", "<table>\n<tr><td>甲</td></tr>\n</table>", "第二条 测试。"]
