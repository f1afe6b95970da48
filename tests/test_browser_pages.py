"""The quiz, self-check and ledger pages driven in Debian Chromium by Playwright, against the real app
over the real index (ledgers and reports go to a temporary data dir). Screenshots go to
test-output/browser/ next to the chat's, desktop and phone width."""

from __future__ import annotations

import base64
import io
import re

import openpyxl
import pytest
from test_browser import browser, no_horizontal_scroll, open_page, serve, shot  # noqa: F401  (browser: fixture)

from api.app import create_app
from api.settings import Settings
from assistant.citation import human_citation

pytestmark = pytest.mark.corpus

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "accept_downloads": True}
PHONE_WIDTH = 390
PHONE = {"viewport": {"width": PHONE_WIDTH, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "accept_downloads": True}
HAN = re.compile(r"[\u4e00-\u9fff]")

GONGMAO = "gongmao-major-hazard"
# 工贸标准 第十一条第（一）项: a dust-explosion area in a multi-storey non-frame building is a major hazard.
DUST_IN_MULTI_STOREY = "gongmao-major-hazard:11:1"
# A 有色 plant's criteria are 工贸 第五条; 第四条 is 冶金's; 第十一条 is 粉尘涉爆's.
NONFERROUS_ARTICLE, METALLURGY_ARTICLE, DUST_ARTICLE = f"{GONGMAO}:5", f"{GONGMAO}:4", f"{GONGMAO}:11"

# Ledger rows (unit, industry, description) and the verdict each must get, from the criteria:
# 铝镁 dust with positive-pressure extraction is named in 工贸 第十一条第（四）项 (major); a broken
# distribution-box door is a hazard no criterion lists (general); sanding upstairs hinges on the
# building's structure (insufficient); the weather is no hazard at all (out of scope).
POSITIVE_PRESSURE = "gongmao-major-hazard:11:4"
LEDGER = [
    ("甲铝业公司", "有色", "铝镁粉尘除尘系统采用正压除尘", "major"),
    ("乙机械厂", "机械", "配电箱门坏了，电线私拉乱接", "general"),
    (None, None, None, "empty"),
    ("丙家具厂", "轻工", "车间二楼做木制品打磨", "insufficient"),
    ("丁公司", "", "今天天气很好", "out_of_scope"),
]


@pytest.fixture(scope="module")
def pages_url(real_index, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("pages")
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'db.sqlite3'}", llm_base_url="")
    with serve(create_app(settings, index_loader=lambda s: real_index)) as url:
        yield url


def ledger_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "隐患台账"
    ws.append(["序号", "被检查单位", "所属行业", "隐患描述"])
    for i, (unit, industry, text, _) in enumerate(LEDGER, 1):
        ws.append([i if text else None, unit, industry, text])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def drop_file(page, selector: str, name: str, content: bytes, mime: str) -> None:
    """Drag and drop a file onto `selector`, as a user dragging it from the desktop would."""
    page.evaluate("""([selector, name, b64, mime]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        const target = document.querySelector(selector);
        for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""", [selector, name, base64.b64encode(content).decode(), mime])


def fits_width(page, selector: str, width: int) -> None:
    box = page.locator(selector).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box)


# -- 出题 ---------------------------------------------------------------------------------------------
def test_desktop_quiz_preview_citation_regenerate_and_export(browser, pages_url, real_index):  # noqa: F811
    from playwright.sync_api import expect

    store = real_index.store
    context, page, errors = open_page(browser, pages_url, **DESKTOP)
    try:
        page.click("#tab-quiz")
        expect(page.locator("#view-quiz")).to_be_visible()
        # The documents come from GET /v1/documents; choose only the 工贸 standard.
        page.click("#quiz-documents-picker summary")
        page.locator(f'#quiz-documents input[value="{GONGMAO}"]').check()
        expect(page.locator("#quiz-documents-summary")).to_have_text("已选 1 份")
        counts = {"single": 2, "multiple": 1, "judge": 2, "fill": 0}
        for kind, n in counts.items():
            page.fill(f"#quiz-{kind}", str(n))
        page.fill("#quiz-seed", "11")

        # Nothing asked for: the page says so before any request.
        page.fill("#quiz-single", "0")
        page.fill("#quiz-multiple", "0")
        page.fill("#quiz-judge", "0")
        page.click("#quiz-generate")
        expect(page.locator("#quiz-error")).to_have_text("请至少为一种题型填写数量")
        for kind, n in counts.items():
            page.fill(f"#quiz-{kind}", str(n))

        page.click("#quiz-generate")
        questions = page.locator(".quiz-question")
        expect(questions).to_have_count(sum(counts.values()))
        expect(page.locator("#quiz-error")).to_be_hidden()
        for kind, n in counts.items():
            expect(page.locator(f'.quiz-question[data-type="{kind}"]')).to_have_count(n)
        expect(page.locator("#quiz-meta")).to_contain_text("种子 11")
        first_stems = questions.locator(".question-stem").all_inner_texts()

        # Every question shows its answer and cites clauses of the chosen document, by their citation.
        for i in range(questions.count()):
            q = questions.nth(i)
            expect(q.locator(".question-answer strong")).not_to_be_empty()
            chips = q.locator(".citation-chip")
            assert chips.count() >= 1
            for cid, text in zip(chips.evaluate_all("ns => ns.map(n => n.dataset.clauseId)"),
                                 chips.all_inner_texts(), strict=True):
                clause = store.clause(cid)
                assert cid.startswith(GONGMAO + ":"), cid
                assert text == human_citation(clause, store.document_of(clause))
        # A choice question marks exactly its keyed options as correct.
        single = page.locator('.quiz-question[data-type="single"]').first
        answer = single.locator(".question-answer strong").inner_text()
        assert single.locator(".question-option.correct").evaluate_all("ns => ns.map(n => n.dataset.option)") == [answer]
        shot(page, "09-desktop-quiz")

        # A citation opens the clause panel on the cited clause, word for word.
        chip = questions.first.locator(".citation-chip").first
        cited = chip.get_attribute("data-clause-id")
        chip.click()
        detail = page.locator(f'#clause-panel .clause-detail[data-clause-id="{cited}"]')
        expect(detail).to_be_visible()
        expect(detail.locator(".clause-text")).to_have_text(store.clause(cited).text)
        shot(page, "10-desktop-quiz-clause-panel")
        page.click("#clause-panel-close")
        expect(page.locator("#clause-panel")).to_be_hidden()

        # 重新生成 keeps the seed (same quiz); 换一套 draws a new seed (another quiz).
        result = page.locator("#quiz-result")
        expect(result).to_have_attribute("data-generation", "1")
        page.click("#quiz-regenerate")
        expect(result).to_have_attribute("data-generation", "2")
        expect(page.locator("#quiz-meta")).to_contain_text("种子 11 ")
        assert questions.locator(".question-stem").all_inner_texts() == first_stems
        page.click("#quiz-shuffle")
        expect(result).to_have_attribute("data-generation", "3")
        expect(questions).to_have_count(sum(counts.values()))
        seed = page.input_value("#quiz-seed")
        assert seed and seed != "11"
        assert f"种子 {seed} " in page.inner_text("#quiz-meta")
        stems = questions.locator(".question-stem").all_inner_texts()
        assert stems != first_stems

        # Hiding the answers hides the key, for showing the paper to a class.
        page.locator("#quiz-show-answers").uncheck()
        expect(questions.first.locator(".answer-key")).to_be_hidden()
        page.locator("#quiz-show-answers").check()

        # Excel export: the server's file name, one row per question in the order shown.
        with page.expect_download() as download:
            page.click('.quiz-export[data-format="xlsx"]')
        name = download.value.suggested_filename
        assert name.startswith("隐患判定测验-quiz-") and name.endswith(".xlsx"), name
        ws = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
        header = [c.value for c in ws[1]]
        exported = [row[header.index("题干")] for row in ws.iter_rows(min_row=2, values_only=True)]
        assert exported == stems
        expect(page.locator("#quiz-status")).to_have_text(f"已下载：{name}")
        assert no_horizontal_scroll(page)
        assert not errors, errors
    finally:
        context.close()


# -- 企业自查 ---------------------------------------------------------------------------------------------
def test_desktop_self_check_wizard_reports_the_major_hazard(browser, pages_url, real_index):  # noqa: F811
    from playwright.sync_api import expect

    store = real_index.store
    enterprise = "浏览器测试铝业有限公司"
    context, page, errors = open_page(browser, pages_url, **DESKTOP)
    try:
        page.goto(pages_url + "/#selfcheck")
        expect(page.locator("#selfcheck-profile")).to_be_visible()
        # Without a name the wizard does not start.
        page.click("#selfcheck-start")
        expect(page.locator("#selfcheck-error")).to_have_text("请填写单位名称")

        page.fill("#selfcheck-name", enterprise)
        # Nothing tells the trade: the server's problem detail (in Chinese) is shown, the wizard stays put.
        page.click("#selfcheck-start")
        expect(page.locator("#selfcheck-error")).to_contain_text("无法确定行业")
        expect(page.locator("#selfcheck-profile")).to_be_visible()
        assert [e for e in errors if "422" not in e] == [], errors  # Chromium logs the refused request
        errors.clear()

        expect(page.locator('#selfcheck-industry option[value="有色"]')).to_have_count(1)
        page.select_option("#selfcheck-industry", "有色")
        page.locator('#selfcheck-domains label:has(input[value="粉尘涉爆"])').click()
        page.fill("#selfcheck-description", "我们是做铝型材挤压和熔铸的")
        page.click("#selfcheck-start")

        # Step 2: what was inferred (熔铸 → 金属冶炼) and the checklist grouped by article.
        expect(page.locator("#selfcheck-checklist")).to_be_visible()
        expect(page.locator("#selfcheck-profile")).to_be_hidden()
        inferred = page.locator("#selfcheck-inferred")
        expect(inferred).to_contain_text("有色")
        expect(inferred).to_contain_text("粉尘涉爆")
        expect(inferred.locator(".profile-line", has_text="专项领域").locator(".inferred-tag")).to_have_count(1)
        groups = page.locator(".check-group").evaluate_all("ns => ns.map(n => n.dataset.groupId)")
        assert NONFERROUS_ARTICLE in groups and DUST_ARTICLE in groups, groups
        assert METALLURGY_ARTICLE not in groups and all(g.startswith(GONGMAO + ":") for g in groups), groups
        items = page.locator(".check-item")
        total = items.count()
        assert total > 10
        expect(page.locator("#selfcheck-progress")).to_contain_text(f"共 {total} 项，已作答 0 项")

        item = page.locator(f'.check-item[data-item-id="{DUST_IN_MULTI_STOREY}"]')
        hazard_answer = item.get_attribute("data-hazard-answer")
        assert hazard_answer == "是"  # "…是否设置在非框架结构的多层建(构)筑物内？" — yes is the hazard
        # Each question links to its clause.
        item.locator(".clause-link").click()
        expect(page.locator(f'#clause-panel .clause-detail[data-clause-id="{DUST_IN_MULTI_STOREY}"]')).to_be_visible()
        page.click("#clause-panel-close")

        item.locator("label.answer-choice", has_text=re.compile(f"^{hazard_answer}$")).click()
        expect(item).to_have_class(re.compile(r"\bis-hazard\b"))
        expect(item.locator(".hazard-flag")).to_be_visible()
        expect(page.locator("#selfcheck-progress")).to_contain_text("已作答 1 项，其中 1 项构成重大事故隐患")
        item.scroll_into_view_if_needed()
        shot(page, "11-desktop-self-check-checklist")

        # Step 3: the report lists it as 重大事故隐患 with its citation and the clause's own words.
        page.click("#selfcheck-submit")
        report = page.locator("#selfcheck-report")
        expect(report).to_be_visible()
        clause = store.clause(DUST_IN_MULTI_STOREY)
        hazard = report.locator(f'.report-hazard[data-clause-id="{DUST_IN_MULTI_STOREY}"]')
        expect(hazard).to_have_count(1)
        expect(report.locator(".report-hazard")).to_have_count(1)
        expect(hazard.locator(".label-badge")).to_have_text("重大事故隐患")
        expect(hazard.locator(".finding-head .clause-link")).to_have_text(human_citation(clause, store.document_of(clause)))
        expect(hazard.locator(":scope > .clause-text")).to_have_text(clause.text)
        expect(hazard.locator(".answered-list")).to_contain_text("答：是")
        expect(report.locator(".report-summary")).to_contain_text("1项重大事故隐患")
        # Every other item was left unanswered: each is 不确定, with what to verify.
        expect(report.locator(".report-uncertain")).to_have_count(total - 1)
        # Legal consequences quote clauses that resolve in the store.
        consequences = report.locator(".report-consequences .consequence")
        assert consequences.count() >= 1
        for cid in consequences.evaluate_all("ns => ns.map(n => n.dataset.clauseId)"):
            store.clause(cid)
        # The enterprise's history lists this report as the current one.
        history = page.locator("#selfcheck-history-list .history-item")
        expect(history).to_have_count(1)
        expect(history.first).to_have_class(re.compile(r"\bcurrent\b"))
        expect(history.first).to_contain_text("重大事故隐患 1 项")
        shot(page, "12-desktop-self-check-report")

        # HTML export: the server's file, naming the enterprise and quoting the clause.
        with page.expect_download() as download:
            page.click('.selfcheck-export[data-format="html"]')
        assert download.value.suggested_filename == f"{enterprise}-自查报告.html"
        html = download.value.path().read_text(encoding="utf-8")
        assert enterprise in html and "重大事故隐患" in html
        assert not errors, errors
    finally:
        context.close()


# -- 台账判定 ----------------------------------------------------------------------------------------------
def test_desktop_ledger_upload_headline_charts_preview_and_download(browser, pages_url, real_index):  # noqa: F811
    from playwright.sync_api import expect

    store = real_index.store
    context, page, errors = open_page(browser, pages_url, **DESKTOP)
    try:
        page.goto(pages_url + "/#ledger")
        expect(page.locator("#ledger-form")).to_be_visible()
        page.click("#ledger-submit")
        expect(page.locator("#ledger-error")).to_contain_text("请先选择或拖入台账文件")

        # A file that is no ledger: the server's Chinese problem detail is shown.
        page.set_input_files("#ledger-file", files=[{"name": "说明.csv", "mimeType": "text/csv",
                                                     "buffer": "备注\n无\n".encode()}])
        page.click("#ledger-submit")
        error = page.locator("#ledger-error")
        expect(error).to_contain_text("未找到隐患描述列")
        assert HAN.search(error.inner_text())
        expect(page.locator("#ledger-result")).to_be_hidden()
        # Chromium logs the refused upload itself; that one is expected, nothing else is.
        assert [e for e in errors if "422" not in e] == [], errors
        errors.clear()

        # The real ledger, dropped onto the zone.
        drop_file(page, "#ledger-drop", "三季度台账.xlsx", ledger_xlsx(),
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        expect(page.locator("#ledger-file-name")).to_contain_text("已选择：三季度台账.xlsx")
        page.click("#ledger-submit")
        result = page.locator("#ledger-result")
        expect(result).to_be_visible()
        expect(page.locator("#ledger-error")).to_be_hidden()
        expect(page.locator("#ledger-working")).to_be_hidden()

        expected = {label: sum(1 for r in LEDGER if r[3] == label) for label in ("major", "general", "insufficient")}
        headline = page.locator("#ledger-headline")
        expect(headline).to_contain_text(f"共 {len(LEDGER)} 条：")  # every row under the header, blank ones too
        expect(headline).to_contain_text(f"重大事故隐患 {expected['major']} 条")
        expect(headline).to_contain_text(f"一般事故隐患 {expected['general']} 条")
        expect(headline).to_contain_text(f"待补充信息 {expected['insufficient']} 条")
        expect(headline).to_contain_text("空行 1 条")

        # Bars: one per verdict with its count; the industry chart has a bar per industry named.
        for label, n in expected.items():
            expect(page.locator(f'.chart-counts .bar-row[data-label="{label}"]')).to_have_attribute("data-count", str(n))
        widths = page.locator(".chart-counts .bar-fill").evaluate_all("ns => ns.map(n => n.getBoundingClientRect().width)")
        assert all(w > 0 for w in widths), widths
        industries = page.locator(".chart-stacked").first.locator(".bar-label").all_inner_texts()
        assert {"有色", "机械", "轻工"} <= set(industries), industries

        # Preview: every row in sheet order (row 2 is the first under the header), coloured by verdict.
        rows = page.locator(".ledger-row")
        expect(rows).to_have_count(len(LEDGER))
        assert rows.evaluate_all("ns => ns.map(n => n.dataset.row)") == [str(i) for i in range(2, 2 + len(LEDGER))]
        assert rows.evaluate_all("ns => ns.map(n => n.dataset.label)") == [r[3] for r in LEDGER]
        major = rows.nth(0)
        expect(major.locator(".label-badge")).to_have_text("重大事故隐患")
        expect(major).to_have_css("background-color", re.compile(r"rgb\(253, 236, 234\)"))  # --major-bg
        major.locator(".cell-long details summary").first.click()
        expect(major.locator(".cell-long").first).to_contain_text(store.clause(POSITIVE_PRESSURE).text)
        expect(rows.nth(3).locator(".cell-questions")).to_contain_text("框架结构")
        shot(page, "13-desktop-ledger")

        # Download: the classified workbook under the server's name, with the added columns.
        with page.expect_download() as download:
            page.click("#ledger-download")
        assert download.value.suggested_filename == "三季度台账-判定结果.xlsx"
        wb = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
        header = [c.value for c in wb["隐患台账"][1]]
        assert "判定结果" in header and "判定依据" in header, header

        # The address keeps the result: a reload shows it again.
        assert re.search(r"#ledger\?id=[0-9a-f]{32}$", page.url), page.url
        page.reload()
        expect(page.locator("#ledger-headline")).to_have_text(headline.inner_text())
        expect(page.locator(".ledger-row")).to_have_count(len(LEDGER))
        assert not errors, errors
    finally:
        context.close()


# -- phone width ------------------------------------------------------------------------------------------
def test_phone_width_pages_are_usable(browser, pages_url, real_index):  # noqa: F811
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, pages_url, **PHONE)
    try:
        # All six tabs fit in the header.
        for tab in ("chat", "search", "documents", "quiz", "selfcheck", "ledger"):
            fits_width(page, f"#tab-{tab}", PHONE_WIDTH)

        page.locator("#tab-quiz").tap()
        page.fill("#quiz-single", "2")
        page.fill("#quiz-multiple", "1")
        page.fill("#quiz-judge", "1")
        page.fill("#quiz-fill", "1")
        page.locator("#quiz-generate").tap()
        expect(page.locator(".quiz-question")).to_have_count(5)
        assert no_horizontal_scroll(page)
        page.locator(".quiz-question").first.scroll_into_view_if_needed()
        shot(page, "14-phone-quiz")

        page.locator("#tab-selfcheck").tap()
        page.fill("#selfcheck-name", "手机测试铝业")
        page.select_option("#selfcheck-industry", "有色")
        page.locator('#selfcheck-domains label:has(input[value="粉尘涉爆"])').tap()
        page.locator("#selfcheck-start").tap()
        item = page.locator(f'.check-item[data-item-id="{DUST_IN_MULTI_STOREY}"]')
        item.locator("label.answer-choice", has_text=re.compile("^是$")).tap()
        expect(item).to_have_class(re.compile(r"\bis-hazard\b"))
        fits_width(page, f'.check-item[data-item-id="{DUST_IN_MULTI_STOREY}"]', PHONE_WIDTH)
        assert no_horizontal_scroll(page)
        shot(page, "15-phone-self-check")
        page.locator("#selfcheck-submit").tap()
        expect(page.locator(f'.report-hazard[data-clause-id="{DUST_IN_MULTI_STOREY}"]')).to_be_visible()
        assert no_horizontal_scroll(page)

        page.locator("#tab-ledger").tap()
        page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "buffer": ledger_xlsx(),
                                                     "mimeType": "application/octet-stream"}])
        page.locator("#ledger-submit").tap()
        expect(page.locator(".ledger-row")).to_have_count(len(LEDGER))
        # The wide table scrolls inside its own box; the page does not.
        wrap = page.locator(".ledger-table-wrap")
        assert wrap.evaluate("n => n.scrollWidth > n.clientWidth")
        fits_width(page, ".ledger-table-wrap", PHONE_WIDTH)
        fits_width(page, "#ledger-download", PHONE_WIDTH)
        assert no_horizontal_scroll(page)
        wrap.evaluate("n => n.scrollLeft = 120")  # mid-way through the table, as a thumb would leave it
        wrap.scroll_into_view_if_needed()
        shot(page, "16-phone-ledger")
        assert not errors, errors
    finally:
        context.close()
