"""ingest.loaders: bad files are refused with a clear message; good files become lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.loaders import load_file, title_index
from ingest.structure import structure

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_clear_error(exc: IngestError, path: Path) -> None:
    message = str(exc)
    assert str(path) in message
    assert exc.path == str(path)
    assert CJK.search(exc.zh), exc.zh
    assert CJK.search(message)
    assert exc.en and exc.en in message


def load_error(path: Path) -> IngestError:
    with pytest.raises(IngestError) as info:
        load_file(path)
    assert_clear_error(info.value, path)
    return info.value


# -- bad input ------------------------------------------------------------------------------
def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty-std.md"
    path.write_bytes(b"")
    assert "为空" in load_error(path).zh


def test_whitespace_only_file_is_refused(tmp_path):
    path = tmp_path / "blank-std.md"
    path.write_text("  \n\n\t \r\n", encoding="utf-8")
    assert "为空" in load_error(path).zh


def test_binary_garbage_with_md_name_is_refused(tmp_path):
    path = tmp_path / "garbage.md"
    path.write_bytes(bytes(range(256)) * 8)
    load_error(path)


def test_binary_garbage_without_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "garbage2.md"
    path.write_bytes(bytes(range(0x80, 0x100)) * 8)
    load_error(path)


def test_gbk_text_is_refused_with_utf8_hint(tmp_path):
    path = tmp_path / "gbk-std.txt"
    path.write_bytes("# 测试标准\n第一条 测试企业应当遵守本标准。\n".encode("gbk"))
    err = load_error(path)
    assert "UTF-8" in err.zh
    assert "GBK" in err.zh


@pytest.mark.parametrize("name", ["test-std.rtf", "test-std.doc", "test-std"])
def test_unsupported_extension_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("第一条 测试。", encoding="utf-8")
    err = load_error(path)
    assert "不支持" in err.zh


def test_invalid_yaml_front_matter_is_refused(tmp_path):
    path = tmp_path / "bad-yaml.md"
    path.write_text("---\ntitle: [测试标准\nissued: 2023-01-01\n---\n第一条 测试。\n", encoding="utf-8")
    err = load_error(path)
    assert "YAML" in err.zh


def test_front_matter_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list-yaml.md"
    path.write_text("---\n- 测试\n- 标准\n---\n第一条 测试。\n", encoding="utf-8")
    load_error(path)


def test_broken_docx_is_refused(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(2000)))
    load_error(path)


# -- good input -----------------------------------------------------------------------------
MARKDOWN = """\
---
title: 测试行业重大事故隐患判定标准
doc_number: 测试部令第1号
kind: 部门规章
issued: 2023-04-14
effective: 2023-05-15
status: 现行有效
complete: true
missing: []
---

# 测试行业重大事故隐患判定标准

第一条 为了准确判定测试行业重大事故隐患，制定本标准。

第二条 测试企业有下列情形之一的，应当判定为重大事故隐患：
（一）未设置测试报警装置的；
（二）超量储存的。
"""


def test_markdown_with_front_matter(tmp_path):
    path = tmp_path / "test-std.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    [doc] = load_file(path)
    assert doc.slug == "test-std"
    assert doc.source_format == ".md"
    assert doc.source_path == str(path)
    assert doc.meta["title"] == "测试行业重大事故隐患判定标准"
    assert doc.meta["doc_number"] == "测试部令第1号"
    assert doc.meta["issued"] == "2023-04-14"
    assert doc.meta["effective"] == "2023-05-15"
    assert isinstance(doc.meta["effective"], str)
    assert doc.meta["complete"] is True
    assert doc.lines == [
        "# 测试行业重大事故隐患判定标准",
        "第一条 为了准确判定测试行业重大事故隐患，制定本标准。",
        "第二条 测试企业有下列情形之一的，应当判定为重大事故隐患：",
        "（一）未设置测试报警装置的；",
        "（二）超量储存的。",
    ]
    ids = [c.clause_id for c in structure(doc.slug, doc.lines).clauses]
    assert ids == ["test-std:1", "test-std:2", "test-std:2:1", "test-std:2:2"]
    assert len(doc.file_hash) == 64 and len(doc.content_hash) == 64


def test_slug_from_front_matter_wins_over_file_name(tmp_path):
    path = tmp_path / "some-file.md"
    path.write_text("---\nslug: test-slug\ntitle: 测试\n---\n第一条 测试。\n", encoding="utf-8")
    assert load_file(path)[0].slug == "test-slug"


def test_crlf_line_endings_are_unified(tmp_path):
    path = tmp_path / "crlf.md"
    path.write_bytes("---\r\ntitle: 测试标准\r\n---\r\n第一条 测试。\r\n第二条 测试。\r\n".encode("utf-8"))
    [doc] = load_file(path)
    assert doc.meta["title"] == "测试标准"
    assert doc.lines == ["第一条 测试。", "第二条 测试。"]


def test_txt_without_front_matter_takes_title_from_heading(tmp_path):
    path = tmp_path / "plain-std.txt"
    path.write_text("# 测试行业安全规定\n\n第一条 测试。\n", encoding="utf-8")
    [doc] = load_file(path)
    assert doc.meta == {"title": "测试行业安全规定"}
    assert doc.slug == "plain-std"
    assert doc.source_format == ".txt"
    assert doc.lines == ["# 测试行业安全规定", "第一条 测试。"]


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom-std.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "# 测试标准\n第一条 测试。\n".encode("utf-8"))
    [doc] = load_file(path)
    assert doc.meta["title"] == "测试标准"
    assert doc.lines[0] == "# 测试标准"
    assert not doc.lines[0].startswith("\ufeff")


def test_utf8_bom_before_front_matter_is_accepted(tmp_path):
    path = tmp_path / "bom-fm.md"
    path.write_bytes(b"\xef\xbb\xbf" + "---\ntitle: 测试标准\nissued: 2020-01-02\n---\n第一条 测试。\n".encode("utf-8"))
    [doc] = load_file(path)
    assert doc.meta == {"title": "测试标准", "issued": "2020-01-02"}
    assert doc.lines == ["第一条 测试。"]


# -- DOCX -----------------------------------------------------------------------------------
def make_docx(path: Path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading("测试行业重大事故隐患判定标准", level=1)
    d.add_paragraph("第一条 为了准确判定测试行业重大事故隐患，制定本标准。")
    d.add_paragraph("第二条 测试企业有下列情形之一的，应当判定为重大事故隐患：")
    d.add_paragraph("（一）未设置测试报警装置的；")
    d.add_paragraph("（二）测试储罐超过下表限值的：")
    d.add_paragraph("表1 测试限值")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "项目"
    table.cell(0, 1).text = "限值"
    table.cell(1, 0).text = "压力"
    table.cell(1, 1).text = "≤30kPa"
    d.add_paragraph("第三条 本标准自发布之日起施行。")
    d.save(str(path))


def test_docx_is_loaded_into_structured_lines(tmp_path):
    path = tmp_path / "test-docx.docx"
    make_docx(path)
    [doc] = load_file(path)
    assert doc.source_format == ".docx"
    assert doc.slug == "test-docx"
    assert doc.meta["title"] == "测试行业重大事故隐患判定标准"
    tables = [ln for ln in doc.lines if ln.startswith("<table>")]
    assert tables == ["<table>\n<tr><td>项目</td><td>限值</td></tr>\n<tr><td>压力</td><td>≤30kPa</td></tr>\n</table>"]
    body = structure(doc.slug, doc.lines)
    clauses = {c.clause_id: c for c in body.clauses}
    assert list(clauses) == ["test-docx:1", "test-docx:2", "test-docx:2:1", "test-docx:2:2", "test-docx:3"]
    assert clauses["test-docx:2:2"].text.startswith("（二）测试储罐超过下表限值的：\n表1 测试限值\n<table>")
    assert clauses["test-docx:3"].text == "第三条 本标准自发布之日起施行。"


def test_docx_title_maps_to_known_slug(tmp_path):
    path = tmp_path / "upload.docx"
    make_docx(path)
    [doc] = load_file(path, known_titles=title_index({"测试行业重大事故隐患判定标准": "test-known"}))
    assert doc.slug == "test-known"
