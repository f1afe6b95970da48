"""PDF loading: refusing unreadable PDFs, splitting compilations, restoring paragraphs.

Unit tests draw their own small PDFs with reportlab (made-up clauses, no corpus text);
the corpus test checks the real compilation against the verified Markdown files.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from assistant.normalize import close_cjk_digit_gaps, for_matching
from ingest.documents import build_document
from ingest.errors import IngestError
from ingest.loaders import load_file, title_index
from ingest.manifest import Manifest, load_manifest
from ingest.pdf import load_pdf, restore_paragraphs

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

WRAP = 30  # characters per full line in the test PDFs
TITLE = "测试企业安全标准"
OTHER_TITLE = "测试仓库安全标准"

CLAUSES = [
    "第一条 为了加强测试企业的安全管理，防止和减少生产安全事故，保障从业人员生命和财产安全，根据有关法律、行政法规，制定本标准。",
    "第二条 本标准适用于测试企业重大事故隐患的判定。测试企业内涉及其他行业的，适用其他行业的规定。",
    "第三条 测试企业有下列情形之一的，应当判定为重大事故隐患：",
    "（一）未按照规定设置安全生产管理机构或者配备安全生产管理人员，并且自 2023 年 5 月起仍未整改的；",
    "（二）测试装置的操作人员未经专门培训并取得相应资格，擅自上岗作业的；",
    "（三）储罐区未设置可燃气体浓度监测报警装置，或者监测数据未接入 24 小时有人值守场所的。",
    "第四条 本标准自发布之日起施行。",
]
OTHER_CLAUSES = [
    "一、仓库未按照规定设置防火分区，或者防火分区之间的防火墙被擅自拆除、开洞而未采取封堵措施。",
    "二、仓库内存放的物品超过核定数量。",
]


def wrap(paragraphs: list[str], width: int = WRAP) -> list[str]:
    """Hard-wrap paragraphs the way a PDF page does."""
    return [p[i:i + width] for p in paragraphs for i in range(0, len(p), width)]


def make_pdf(path: Path, pages: list[list[str]], outline: dict[int, str] | None = None,
             page_numbers: bool = False) -> Path:
    """Draw `pages` (lists of lines) with a CJK font; `outline` maps page index → bookmark."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for index, lines in enumerate(pages):
        c.setFont(FONT, 12)
        y = 800
        for line in lines:
            c.drawString(50, y, line)
            y -= 18
        if page_numbers:
            c.drawString(290, 40, f"- {index + 1} -")
        if outline and index in outline:
            c.bookmarkPage(f"p{index}")
            c.addOutlineEntry(outline[index], f"p{index}", level=0)
        c.showPage()
    c.save()
    return path


def standard_page(title: str = TITLE, clauses: list[str] = CLAUSES) -> list[str]:
    return [title, "测试监管局令第 10 号", *wrap(clauses)]


def structured(doc, slug: str | None = None):
    doc.slug = slug or doc.slug
    return build_document(doc, Manifest()).clauses


# -- reportlab sanity ------------------------------------------------------------------


def test_reportlab_cid_font_text_is_extractable(tmp_path):
    path = make_pdf(tmp_path / "probe.pdf", [["第一条 测试文字 2023 年"]])
    assert "第一条 测试文字 2023 年" in PdfReader(path).pages[0].extract_text()


# -- paragraphs ------------------------------------------------------------------------


def test_hard_wrapped_paragraphs_are_rejoined_one_per_clause(tmp_path):
    path = make_pdf(tmp_path / "standard.pdf", [standard_page()])
    [doc] = load_pdf(path, {})
    assert doc.lines == [close_cjk_digit_gaps(c) for c in CLAUSES]


def test_gaps_between_cjk_and_digits_are_closed(tmp_path):
    path = make_pdf(tmp_path / "standard.pdf", [standard_page()])
    [doc] = load_pdf(path, {})
    assert doc.meta["doc_number"] == "测试监管局令第10号"
    assert "自2023年5月起仍未整改" in doc.lines[3]
    assert "接入24小时有人值守" in doc.lines[5]


def test_title_and_doc_number_are_not_body_text(tmp_path):
    path = make_pdf(tmp_path / "standard.pdf", [standard_page()])
    [doc] = load_pdf(path, {})
    assert doc.meta["title"] == TITLE
    assert doc.lines[0].startswith("第一条")


def test_rejoined_paragraphs_structure_into_articles_and_items(tmp_path):
    path = make_pdf(tmp_path / "standard.pdf", [standard_page()])
    [doc] = load_pdf(path, {})
    clauses = {c.clause_id: c for c in structured(doc, "test-standard")}
    assert list(clauses) == ["test-standard:1", "test-standard:2", "test-standard:3",
                             "test-standard:3:1", "test-standard:3:2", "test-standard:3:3",
                             "test-standard:4"]
    assert clauses["test-standard:3:2"].text == CLAUSES[4]


def test_page_numbers_are_dropped_and_paragraphs_continue_across_pages(tmp_path):
    lines = standard_page()
    # Break the page inside 第一条, the way a long clause runs over a page end.
    pages = [lines[:3], lines[3:]]
    path = make_pdf(tmp_path / "standard.pdf", pages, page_numbers=True)
    [doc] = load_pdf(path, {})
    assert doc.lines[0] == CLAUSES[0]
    assert not any("- 1 -" in line or "- 2 -" in line for line in doc.lines)


def test_marker_like_wrapped_line_after_a_full_line_is_joined():
    full = "为" * (WRAP - 2) + "依照"
    lines = ["第一条 " + "甲" * (WRAP - 4), full, "第三条规定的程序处理。", "第二条 附则。"]
    assert restore_paragraphs(lines) == [
        "第一条 " + "甲" * (WRAP - 4) + full + "第三条规定的程序处理。",
        "第二条 附则。",
    ]


def test_short_line_ending_a_sentence_starts_a_new_paragraph():
    lines = ["第一条 " + "甲" * (WRAP - 4), "乙" * WRAP, "丙丙丙。", "第二款的文字。"] + ["丁" * WRAP] * 8
    paragraphs = restore_paragraphs(lines)
    assert paragraphs[0] == "第一条 " + "甲" * (WRAP - 4) + "乙" * WRAP + "丙丙丙。"
    assert paragraphs[1].startswith("第二款的文字。")


def test_decimal_sub_item_starts_a_line_but_a_wrapped_number_does_not():
    lines = [
        "6.在" + "甲" * (WRAP - 3) + "。",
        "7.2 个掘进工作面之间的距离小于 150m 时，未停止生产。",
        "8.采煤工作面瓦斯抽采率不符合表" + "乙" * (WRAP - 16),
        "1 规定。",
    ] + ["丙" * WRAP] * 8
    paragraphs = restore_paragraphs(lines)
    assert paragraphs[1] == "7.2个掘进工作面之间的距离小于150m时，未停止生产。"
    assert paragraphs[2].endswith("乙1规定。")


def test_table_rows_after_a_caption_stay_in_one_paragraph_on_their_own_lines():
    lines = ["1.不符合表1规定。", "表1 测试指标", "产量A(t) 指标(m³/t)", "A≤1000 ≤8", "A>1000 ≤6",
             "2.下一项。"] + ["甲" * WRAP] * 8
    paragraphs = restore_paragraphs(lines)
    assert paragraphs[:3] == ["1.不符合表1规定。", "表1测试指标\n产量A(t) 指标(m³/t)\nA≤1000 ≤8\nA>1000 ≤6",
                              "2.下一项。"]


# -- splitting -------------------------------------------------------------------------


def test_outline_splits_a_compilation_into_its_documents(tmp_path):
    pages = [["测试标准汇编"], ["目　录", "1. " + TITLE, "2. " + OTHER_TITLE],
             standard_page(), [OTHER_TITLE, "测试局〔2024〕5 号", *wrap(OTHER_CLAUSES)]]
    path = make_pdf(tmp_path / "汇编.pdf", pages, outline={1: "目　录", 2: TITLE, 3: OTHER_TITLE})
    docs = load_pdf(path, {})
    assert [d.meta["title"] for d in docs] == [TITLE, OTHER_TITLE]
    assert [d.slug for d in docs] == ["汇编-1", "汇编-2"]
    assert docs[1].meta["doc_number"] == "测试局〔2024〕5号"
    assert docs[1].lines == OTHER_CLAUSES


def test_documents_get_their_manifest_slugs_by_title(tmp_path):
    pages = [standard_page(), [OTHER_TITLE, *wrap(OTHER_CLAUSES)]]
    path = make_pdf(tmp_path / "汇编.pdf", pages, outline={0: TITLE, 1: OTHER_TITLE})
    known = title_index({TITLE: "test-standard", OTHER_TITLE: "test-warehouse"})
    docs = load_file(path, known)
    assert [d.slug for d in docs] == ["test-standard", "test-warehouse"]
    assert all(d.source_format == ".pdf" and len(d.file_hash) == 64 for d in docs)


def test_without_outline_known_titles_at_page_tops_split_the_pdf(tmp_path):
    # The second title wraps over two lines, as long titles do.
    pages = [["测试标准汇编"], ["目　录", "1. " + TITLE],
             standard_page(), ["测试仓库安全", "标准", *wrap(OTHER_CLAUSES)]]
    path = make_pdf(tmp_path / "汇编.pdf", pages)
    known = title_index({TITLE: "test-standard", OTHER_TITLE: "test-warehouse"})
    docs = load_pdf(path, known)
    assert [(d.slug, d.meta["title"]) for d in docs] == [("test-standard", TITLE),
                                                         ("test-warehouse", OTHER_TITLE)]
    assert docs[1].lines == OTHER_CLAUSES


def test_without_outline_or_known_title_the_pdf_is_one_document_titled_by_its_first_line(tmp_path):
    path = make_pdf(tmp_path / "某标准.pdf", [standard_page()])
    [doc] = load_pdf(path, {})
    assert (doc.slug, doc.meta["title"]) == ("某标准", TITLE)


# -- refusals --------------------------------------------------------------------------


def test_encrypted_pdf_is_refused_with_its_name(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf", [standard_page()])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    with pytest.raises(IngestError) as err:
        load_pdf(path, {})
    assert err.value.path == str(path)
    assert "加密" in err.value.zh and "encrypted" in err.value.en


def test_image_only_pdf_is_refused_as_a_scan_needing_ocr(tmp_path):
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, format="PNG")
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 50, 500, width=400, height=200)
    c.showPage()
    c.save()
    with pytest.raises(IngestError) as err:
        load_pdf(path, {})
    assert "扫描" in err.value.zh and "OCR" in err.value.zh
    assert "image" in err.value.en


def test_pdf_with_text_on_too_few_pages_is_refused_as_a_scan(tmp_path):
    pages = [standard_page()] + [[]] * 11
    path = make_pdf(tmp_path / "mostly-scanned.pdf", pages)
    with pytest.raises(IngestError, match="OCR"):
        load_pdf(path, {})


def test_a_page_without_text_inside_a_document_is_reported(tmp_path):
    lines = standard_page()
    path = make_pdf(tmp_path / "standard.pdf", [lines[:3], [], lines[3:]])
    [doc] = load_pdf(path, {})
    assert doc.lines[-1] == CLAUSES[-1]
    assert any("第2页" in w and "扫描" in w for w in doc.warnings)


def test_garbage_bytes_named_pdf_are_refused(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"this is not a pdf file at all\n" * 20)
    with pytest.raises(IngestError) as err:
        load_file(path, {})
    assert "PDF" in err.value.zh and "not a valid PDF" in err.value.en


def test_empty_pdf_file_is_refused(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(IngestError) as err:
        load_file(path, {})
    assert "为空" in err.value.zh and "empty" in err.value.en


# -- the real compilation --------------------------------------------------------------

COMPILATION = "pdf/重大事故隐患判定标准汇编.pdf"
COMPILED_SLUGS = [
    "gongmao-major-hazard", "chemical-major-hazard", "fireworks-major-hazard", "coal-major-hazard",
    "metal-mine-major-hazard", "metal-mine-major-hazard-supplement", "construction-major-hazard",
    "gas-major-hazard", "civil-explosives-major-hazard",
]
# What the PDF itself gets wrong, as (PDF matching key fragment, Markdown one). Coal 表6:
# LibreOffice draws the subscript of "K₁" after the rest of its run, so any text
# extraction reads "K[mL/(g·min₁ 1/2)]".
KNOWN_PDF_ARTIFACTS = [("k[ml/(g·min11/2)]", "k1[ml/(g·min1/2)]")]


def _clauses_by_id(doc, manifest):
    return {c.clause_id: c for c in build_document(doc, manifest).clauses}


def _repair_known_artifacts(key: str, used: set[str]) -> str:
    for wrong, right in KNOWN_PDF_ARTIFACTS:
        if wrong in key:
            used.add(wrong)
            key = key.replace(wrong, right)
    return key


def _first_difference(a: str, b: str, context: int = 15) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, at - context)
    return f"pdf …{a[start:at + context]}… / md …{b[start:at + context]}…"


@pytest.mark.corpus
def test_compilation_pdf_yields_the_markdown_clauses(corpus_dir):
    manifest = load_manifest()
    known = title_index(manifest.titles())
    docs = load_file(corpus_dir / COMPILATION, known)
    assert [d.slug for d in docs] == COMPILED_SLUGS
    mismatches, used = [], set()
    for doc in docs:
        [markdown] = load_file(corpus_dir / "standards" / f"{doc.slug}.md", known)
        from_pdf, from_md = _clauses_by_id(doc, manifest), _clauses_by_id(markdown, manifest)
        assert set(from_pdf) == set(from_md), doc.slug
        for clause_id, clause in from_md.items():
            pdf_key = _repair_known_artifacts(for_matching(from_pdf[clause_id].text), used)
            md_key = for_matching(clause.text)
            if pdf_key != md_key:
                mismatches.append(f"{clause_id}: {_first_difference(pdf_key, md_key)}")
    assert not mismatches, "\n".join(mismatches)
    assert used == {wrong for wrong, _ in KNOWN_PDF_ARTIFACTS}, "a known PDF artifact is gone"


@pytest.mark.corpus
def test_compilation_pdf_documents_carry_their_doc_numbers(corpus_dir):
    manifest = load_manifest()
    docs = load_file(corpus_dir / COMPILATION, title_index(manifest.titles()))
    for doc in docs:
        assert doc.meta["doc_number"] == manifest.get(doc.slug).doc_number, doc.slug
