"""In a real browser: the secretary attaches a paper and publishes; a delegate reads it
page by page on a tablet and on a phone, searches it, and a confidential paper stays on screen."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect

from agenda import fonts
from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser

WIDE_TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SENTENCES = [
    "Báo cáo tình hình kinh tế - xã hội của phường năm 2026.",
    "Dự toán thu chi ngân sách năm 2027 được lập đúng quy định.",
    "Đề nghị phê duyệt quy hoạch cây xanh và chiếu sáng đô thị.",
]
TITLE = "Tờ trình về quy hoạch cây xanh"


def write_paper(path: Path) -> Path:
    """Three A4 pages, each with its number in big figures and one Vietnamese sentence."""
    with pymupdf.open() as pdf:
        for number, sentence in enumerate(SENTENCES, start=1):
            page = pdf.new_page(width=595, height=842)
            page.insert_text(
                (210, 330), str(number), fontname=fonts.insert_font(page, bold=True), fontsize=220
            )
            page.insert_text((50, 470), sentence, fontname=fonts.insert_font(page), fontsize=18)
        pdf.save(path)
    return path


def attach_paper(page, pdf: Path, title: str, confidential: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Uploads through the editor's form of the first agenda item and waits for the listing."""
    item = page.locator("#agenda li").first
    item.locator("details.attach summary").click()
    form = item.locator("details.attach form")
    form.locator("input[name=file]").set_input_files(pdf)
    form.locator("input[name=title]").fill(title)
    if confidential:
        form.locator("input[name=confidential]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#agenda .doc a:has-text('{title}')")).to_be_visible(timeout=20_000)


def open_paper(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/meetings/1/read")
    page.locator(".doc-link", has_text=title).click()
    expect(page.locator("#doc-title")).to_have_text(title)


def expect_page(page, number: int) -> None:  # type: ignore[no-untyped-def]
    """The indicator, the image address and the loaded image all show page `number`."""
    expect(page.locator("#page-input")).to_have_value(str(number))
    image = page.locator("#page-image")
    expect(image).to_have_attribute("src", re.compile(rf"/pages/{number}\?w=\d+(&v=u\d+)?$"))
    expect(image).to_have_attribute("alt", f"Trang {number}")
    expect(page.locator("#sheet")).not_to_have_class(re.compile("loading"))


def touch(page, fingers) -> None:  # type: ignore[no-untyped-def]
    """Real touch events over the page: `fingers(step)` gives the (dx, dy) of each finger
    from the middle of the stage at steps 0..5."""
    box = page.locator("#stage").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    for step in range(6):
        points = [{"x": x + dx, "y": y + dy, "id": n} for n, (dx, dy) in enumerate(fingers(step))]
        kind = "touchStart" if step == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def swipe(page, dx: float) -> None:  # type: ignore[no-untyped-def]
    touch(page, lambda step: [(dx * step / 5, 4 * step)])


def pinch(page, spread: float) -> None:  # type: ignore[no-untyped-def]
    touch(page, lambda step: [(-40 - spread * step / 5, 0), (40 + spread * step / 5, 0)])


def image_width(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#page-image").get_attribute("src").rpartition("w=")[2])


def test_secretary_uploads_and_publishes_then_delegate_reads(browser, live_server, tmp_path):
    paper = write_paper(tmp_path / "to-trinh-cay-xanh.pdf")
    secretary = tablet(browser, live_server)
    editor = secretary.new_page()
    sign_in(editor, "thuky")
    editor.goto("/meetings/1/edit")
    attach_paper(editor, paper, TITLE)
    editor.screenshot(path=tmp_path / "editor.png")
    assert "3" in editor.locator("#agenda .doc", has_text=TITLE).inner_text()  # its page count
    editor.click("#publishing button.primary")
    expect(editor.locator("#publish-status .ok")).to_contain_text("✓", timeout=30_000)
    editor.locator("#publishing").screenshot(path=tmp_path / "editor-published.png")

    delegate = tablet(browser, live_server)
    reader = delegate.new_page()
    reader.set_viewport_size(WIDE_TABLET)
    sign_in(reader, "daibieu01")
    open_paper(reader, TITLE)
    expect(reader.locator(".doc-link[aria-current=true]")).to_contain_text(TITLE)
    expect(reader.locator("#page-count")).to_have_text("3")
    expect(reader.locator("#doc-download")).to_be_visible()
    expect(reader.locator("#doc-confidential")).to_be_hidden()
    expect_page(reader, 1)

    reader.click("[data-action=next]")
    expect_page(reader, 2)
    reader.keyboard.press("ArrowRight")
    expect_page(reader, 3)
    reader.keyboard.press("Home")
    expect_page(reader, 1)
    swipe(reader, -240)
    expect_page(reader, 2)
    assert re.search(r"document=\d+&page=2", reader.url)
    reader.reload()  # the address keeps the place
    expect_page(reader, 2)

    reader.click("[data-action=toggle-thumbs]")
    reader.locator("#thumb-list button[data-page='3']").click()
    expect_page(reader, 3)
    expect(reader.locator("#thumb-list button[aria-current=true]")).to_have_text("3")
    reader.keyboard.press("Home")
    expect_page(reader, 1)

    reader.click("[data-action=toggle-search]")
    reader.locator("#search-input").fill("cay xanh")  # typed without diacritics
    hit = reader.locator("#search-results button").first
    expect(hit).to_contain_text("Trang 3")
    expect(hit.locator("b")).to_have_text("cây xanh")
    hit.click()
    expect_page(reader, 3)
    expect(reader.locator("#marks .mark").first).to_be_visible()
    assert reader.locator("#marks .mark").count() == 2  # "cây" and "xanh"
    reader.screenshot(path=tmp_path / "reader-1280x800.png")

    fitted = image_width(reader)
    for _ in range(3):
        reader.click("[data-action=zoom-in]")
    expect(reader.locator("#zoom-level")).to_have_text("200%")
    reader.wait_for_function(f"!/w={fitted}$/.test(document.getElementById('page-image').src)")
    assert image_width(reader) > fitted  # a sharper bucket once zoomed
    reader.screenshot(path=tmp_path / "reader-zoomed.png")
    reader.click("[data-action=zoom-fit]")
    expect(reader.locator("#zoom-level")).to_have_text("100%")

    phone_context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="vi-VN",
    )
    phone = phone_context.new_page()
    sign_in(phone, "daibieu01")
    phone.goto(reader.url)
    expect_page(phone, 3)
    swipe(phone, 200)
    expect_page(phone, 2)
    phone.screenshot(path=tmp_path / "reader-phone.png")
    pinch(phone, 40)  # fingers 80 px apart, then 160
    expect(phone.locator("#zoom-level")).not_to_have_text("100%")
    stage_top = phone.locator("#stage").evaluate("stage => stage.scrollTop")
    touch(phone, lambda step: [(0, -30 * step)])  # drag up: the zoomed page scrolls, no paging
    assert phone.locator("#stage").evaluate("stage => stage.scrollTop") > stage_top
    expect_page(phone, 2)
    phone.screenshot(path=tmp_path / "reader-phone-zoomed.png")
    phone.click("[data-action=zoom-fit]")
    phone.click("[data-action=toggle-agenda]")
    phone.wait_for_function(
        "document.querySelector('.reader-agenda').getBoundingClientRect().left === 0"
    )
    phone.screenshot(path=tmp_path / "reader-phone-agenda.png")
    phone.keyboard.press("Escape")
    phone.click("[data-action=toggle-search]")
    phone.locator("#search-input").fill("ngan sach")
    expect(phone.locator("#search-results button").first).to_contain_text("Trang 2")
    phone.screenshot(path=tmp_path / "reader-phone-search.png")
    for context in (secretary, delegate, phone_context):
        context.close()


def test_confidential_paper_is_read_on_screen_only(browser, live_server, tmp_path):
    paper = write_paper(tmp_path / "mat.pdf")
    secretary = tablet(browser, live_server)
    editor = secretary.new_page()
    sign_in(editor, "thuky")
    editor.goto("/meetings/1/edit")
    attach_paper(editor, paper, "Báo cáo mật về nhân sự", confidential=True)

    # A tablet without the service worker (a LAN on plain http): pages come from the network.
    delegate = tablet(browser, live_server, service_workers="block")
    reader = delegate.new_page()
    sign_in(reader, "daibieu01")
    open_paper(reader, "Báo cáo mật về nhân sự")
    expect(reader.locator("#doc-confidential")).to_have_text("Tài liệu mật — chỉ đọc trên màn hình")
    expect(reader.locator("#doc-download")).to_be_hidden()
    expect_page(reader, 1)

    # The network drops while paging: a clear message, and Retry brings the page.
    reader.route("**/pages/2?*", lambda route: route.abort())
    reader.click("[data-action=next]")
    message = reader.locator("#stage-message")
    expect(message).to_contain_text("Không tải được trang. Kiểm tra mạng rồi thử lại.")
    reader.screenshot(path=tmp_path / "reader-offline.png")
    reader.unroute("**/pages/2?*")
    message.get_by_role("button").click()
    expect_page(reader, 2)
    expect(message).to_be_hidden()
    reader.screenshot(path=tmp_path / "reader-confidential.png")
    for context in (secretary, delegate):
        context.close()
