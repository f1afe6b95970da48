"""The web UI driven in Debian Chromium by Playwright, against the real app over the real index.

The app is served by uvicorn on a free loopback port for the module; each step leaves a PNG in
test-output/browser/ so a reviewer can see what the inspector saw. Chromium is never downloaded:
the system browser at /usr/bin/chromium is required (CI installs it), so its absence is a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apps import make_app

from assistant.citation import human_citation
from eval.loopback import serve_in_thread as serve

pytestmark = pytest.mark.corpus

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--no-proxy-server",
]
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "browser"
WAIT_MS = 30_000  # every wait in the browser is bounded by this

LAW_QUESTION = "生产经营单位的主要负责人有哪些安全生产职责？"
# Wood-dust sanding on an upper floor: whether it is major hinges on the building's structure
# (工贸标准 第十一条第（一）项: 非框架结构的多层建筑), so the assistant must ask about it.
SITUATION = "车间二楼做木制品打磨"
DUST_IN_MULTI_STOREY = "gongmao-major-hazard:11:1"


@pytest.fixture(scope="module")
def live_url(real_index, tmp_path_factory):
    """The real app on 127.0.0.1:<free port>, ready (index loaded); stopped when the module ends."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'chat.sqlite3'}"
    with serve(make_app(real_index, db_url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium and fonts-noto-cjk "
                    "(apt-get install chromium fonts-noto-cjk; .ci/run does this). "
                    "Do not use `playwright install`.")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                      timeout=WAIT_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str, **context_options):
    """A fresh context (no stored session) with bounded waits; page errors are collected."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(locale="zh-CN", **context_options)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url + "/", wait_until="load")
    return context, page, errors


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def send(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#send")


def finished_reply(page, count: int):
    """The `count`-th assistant message, once its stream is done."""
    from playwright.sync_api import expect

    replies = page.locator(".message.assistant")
    expect(replies).to_have_count(count)
    reply = replies.nth(count - 1)
    expect(reply).not_to_have_class(re.compile(r"\bpending\b"))
    expect(reply).not_to_have_attribute("aria-busy", "true")
    return reply


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_desktop_question_citation_classification_and_follow_up(browser, live_url, real_index):
    from playwright.sync_api import expect

    store = real_index.store
    context, page, errors = open_page(browser, live_url, viewport={"width": 1280, "height": 900})
    try:
        expect(page.locator("#chat-input")).to_be_visible()
        expect(page.locator(".app-title")).to_have_text("隐患判定助手")
        shot(page, "01-desktop-start")

        # 1. A law question: a streamed, grounded answer with citation chips from 安全生产法.
        send(page, LAW_QUESTION)
        answer = finished_reply(page, 1)
        expect(answer).to_have_attribute("data-kind", "answer")
        chips = answer.locator(".citation-chip")
        expect(chips.first).to_be_visible()
        cited = chips.evaluate_all("nodes => nodes.map(n => n.dataset.clauseId)")
        assert cited and all(cid in store.clauses for cid in cited), cited
        for i, cid in enumerate(cited):
            clause = store.clause(cid)
            expect(chips.nth(i)).to_have_text(f"[{i + 1}] {human_citation(clause, store.document_of(clause))}")
        # The duties of the principal person in charge are set by the Work Safety Law itself.
        first = store.clause(cited[0])
        assert store.document_of(first).title == "中华人民共和国安全生产法", cited
        # The answer quotes the cited clause word for word.
        assert first.text in answer.locator(".answer-text").inner_text()
        shot(page, "02-desktop-answer")

        # 2. The first chip opens the clause panel: citation, document number and status, neighbours.
        chips.first.click()
        panel = page.locator("#clause-panel")
        expect(panel).to_be_visible()
        detail = panel.locator(f'.clause-detail[data-clause-id="{first.clause_id}"]')
        expect(detail).to_be_visible()
        document = store.document_of(first)
        expect(detail.locator(".clause-citation")).to_have_text(human_citation(first, document))
        expect(detail.locator(".clause-doc-title")).to_have_text(document.title)
        meta = detail.locator(".clause-meta").inner_text()
        assert document.doc_number and document.doc_number in meta, meta
        assert document.status and document.status in meta, meta
        # The full status text is shown only when it says more than the status itself.
        notes = detail.locator(".status-note")
        if document.status_note in ("", document.status):
            expect(notes).to_have_count(0)
        else:
            expect(notes.first).to_have_text(document.status_note)
        expect(detail.locator(".clause-text")).to_have_text(first.text)
        siblings = [c.clause_id for c in store.siblings(first.clause_id)]
        assert siblings, "a Work Safety Law article has neighbouring articles"
        shown = detail.locator(".siblings .relation-link").evaluate_all("ns => ns.map(n => n.dataset.clauseId)")
        assert shown == siblings
        shot(page, "03-desktop-clause-panel")

        # A neighbour opens in the same panel, and 返回 comes back to the cited clause.
        neighbour = store.clause(siblings[0])
        detail.locator(f'.siblings .relation-link[data-clause-id="{neighbour.clause_id}"]').click()
        expect(panel.locator(".clause-citation")).to_have_text(human_citation(neighbour, document))
        page.click("#clause-panel-back")
        expect(panel.locator(".clause-citation")).to_have_text(human_citation(first, document))
        page.click("#clause-panel-close")
        expect(panel).to_be_hidden()

        # 3. A site description with a deciding fact missing: 需补充信息 with a follow-up question.
        send(page, SITUATION)
        judged = finished_reply(page, 2)
        card = judged.locator(".classification-card")
        expect(card).to_have_attribute("data-label", "insufficient")
        expect(card.locator(".card-head .label-badge")).to_have_text("需补充信息")
        criterion = card.locator(f'.criterion[data-clause-id="{DUST_IN_MULTI_STOREY}"]').first
        expect(criterion.locator(".criterion-quote")).to_have_text(store.clause(DUST_IN_MULTI_STOREY).text)
        question = card.locator(".follow-up").first
        expect(question).to_contain_text("框架结构")
        shot(page, "04-desktop-insufficient")

        # Clicking the question puts the start of an answer in the input, for the user to finish.
        question.click()
        expect(page.locator("#chat-input")).to_have_attribute("placeholder", f"回答：{question.inner_text()}")

        # 4. Answer it (否: not a frame structure) and get a second card: now a major hazard.
        no_button = card.locator(".follow-up-answer.no").first
        reply_text = no_button.get_attribute("data-reply")
        assert "不是" in reply_text and "框架结构" in reply_text, reply_text
        no_button.click()
        expect(page.locator(".message.user .bubble").last).to_have_text(reply_text)
        final = finished_reply(page, 3)
        second = final.locator(".classification-card")
        expect(second).to_have_attribute("data-label", "major")
        expect(second.locator(".card-head .label-badge")).to_have_text("重大事故隐患")
        matched = second.locator(f'.criterion[data-role="matched"][data-clause-id="{DUST_IN_MULTI_STOREY}"]')
        expect(matched).to_have_count(1)
        expect(matched.locator(".condition.met").first).to_be_visible()
        expect(matched.locator(".condition.missing")).to_have_count(0)
        expect(page.locator(".classification-card")).to_have_count(2)
        shot(page, "05-desktop-follow-up-answered")

        assert no_horizontal_scroll(page)
        assert not errors, errors
    finally:
        context.close()


def test_phone_width_chat_is_usable(browser, live_url, real_index):
    from playwright.sync_api import expect

    width = 390
    context, page, errors = open_page(browser, live_url, viewport={"width": width, "height": 844},
                                      is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        for selector in ("#chat-input", "#send"):
            expect(page.locator(selector)).to_be_in_viewport()
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
        assert page.evaluate("window.innerWidth") == width
        assert no_horizontal_scroll(page)
        shot(page, "06-phone-start")

        send(page, LAW_QUESTION)
        answer = finished_reply(page, 1)
        chip = answer.locator(".citation-chip").first
        expect(chip).to_be_visible()
        assert chip.get_attribute("data-clause-id") in real_index.store.clauses
        expect(page.locator("#chat-input")).to_be_in_viewport()
        assert no_horizontal_scroll(page)
        shot(page, "07-phone-answer")

        chip.tap()
        detail = page.locator("#clause-panel .clause-detail")
        expect(detail).to_be_visible()
        box = page.locator("#clause-panel").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert no_horizontal_scroll(page)
        shot(page, "08-phone-clause-panel")
        assert not errors, errors
    finally:
        context.close()
