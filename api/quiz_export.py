"""Quiz exports for trainers: JSON, Markdown, DOCX (the paper, then an answer sheet) and XLSX (one
row per question, the column layout question-bank importers accept)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from assistant.quiz_model import (
    BLANK,
    FILL,
    JUDGE,
    LETTERS,
    MULTIPLE,
    SINGLE,
    TYPE_ZH,
    Question,
    Quiz,
)

XLSX_HEADER = ("题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案", "解析", "依据")
SECTION_ZH = {SINGLE: "一、单选题", MULTIPLE: "二、多选题", JUDGE: "三、判断题", FILL: "四、填空题"}
TITLE = "重大事故隐患判定与安全生产法规测验"


def paper_stem(q: Question) -> str:
    """The stem as printed: the fill gap as a line, a judge statement followed by its brackets."""
    stem = q.stem.replace(BLANK, "________")
    return stem + "（ ）" if q.type == JUDGE else stem


def sources(q: Question) -> str:
    return "；".join(c.citation for c in q.citations)


def _by_type(quiz: Quiz) -> list[tuple[str, list[Question]]]:
    return [(t, [q for q in quiz.questions if q.type == t]) for t in SECTION_ZH
            if any(q.type == t for q in quiz.questions)]


def to_json(quiz: Quiz) -> bytes:
    return json.dumps(quiz.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")


def to_markdown(quiz: Quiz) -> bytes:
    lines = [f"# {TITLE}", "", f"试卷编号：{quiz.id}　随机种子：{quiz.seed}　题目数：{len(quiz.questions)}", ""]
    number = 0
    numbers: dict[str, int] = {}
    for qtype, questions in _by_type(quiz):
        lines += [f"## {SECTION_ZH[qtype]}", ""]
        for q in questions:
            number += 1
            numbers[q.id] = number
            lines.append(f"{number}. {paper_stem(q)}")
            lines += [f"   - {letter}. {text}" for letter, text in q.options.items()]
            lines.append("")
    lines += ["---", "", "## 参考答案与解析", ""]
    for q in quiz.questions:
        lines.append(f"{numbers[q.id]}. **{q.answer}**　{q.explanation}")
        for c in q.citations:
            lines.append(f"   - 依据：{c.citation}")
            lines.append(f"     > {c.quote.replace(chr(10), ' ')}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def to_docx(quiz: Quiz) -> bytes:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")  # CJK text needs its own font slot
    doc.add_heading(TITLE, level=0)
    doc.add_paragraph(f"试卷编号：{quiz.id}　随机种子：{quiz.seed}　题目数：{len(quiz.questions)}")
    doc.add_paragraph("姓名：____________　单位：____________　得分：________")
    number = 0
    numbers: dict[str, int] = {}
    for qtype, questions in _by_type(quiz):
        doc.add_heading(SECTION_ZH[qtype], level=1)
        for q in questions:
            number += 1
            numbers[q.id] = number
            doc.add_paragraph(f"{number}. {paper_stem(q)}")
            for letter, text in q.options.items():
                doc.add_paragraph(f"{letter}. {text}").paragraph_format.left_indent = Pt(18)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("参考答案与解析", level=1)
    for q in quiz.questions:
        p = doc.add_paragraph()
        p.add_run(f"{numbers[q.id]}. 答案：{q.answer}").bold = True
        doc.add_paragraph(f"解析：{q.explanation}")
        for c in q.citations:
            doc.add_paragraph(f"依据：{c.citation}")
            quote_paragraph = doc.add_paragraph(c.quote)
            quote_paragraph.paragraph_format.left_indent = Pt(18)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_row(q: Question) -> list[str]:
    options = [q.options.get(letter, "") for letter in LETTERS]
    return [TYPE_ZH[q.type], q.stem, *options, q.answer, q.explanation, sources(q)]


def to_xlsx(quiz: Quiz) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "题库"
    ws.append(list(XLSX_HEADER))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for q in quiz.questions:
        ws.append(xlsx_row(q))
    widths = {"A": 8, "B": 60, "I": 8, "J": 60, "K": 40}
    for column in "CDEFGH":
        widths[column] = 30
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    media_type: str
    render: Callable[[Quiz], bytes]


FORMATS = {
    "json": ExportFormat("json", "application/json", to_json),
    "markdown": ExportFormat("md", "text/markdown; charset=utf-8", to_markdown),
    "docx": ExportFormat("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", to_docx),
    "xlsx": ExportFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
}


def filename(quiz: Quiz, fmt: str) -> str:
    return f"隐患判定测验-{quiz.id or 'quiz'}.{FORMATS[fmt].extension}"


def content_disposition(name: str) -> str:
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
