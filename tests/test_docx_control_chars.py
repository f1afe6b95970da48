"""DOCX exports take text XML cannot hold (control characters pasted with a finding or a name):
those characters are dropped instead of failing the export with a 500 (found by schemathesis)."""

from __future__ import annotations

import io

from docx import Document as DocxDocument
from test_paperwork import classification, paper_of

from api.paperwork_render import paper_docx, self_check_docx


def docx_text(content: bytes) -> str:
    doc = DocxDocument(io.BytesIO(content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_paperwork_docx_drops_control_characters_and_keeps_the_rest():
    data = classification(text="除尘器\x14没有泄爆片\x00")
    data["findings"][0]["follow_up_questions"] = ["\x0b泄爆片是否\x1f损坏？"]
    text = docx_text(paper_docx(paper_of(data, kind="order")))
    assert "除尘器没有泄爆片" in text
    assert "（一）除尘系统未采取防爆措施的；" in text  # the store's quote is untouched
    assert "\x14" not in text and "\x00" not in text


def test_self_check_docx_drops_control_characters_in_the_enterprise_name():
    saved = {"enterprise_name": "某某\x07铝业有限公司", "created_at": "2025-01-01T08:00:00",
             "report": {"summary": "发现重大事故隐患0项。", "profile": {"industries": ["有色"]},
                        "hazards": [], "uncertain": [], "consequences": []}}
    text = docx_text(self_check_docx(saved))
    assert "某某铝业有限公司 重大事故隐患自查报告" in text
