"""In a real browser: a refused upload says why under its own form; a wrong paper is deleted
before publishing; after publishing the secretary uploads a new version and a delegate's open
reader moves to it live, on the same page, with the marks of the pages that did not change."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect

from agenda import fonts
from tests.browser import sign_in, tablet
from tests.test_browser_live import draw_stroke, expect_online
from tests.test_browser_reader import SENTENCES, attach_paper, write_paper

pytestmark = pytest.mark.browser

TITLE = "Tờ trình về quy hoạch cây xanh"
SIZES = {"1280x800": (1280, 800), "1024x768": (1024, 768), "800x1280": (800, 1280)}


def write_new_version(path: Path) -> Path:
    """The same paper with its third page rewritten; pages 1 and 2 unchanged."""
    sentences = [*SENTENCES[:2], "Đề nghị phê duyệt quy hoạch cây xanh, đã sửa theo thẩm tra."]
    with pymupdf.open() as pdf:
        for number, sentence in enumerate(sentences, start=1):
            page = pdf.new_page(width=595, height=842)
            page.insert_text(
                (210, 330), str(number), fontname=fonts.insert_font(page, bold=True), fontsize=220
            )
            page.insert_text((50, 470), sentence, fontname=fonts.insert_font(page), fontsize=18)
        pdf.save(path)
    return path


def shots(page, name: str, tmp_path: Path, locator: str | None = None) -> None:  # type: ignore[no-untyped-def]
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        target = page.locator(locator) if locator else page
        target.screenshot(path=tmp_path / f"{name}-{size}.png")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_refused_upload_says_why_under_its_form_and_the_bar_is_not_left_full(
    browser, live_server, tmp_path
):
    context = tablet(browser, live_server)
    editor = context.new_page()
    sign_in(editor, "thuky")
    editor.goto("/meetings/1/edit")
    item = editor.locator("#agenda li").first
    item.locator("details.attach summary").click()
    form = item.locator("details.attach form")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"this is not a pdf at all")
    form.locator("input[name=file]").set_input_files(fake)
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-error")).to_contain_text("PDF")
    expect(editor.locator("#flash")).to_be_empty()
    expect(form).to_have_class(re.compile(r"\bfailed\b"))
    expect(form.locator("progress")).to_be_hidden()
    assert form.locator("progress").evaluate("bar => bar.value") == 0
    shots(editor, "editor-refused-upload", tmp_path, "#agenda li >> nth=0")
    context.close()


def test_secretary_replaces_a_paper_and_the_reader_moves_to_it_live(browser, live_server, tmp_path):
    secretary = tablet(browser, live_server)
    editor = secretary.new_page()
    editor.set_viewport_size({"width": 1280, "height": 800})
    editor.on("dialog", lambda dialog: dialog.accept())
    sign_in(editor, "thuky")
    editor.goto("/meetings/1/edit")
    attach_paper(editor, write_paper(tmp_path / "cay-xanh.pdf"), TITLE)
    attach_paper(editor, write_paper(tmp_path / "nham.pdf"), "Tệp tải nhầm")
    wrong = editor.locator("#agenda .doc", has_text="Tệp tải nhầm")
    wrong.locator(".doc-delete button").click()  # not published yet: it goes
    expect(editor.locator("#agenda .doc", has_text="Tệp tải nhầm")).to_have_count(0)
    row = editor.locator("#agenda .doc", has_text=TITLE)
    shots(editor, "editor-document-row", tmp_path, "#agenda li >> nth=0")
    editor.click("#publishing button.primary")
    expect(editor.locator("#publish-status .ok")).to_contain_text("✓", timeout=60_000)
    editor.goto("/meetings/1/edit")
    expect(row.locator(".doc-delete")).to_have_count(0)  # in the book now: replace, not delete

    delegate = tablet(browser, live_server)
    reader = delegate.new_page()
    reader.set_viewport_size({"width": 1280, "height": 800})
    sign_in(reader, "daibieu01")
    reader.goto("/meetings/1/read")
    expect_online(reader)
    reader.locator(".doc-link", has_text=TITLE).click()
    expect(reader.locator("#doc-title")).to_have_text(TITLE)
    for number in (3, 2):  # a mark on the page that will change, then one on a page that stays
        reader.locator("#page-input").fill(str(number))
        reader.keyboard.press("Enter")
        expect(reader.locator("#page-input")).to_have_value(str(number))
        draw_stroke(reader)
        expect(reader.locator("#ink-layer .ink.mine")).to_have_count(1)
        expect(reader.locator("#pen-tools")).to_have_attribute("data-pending", "0")
        reader.locator("[data-tool=read]").click()
    old_address = reader.url
    reader.evaluate("window.stillThisPage = true")

    book_context = tablet(browser, live_server)
    book_reader = book_context.new_page()
    sign_in(book_reader, "daibieu02")
    book_reader.goto("/meetings/1/read")  # opens the newest book
    expect_online(book_reader)
    expect(book_reader.locator(".doc-link.book")).to_have_attribute("aria-current", "true")
    book_reader.locator("[data-action=next]").click()
    expect(book_reader.locator("#page-input")).not_to_have_value("i")
    first_book_page = book_reader.locator("#page-input").input_value()
    book_reader.evaluate("window.stillThisPage = true")

    row.locator(".doc-replace summary").click()
    replace = row.locator(".doc-replace form")
    replace.locator("input[name=file]").set_input_files(write_new_version(tmp_path / "v2.pdf"))
    shots(editor, "editor-replace-form", tmp_path, "#agenda li >> nth=0")
    replace.locator("button[type=submit]").click()
    expect(editor.locator("#agenda .doc", has_text=TITLE)).to_contain_text("phiên bản 2")
    expect(editor.locator("#publish-status")).to_contain_text("phiên bản 2", timeout=60_000)
    expect(book_reader.locator(".doc-link.book")).to_contain_text("Phiên bản 2")
    expect(book_reader.locator("#follow-notice")).to_contain_text("phát hành lại")
    expect(book_reader.locator("#page-input")).to_have_value(first_book_page)
    assert book_reader.evaluate("window.stillThisPage") is True
    book_context.close()

    expect(reader.locator("#doc-versions summary")).to_have_text("Phiên bản 2", timeout=20_000)
    assert reader.evaluate("window.stillThisPage") is True  # moved without a reload
    assert reader.url != old_address
    expect(reader.locator("#page-input")).to_have_value("2")
    expect(reader.locator("#follow-notice")).to_contain_text("phiên bản mới")
    expect(reader.locator("#ink-layer .ink.mine")).to_have_count(1)  # page 2 did not change
    reader.locator("#doc-versions summary").click()
    expect(reader.locator("#doc-versions li")).to_have_count(2)
    expect(reader.locator("#doc-versions li").first).to_contain_text("Nguyễn Thị Hồng")
    shots(reader, "reader-new-version", tmp_path)
    reader.locator("#doc-versions summary").click()
    reader.locator("[data-action=next]").click()
    expect(reader.locator("#page-input")).to_have_value("3")
    expect(reader.locator("#ink-layer .ink.mine")).to_have_count(0)  # page 3 changed: set aside

    editor.locator("#agenda .doc", has_text=TITLE).locator(".doc-versions summary").click()
    expect(editor.locator("#agenda .versions li")).to_have_count(2)
    shots(editor, "editor-versions", tmp_path, "#agenda li >> nth=0")
    secretary.close()
    delegate.close()
