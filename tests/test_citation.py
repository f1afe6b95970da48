"""assistant.citation: citations are built from clauses, in exactly the official forms."""

from __future__ import annotations

import pytest

from assistant.citation import cite, human_citation, locator
from assistant.model import (
    ARTICLE,
    FAMILY_ARTICLES,
    FAMILY_GB,
    FAMILY_LIST,
    ITEM,
    SUB_ITEM,
    Citation,
    Clause,
    Document,
)
from ingest.structure import body_lines, structure

GONGMAO = Document(
    slug="gongmao-major-hazard",
    title="工贸企业重大事故隐患判定标准",
    doc_number="应急管理部令第10号",
    status="现行有效",
    effective="2023-05-15",
    family=FAMILY_ARTICLES,
)
GONGMAO_11_10 = Clause(
    clause_id="gongmao-major-hazard:11:10",
    doc_slug="gongmao-major-hazard",
    level=ITEM,
    article=11,
    item=10,
    text="（十）测试用的官方条文。",
    lead_in="测试企业有下列情形之一的，应当判定为重大事故隐患：",
    parent_id="gongmao-major-hazard:11",
)


def test_article_item_human_form():
    assert human_citation(GONGMAO_11_10, GONGMAO) == (
        "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条第（十）项")


def test_article_only_form():
    article = Clause("gongmao-major-hazard:3", "gongmao-major-hazard", ARTICLE, 3, text="第三条 测试。")
    assert human_citation(article, GONGMAO) == "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第三条"


def test_sub_item_form():
    sub = Clause("gongmao-major-hazard:5:9:1", "gongmao-major-hazard", SUB_ITEM, 5, 9, 1, text="1.测试。")
    assert human_citation(sub, GONGMAO) == (
        "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第五条第（九）项第1目")


def test_large_article_number_form():
    clause = Clause("law:119", "law", ARTICLE, 119, text="第一百一十九条 测试。")
    law = Document(slug="law", title="测试法", doc_number="主席令第一号")
    assert locator(clause, law) == "第一百一十九条"


def test_list_family_form():
    doc = Document(slug="test-list", title="测试行业重大事故隐患判定标准（试行）",
                   doc_number="测试〔2017〕1号", family=FAMILY_LIST)
    clause = Clause("test-list:12", "test-list", ARTICLE, 12, text="十二、测试。")
    assert human_citation(clause, doc) == "《测试行业重大事故隐患判定标准（试行）》（测试〔2017〕1号）第十二项"


def test_gb_form():
    doc = Document(slug="special-equipment-major-hazard", title="特种设备重大事故隐患判定准则",
                   doc_number="GB 45067-2024", family=FAMILY_GB)
    clause = Clause("special-equipment-major-hazard:4.3:b", "special-equipment-major-hazard", ITEM,
                    "4.3", "b", text="b) 测试。")
    assert human_citation(clause, doc) == "《特种设备重大事故隐患判定准则》（GB 45067-2024）第4.3条b)"
    gb_article = Clause("special-equipment-major-hazard:4.10", "special-equipment-major-hazard", ARTICLE,
                        "4.10", text="4.10 测试。")
    assert locator(gb_article, doc) == "第4.10条"


PART_DOC = Document(slug="test-mine", title="测试矿山重大事故隐患判定标准",
                    doc_number="测试〔2022〕88号", family=FAMILY_LIST)
PART_TITLE = "一、测试地下矿山重大事故隐患"


def test_part_sub_item_form():
    clause = Clause("test-mine:1:1:2", "test-mine", SUB_ITEM, 1, 1, 2, text="2.测试。", part_title=PART_TITLE)
    assert human_citation(clause, PART_DOC) == (
        "《测试矿山重大事故隐患判定标准》（测试〔2022〕88号）一、测试地下矿山重大事故隐患 第（一）项第2目")


def test_part_item_and_part_forms():
    item = Clause("test-mine:1:3", "test-mine", ITEM, 1, 3, text="（三）测试。", part_title=PART_TITLE)
    part = Clause("test-mine:1", "test-mine", ARTICLE, 1, text=PART_TITLE, part_title=PART_TITLE)
    assert locator(item, PART_DOC) == "一、测试地下矿山重大事故隐患 第（三）项"
    assert locator(part, PART_DOC) == "一、测试地下矿山重大事故隐患"


def test_document_without_number_has_no_brackets():
    doc = Document(slug="test-nonum", title="测试行业重大事故隐患判定标准", doc_number="")
    clause = Clause("test-nonum:2:1", "test-nonum", ITEM, 2, 1, text="（一）测试。")
    citation = human_citation(clause, doc)
    assert citation == "《测试行业重大事故隐患判定标准》第二条第（一）项"
    assert citation.startswith("《测试行业重大事故隐患判定标准》第")


def test_structured_fields():
    c = cite(GONGMAO_11_10, GONGMAO)
    assert isinstance(c, Citation)
    assert c.clause_id == "gongmao-major-hazard:11:10"
    assert c.citation == "《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条第（十）项"
    assert c.document_title == "工贸企业重大事故隐患判定标准"
    assert c.doc_number == "应急管理部令第10号"
    assert c.article == 11 and isinstance(c.article, int)
    assert c.item == 10 and isinstance(c.item, int)
    assert c.sub_item is None
    assert c.quote == GONGMAO_11_10.text == "（十）测试用的官方条文。"
    assert c.status == "现行有效"
    assert c.effective == "2023-05-15"


def test_article_citation_has_no_item():
    article = Clause("gongmao-major-hazard:11", "gongmao-major-hazard", ARTICLE, 11, text="第十一条 测试。")
    c = cite(article, GONGMAO)
    assert (c.article, c.item, c.sub_item) == (11, None, None)
    assert c.quote == "第十一条 测试。"


def test_clause_of_another_document_raises():
    other = Clause("other-doc:11:10", "other-doc", ITEM, 11, 10, text="（十）测试。")
    with pytest.raises(ValueError, match="other-doc"):
        cite(other, GONGMAO)


def test_citations_from_structured_clauses():
    text = "第一条 测试。\n第二条 测试企业有下列情形之一的：\n（一）测试甲；\n（二）测试乙：\n1.测试丙。"
    doc = Document(slug="test-std", title="测试行业重大事故隐患判定标准", doc_number="测试部令第1号")
    clauses = {c.clause_id: c for c in structure("test-std", body_lines(text)).clauses}
    assert cite(clauses["test-std:2:2:1"], doc).citation == (
        "《测试行业重大事故隐患判定标准》（测试部令第1号）第二条第（二）项第1目")
    assert cite(clauses["test-std:2:1"], doc).quote == "（一）测试甲；"
