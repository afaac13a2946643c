"""In a real browser: the secretary opens a draft for opinions until a deadline; a delegate
drags over a passage of a page in the reader and comments on it, finds it among their own,
reads it in the agenda book too, and after the deadline can only read it; the secretary sees
it gathered under its page and downloads the summary as a PDF."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet
from tests.test_browser_offline import publish_book

pytestmark = pytest.mark.browser

UPRIGHT = {"width": 800, "height": 1280}
OPINION = "Đề nghị làm rõ căn cứ của các chỉ tiêu tăng trưởng."


def shots(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=tmp_path / f"{name}-1024x768.png")
    page.set_viewport_size(UPRIGHT)
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    page.screenshot(path=tmp_path / f"{name}-800x1280.png")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")


def drag_over_words(page, first: int, last: int) -> str:  # type: ignore[no-untyped-def]
    """Drags on the page from word `first` to word `last` of its word boxes; the passage."""
    document = int(page.evaluate("new URLSearchParams(location.search).get('document')"))
    url = f"/api/documents/{document}/pages/1/words"
    words = page.evaluate(f"fetch('{url}').then((r) => r.json()).then((body) => body.words)")
    box = page.locator("#opinion-picker").bounding_box()

    def at(word):  # type: ignore[no-untyped-def]
        x0, y0, x1, y1 = word[:4]
        return box["x"] + box["width"] * (x0 + x1) / 2, box["y"] + box["height"] * (y0 + y1) / 2

    page.mouse.move(*at(words[first]))
    page.mouse.down()
    page.mouse.move(*at(words[last]), steps=8)
    page.mouse.up()
    return " ".join(word[4] for word in words[first : last + 1])


def test_delegate_comments_on_a_passage_and_the_secretary_gets_it_by_page(
    browser, live_server, tmp_path: Path
):
    publish_book(browser, live_server, tmp_path)
    secretary = tablet(browser, live_server).new_page()
    sign_in(secretary, "thuky")
    secretary.goto("/meetings/1")
    secretary.locator("a", has_text="Góp ý dự thảo").click()
    expect(secretary.locator("h1")).to_have_text("Góp ý dự thảo")
    paper = secretary.locator(".paper").first
    title = paper.locator("h2").inner_text()
    paper.locator("details.consultation summary").click()
    past = paper.locator("input[name=deadline]")
    past.fill("2020-01-01T17:00")
    paper.locator("button[type=submit]").click()
    expect(paper.locator(".form-error")).to_have_text("Hạn góp ý phải sau thời điểm hiện tại.")
    expect(paper.locator(".state")).to_have_text("Chưa lấy ý kiến góp ý.")
    day = datetime.now() + timedelta(days=3)  # shown as typed, in the council's time
    paper.locator("input[name=deadline]").fill(f"{day:%Y-%m-%d}T17:00")
    paper.locator("textarea[name=note]").fill("Xin ý kiến về các chỉ tiêu.")
    paper.locator("button[type=submit]").click()
    paper = secretary.locator(".paper").first
    expect(paper.locator(".state.open")).to_contain_text(f"17:00 ngày {day:%d/%m/%Y}")
    shots(secretary, tmp_path, "opinions-open")

    delegate = tablet(browser, live_server).new_page()
    sign_in(delegate, "daibieu01")
    delegate.goto("/meetings/1/read")
    delegate.locator(".doc-link", has_text=title).first.click()
    expect(delegate.locator("#doc-title")).to_have_text(title)
    banner = delegate.locator("#opinion-banner")
    expect(banner.locator("#opinion-status")).to_have_text(
        f"Đang lấy ý kiến góp ý đến 17:00 ngày {day:%d/%m}"
    )
    delegate.locator("#opinion-give").click()
    expect(banner.locator("#opinion-status")).to_contain_text("Kéo ngón tay")
    passage = drag_over_words(delegate, 40, 52)
    panel = delegate.locator("#opinion-panel")
    expect(panel.locator(".opinion-form blockquote")).to_have_text(f"“{passage}”")
    expect(panel.locator(".opinion-where")).to_have_text("Trang 1")
    shots(delegate, tmp_path, "reader-choose")
    panel.locator("textarea[name=text]").fill(OPINION)
    panel.locator("button[type=submit]").click()
    expect(panel.locator(".opinion-sent")).to_have_text("Đã gửi ý kiến góp ý.")
    expect(delegate.locator("#opinion-mine")).to_have_text("Góp ý của tôi (1)")
    expect(panel.locator(".opinion-mine li .opinion-text")).to_have_text(OPINION)
    expect(delegate.locator("#opinion-marks .opinion-mark").first).to_be_visible()
    shots(delegate, tmp_path, "reader-mine")

    # the same paper in the agenda book: its pages there take opinions too
    delegate.locator("#opinion-mine").click()
    delegate.locator(".doc-link.book").click()
    expect(delegate.locator("#doc-title")).not_to_have_text(title)
    expect(banner).to_be_hidden()
    book_page = delegate.evaluate(
        """async () => {
          const doc = Number(new URLSearchParams(location.search).get('document'));
          const info = await (await fetch(`/api/documents/${doc}`)).json();
          const list = await (await fetch('/api/meetings/1/consultations')).json();
          return info.page_keys.indexOf(list[0].page_keys[0]) + 1;
        }"""
    )
    assert book_page > 0
    delegate.locator("#page-input").fill(str(book_page))
    delegate.locator("#page-input").press("Enter")
    expect(banner.locator("#opinion-status")).to_contain_text("Đang lấy ý kiến góp ý đến")
    delegate.locator("#opinion-mine").click()
    panel.locator(".opinion-page-link").click()
    expect(delegate.locator("#opinion-marks .opinion-mark").first).to_be_visible()

    # the secretary sees it under its page, with who and when, and takes the PDF
    secretary.reload()
    paper = secretary.locator(".paper").first
    expect(paper.locator(".opinion-page")).to_have_text(["Trang 1"])
    row = paper.locator(".opinion-list li")
    expect(row.locator("blockquote")).to_have_text(f"“{passage}”")
    expect(row.locator(".opinion-text")).to_have_text(OPINION)
    expect(row.locator(".who strong")).to_have_text("Nguyễn Văn An")
    shots(secretary, tmp_path, "opinions-gathered")
    with secretary.expect_download() as download:
        paper.locator("[data-report=pdf]").click()
    path = tmp_path / "gop-y.pdf"
    download.value.save_as(path)
    with pymupdf.open(path) as pdf:
        text = " ".join(" ".join(page.get_text() for page in pdf).split())
    assert "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý" in text and OPINION in text
    assert text.index(passage[:30]) < text.index(OPINION) < text.index("Nguyễn Văn An")

    # the secretary ends it while the delegate writes about the whole page: refused in the
    # form, nothing kept; then the delegate may read what they said, no longer change it
    delegate.reload()
    delegate.locator("#opinion-give").click()
    delegate.locator("#opinion-whole").click()
    expect(panel.locator(".opinion-form blockquote")).to_have_text("(cả trang)")
    panel.locator("textarea[name=text]").fill("Góp ý gửi muộn.")
    secretary.once("dialog", lambda dialog: dialog.accept())
    paper.locator("[data-action=close-consultation]").click()
    expect(secretary.locator(".paper").first.locator(".state.ended")).to_be_visible()
    panel.locator("button[type=submit]").click()
    expect(panel.locator(".opinion-form .form-error")).to_contain_text(
        "Đã hết hạn góp ý dự thảo này"
    )
    expect(delegate.locator("#opinion-mine")).to_have_text("Góp ý của tôi (1)")
    expect(banner.locator("#opinion-status")).to_contain_text("Đã hết hạn góp ý")
    expect(panel.locator("textarea[name=text]")).to_have_value("Góp ý gửi muộn.")
    expect(panel.locator(".opinion-form button[type=submit]")).to_be_disabled()
    expect(panel.locator("button", has_text="Rút ý kiến")).to_have_count(0)
    shots(delegate, tmp_path, "reader-refused")
    delegate.reload()
    expect(banner.locator("#opinion-status")).to_contain_text("Đã hết hạn góp ý")
    expect(delegate.locator("#opinion-give")).to_be_hidden()
    delegate.locator("#opinion-mine").click()
    expect(panel.locator(".opinion-mine li .opinion-text")).to_have_text(OPINION)
    expect(panel.locator("button", has_text="Sửa")).to_have_count(0)
    shots(delegate, tmp_path, "reader-ended")
