"""Paperwork and self-check reports as files: DOCX (python-docx) and self-contained HTML.

Every text that came from a user or a document is escaped in HTML, so a finding reading
"<script>…" stays text. Fields only the inspector can know are printed as blank lines.
"""

from __future__ import annotations

import dataclasses
import io
import re
from html import escape
from typing import Any

from assistant.consequences import RETRIEVED_NOTE, LegalConsequence
from assistant.paperwork import Paper

BLANK = "＿" * 12
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"
DRAFT_NOTE = "本文书为系统生成的草稿：判定依据均为条款原文；空白处由执法人员现场填写，核实后方可使用。"
_CSS = """
body{font-family:"SimSun","Songti SC","Noto Serif CJK SC",serif;max-width:60em;margin:2em auto;line-height:1.7;color:#111}
h1{text-align:center;font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #555;padding:.35em;vertical-align:top}
th{background:#eee}.blank{display:inline-block;min-width:12em;border-bottom:1px solid #000}
blockquote{margin:.4em 0 .8em 1em;padding-left:.8em;border-left:3px solid #aaa;white-space:pre-wrap}
.note{color:#555;font-size:.9em}.tentative{color:#a40}
"""


def _legal_line(c: LegalConsequence) -> str:
    mark = f"（{RETRIEVED_NOTE}）" if c.retrieved else ""
    return f"{c.citation.citation}{mark}"


# -- HTML ---------------------------------------------------------------------------------------
def _html_page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>" + "".join(body) + "</body></html>")


def _html_blanks(names) -> str:
    return "".join(f"<p>{escape(n)}：<span class=\"blank\">&nbsp;</span></p>" for n in names)


def _html_quote(citation_text: str, quote: str, extra: str = "") -> str:
    return f"<p><b>{escape(citation_text)}</b>{escape(extra)}</p><blockquote>{escape(quote)}</blockquote>"


def paper_html(paper: Paper) -> str:
    body = [f"<h1>{escape(paper.title)}（草稿）</h1>", f"<p class=\"note\">{escape(DRAFT_NOTE)}</p>",
            _html_blanks(paper.header_blanks), "<h2>隐患清单</h2>",
            "<table><tr><th>序号</th><th>隐患描述</th><th>隐患等级</th><th>判定依据</th><th>整改期限</th></tr>"]
    for f in paper.findings:
        basis = "<br>".join(escape(c.citation) for c in f.basis) or "（无）"
        body.append(f"<tr><td>{f.number}</td><td>{escape(f.description)}</td><td>{escape(f.level)}</td>"
                    f"<td>{basis}</td><td><span class=\"blank\">&nbsp;</span></td></tr>")
    body.append("</table>")
    for f in paper.findings:
        body.append(f"<h2>隐患{f.number}：{escape(f.level)}</h2><p>{escape(f.description)}</p>")
        body.append("<h3>判定依据（原文）</h3>")
        body += [_html_quote(c.citation, c.quote) for c in f.basis] or ["<p>（无）</p>"]
        body.append("<h3>违反的义务</h3>")
        body += [_html_quote(o.citation.citation, o.citation.quote,
                             f"（{RETRIEVED_NOTE}）" if o.retrieved else "") for o in f.obligations] \
            or ["<p>（未找到对应的义务条款，请执法人员认定）</p>"]
        body.append("<h3>适用罚则</h3>")
        body += [_html_quote(p.citation.citation, p.citation.quote, f"——{p.note}" if p.note else "")
                 for p in f.penalties] or ["<p>（无）</p>"]
        if f.to_verify:
            body.append("<h3>待核实事项</h3><ul>" + "".join(f"<li>{escape(q)}</li>" for q in f.to_verify) + "</ul>")
        body.append(_html_blanks(paper.finding_blanks))
    if paper.enforcement:
        body.append("<h2>执法依据</h2>")
        body += [_html_quote(e.citation.citation, e.citation.quote) for e in paper.enforcement]
    body.append("<h2>复查与签字</h2>" + _html_blanks(paper.footer_blanks))
    return _html_page(paper.title, body)


def self_check_html(saved: dict[str, Any]) -> str:
    report = saved["report"]
    title = f"{saved['enterprise_name']} 重大事故隐患自查报告"
    body = [f"<h1>{escape(title)}</h1>", f"<p>自查时间：{escape(saved['created_at'])}</p>",
            f"<p>{escape(report.get('summary', ''))}</p>", f"<p class=\"note\">{escape(_profile_line(report))}</p>",
            "<h2>发现的重大事故隐患</h2>"]
    for n, h in enumerate(report.get("hazards") or [], 1):
        c = h["citation"]
        body.append(f"<h3>{n}. {escape(c['citation'])}</h3>")
        body += [f"<p>{escape(a['question'])} 回答：{escape(a['answer'])}</p>" for a in h.get("answered") or []]
        body.append(f"<blockquote>{escape(c['quote'])}</blockquote>")
        body += [_html_quote(o["citation"], o["quote"], f"（违反的义务；{o['confirmation']}）" if o.get("retrieved")
                             else "（违反的义务）") for o in h.get("obligations") or []]
    if not report.get("hazards"):
        body.append("<p>未发现重大事故隐患。</p>")
    body.append("<h2>不确定的检查项（需核实）</h2>")
    for u in report.get("uncertain") or []:
        checks = "".join(f"<li>{escape(q)}</li>" for q in u.get("to_check") or [])
        body.append(f"<p>{escape(u['question'])}（{escape(u['citation']['citation'])}）</p>"
                    + (f"<ul>{checks}</ul>" if checks else ""))
    if not report.get("uncertain"):
        body.append("<p>（无）</p>")
    body.append("<h2>法律后果</h2>")
    body += [_html_quote(c["citation"], c["quote"], f"（{c['role_zh']}）{c['note']}")
             for c in report.get("consequences") or []] or ["<p>（无）</p>"]
    return _html_page(title, body)


def _profile_line(report: dict[str, Any]) -> str:
    p = report.get("profile") or {}
    line = f"行业：{'、'.join(p.get('industries') or [])}；专项领域：{'、'.join(p.get('domains') or []) or '无'}"
    inferred = (p.get("inferred_industries") or []) + (p.get("inferred_domains") or [])
    return line + (f"（其中推定：{'、'.join(inferred)}）" if inferred else "")


# -- DOCX ---------------------------------------------------------------------------------------
# XML 1.0 cannot hold C0 controls (except tab and line breaks), lone surrogates or U+FFFE/FFFF, and
# lxml refuses them; user text (a finding, an enterprise name) may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: Any) -> Any:
    """`value` (text, or dicts, lists and dataclasses of text) without characters XML cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_xml_safe(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _xml_safe(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    return value


def _docx():
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    return doc


def _docx_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_blanks(doc, names) -> None:
    for name in names:
        doc.add_paragraph(f"{name}：{BLANK}")


def _docx_quote(doc, heading: str, quote: str) -> None:
    doc.add_paragraph().add_run(heading).bold = True
    doc.add_paragraph(quote, style="Quote")


def paper_docx(paper: Paper) -> bytes:
    paper = _xml_safe(paper)
    doc = _docx()
    doc.add_heading(f"{paper.title}（草稿）", level=0)
    doc.add_paragraph(DRAFT_NOTE)
    _docx_blanks(doc, paper.header_blanks)
    doc.add_heading("隐患清单", level=1)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("序号", "隐患描述", "隐患等级", "判定依据", "整改期限")):
        cell.text = text
    for f in paper.findings:
        row = table.add_row().cells
        row[0].text, row[1].text, row[2].text = str(f.number), f.description, f.level
        row[3].text = "\n".join(c.citation for c in f.basis) or "（无）"
        row[4].text = BLANK
    for f in paper.findings:
        doc.add_heading(f"隐患{f.number}：{f.level}", level=1)
        doc.add_paragraph(f.description)
        doc.add_heading("判定依据（原文）", level=2)
        for c in f.basis:
            _docx_quote(doc, c.citation, c.quote)
        doc.add_heading("违反的义务", level=2)
        for o in f.obligations:
            _docx_quote(doc, _legal_line(o), o.citation.quote)
        if not f.obligations:
            doc.add_paragraph("（未找到对应的义务条款，请执法人员认定）")
        doc.add_heading("适用罚则", level=2)
        for p in f.penalties:
            _docx_quote(doc, p.citation.citation + (f"——{p.note}" if p.note else ""), p.citation.quote)
        if f.to_verify:
            doc.add_heading("待核实事项", level=2)
            for q in f.to_verify:
                doc.add_paragraph(q, style="List Bullet")
        _docx_blanks(doc, paper.finding_blanks)
    if paper.enforcement:
        doc.add_heading("执法依据", level=1)
        for e in paper.enforcement:
            _docx_quote(doc, e.citation.citation, e.citation.quote)
    doc.add_heading("复查与签字", level=1)
    _docx_blanks(doc, paper.footer_blanks)
    return _docx_bytes(doc)


def self_check_docx(saved: dict[str, Any]) -> bytes:
    saved = _xml_safe(saved)
    report = saved["report"]
    doc = _docx()
    doc.add_heading(f"{saved['enterprise_name']} 重大事故隐患自查报告", level=0)
    doc.add_paragraph(f"自查时间：{saved['created_at']}")
    doc.add_paragraph(report.get("summary", ""))
    doc.add_paragraph(_profile_line(report))
    doc.add_heading("发现的重大事故隐患", level=1)
    for n, h in enumerate(report.get("hazards") or [], 1):
        c = h["citation"]
        doc.add_heading(f"{n}. {c['citation']}", level=2)
        for a in h.get("answered") or []:
            doc.add_paragraph(f"{a['question']} 回答：{a['answer']}")
        doc.add_paragraph(c["quote"], style="Quote")
        for o in h.get("obligations") or []:
            mark = f"（违反的义务；{o['confirmation']}）" if o.get("retrieved") else "（违反的义务）"
            _docx_quote(doc, o["citation"] + mark, o["quote"])
    if not report.get("hazards"):
        doc.add_paragraph("未发现重大事故隐患。")
    doc.add_heading("不确定的检查项（需核实）", level=1)
    for u in report.get("uncertain") or []:
        doc.add_paragraph(f"{u['question']}（{u['citation']['citation']}）")
        for q in u.get("to_check") or []:
            doc.add_paragraph(q, style="List Bullet")
    if not report.get("uncertain"):
        doc.add_paragraph("（无）")
    doc.add_heading("法律后果", level=1)
    for c in report.get("consequences") or []:
        _docx_quote(doc, f"{c['citation']}（{c['role_zh']}）{c['note']}", c["quote"])
    return _docx_bytes(doc)
