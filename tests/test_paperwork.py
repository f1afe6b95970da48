"""Paperwork drafts: pure tests on made-up findings, and the rendered files."""

from __future__ import annotations

import io

import pytest
from docx import Document as DocxDocument

from api.paperwork_render import BLANK, paper_docx, paper_html
from assistant.consequences import ConsequenceRules
from assistant.criteria import Registry
from assistant.model import Clause, Document
from assistant.paperwork import (
    PaperworkInputError,
    build_paper,
    findings_from_classification,
    findings_from_self_check,
)
from assistant.store import ClauseStore


def tiny_store() -> ClauseStore:
    std = Document("std", "某判定标准", doc_number="某令第1号", role="criteria", clause_count=1)
    law = Document("law", "某法", kind="法律", status="现行有效", role="law", clause_count=3)
    rules = Document("hazard-investigation-rules", "隐患规定", kind="部门规章", role="rules", clause_count=1)
    clauses = {
        "std:3": Clause("std:3", "std", "article", 3, text="第三条 有下列情形之一的，应当判定为重大事故隐患："),
        "std:3:1": Clause("std:3:1", "std", "item", 3, 1, text="（一）除尘系统未采取防爆措施的；", parent_id="std:3"),
        "law:1": Clause("law:1", "law", "article", 1, text="第一条 单位应当消除事故隐患。"),
        "law:2": Clause("law:2", "law", "article", 2, text="第二条 未消除事故隐患的，处五万元以下的罚款。"),
        "law:3": Clause("law:3", "law", "article", 3, text="第三条 监管部门应当责令立即排除事故隐患。"),
        "hazard-investigation-rules:3": Clause("hazard-investigation-rules:3", "hazard-investigation-rules", "article",
                                               3, text="第三条 事故隐患分为一般事故隐患和重大事故隐患。"),
    }
    return ClauseStore({"std": std, "law": law, "hazard-investigation-rules": rules}, clauses)


RULES = ConsequenceRules.from_data({
    "default": [{"clause": "law:2", "role": "penalty"}, {"clause": "law:3", "role": "enforcement"}],
})


def classification(text="除尘器没有泄爆片", label="major", clause_id="std:3:1", quote="伪造的引文"):
    return {"label": label, "findings": [{
        "text": text, "label": label, "follow_up_questions": [],
        "criteria": [{"clause_id": clause_id, "role": "matched", "quote": quote}]}]}


def paper_of(data, kind="record"):
    return build_paper(kind, findings_from_classification(data), tiny_store(), Registry(), RULES)


def test_quotes_are_taken_from_the_store_not_from_the_client():
    paper = paper_of(classification(quote="伪造的引文"))
    [finding] = paper.findings
    assert [c.quote for c in finding.basis] == ["（一）除尘系统未采取防爆措施的；"]
    assert "伪造的引文" not in paper_html(paper)


def test_general_finding_cites_the_definition_and_the_penalty():
    paper = paper_of(classification(label="general"))
    [finding] = paper.findings
    assert finding.level == "一般事故隐患"
    assert [c.clause_id for c in finding.basis] == ["hazard-investigation-rules:3"]
    assert [p.citation.clause_id for p in finding.penalties] == ["law:2"]
    assert [e.citation.clause_id for e in paper.enforcement] == ["law:3"]


def test_unknown_clause_id_is_refused():
    with pytest.raises(PaperworkInputError, match="std:9"):
        paper_of(classification(clause_id="std:9"))


def test_out_of_scope_only_gives_nothing_to_write():
    with pytest.raises(PaperworkInputError):
        paper_of({"findings": [{"text": "天气很好", "label": "out_of_scope", "criteria": []}]})


def test_self_check_hazards_become_findings():
    [f] = findings_from_self_check({"hazards": [{"clause_id": "std:3:1", "answered": [
        {"question": "除尘系统是否已采取防爆措施？", "answer": "否"}]}]})
    assert f.label == "major" and f.clause_ids == ("std:3:1",) and "自查回答：否" in f.text


def test_docx_has_every_quote_the_penalty_and_blank_fields():
    paper = paper_of(classification(), kind="order")
    doc = DocxDocument(io.BytesIO(paper_docx(paper)))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "责令限期整改指令书" in text
    assert "（一）除尘系统未采取防爆措施的；" in text
    assert "《某法》第二条" in text
    for name in ("单位名称", "检查时间", "检查人员", "整改期限", "复查意见", "执法人员签字"):
        assert f"{name}：{BLANK}" in text
    assert "除尘器没有泄爆片" in cells and BLANK in cells


def test_html_is_escaped_and_blanks_stay_blank():
    html = paper_html(paper_of(classification(text="<script>alert(1)</script>除尘器")))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "单位名称：<span class=\"blank\">&nbsp;</span>" in html
