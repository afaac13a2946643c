"""In a real browser, with the hall's Wi-Fi cut: the agenda book lives on the tablet. A delegate
reads, searches and annotates offline, even after a reload, and the server gets every mark once
when the link returns; a tablet that was away during five page turns lands on the chair's page;
voting and asking to speak say they need the network; confidential pages leave the tablet when
the meeting ends."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet
from tests.test_browser_live import draw_stroke, expect_online
from tests.test_browser_reader import attach_paper, write_paper
from tests.wifi import Wifi

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 800, "height": 1280}
# What the offline mark said, in order, from the first paint (the download can be quick).
WATCH_THE_MARK = """
window.__marks = [];
new MutationObserver(() => {
  const text = document.getElementById("offline-mark")?.textContent;
  if (text && window.__marks.at(-1) !== text) window.__marks.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""

# The page images kept of the confidential paper: each address names its reader.
CONFIDENTIAL_IMAGES = """async () => {
  const name = (await caches.keys()).find((n) => n.endsWith("-c"));
  const requests = await (await caches.open(name)).keys();
  return requests.map((r) => r.url).filter((url) => /\\/pages\\/\\d+\\?/.test(url));
}"""


def publish_book(browser, live_server, tmp_path, confidential: str = "") -> None:  # type: ignore[no-untyped-def]
    """The secretary publishes meeting 1's agenda book (with a confidential paper beside it)."""
    context = tablet(browser, live_server)
    editor = context.new_page()
    sign_in(editor, "thuky")
    editor.goto("/meetings/1/edit")
    if confidential:
        attach_paper(editor, write_paper(tmp_path / "mat.pdf"), confidential, confidential=True)
    editor.click("#publishing button.primary")
    expect(editor.locator("#publish-status .ok")).to_contain_text("✓", timeout=60_000)
    context.close()


def on_the_tablet(browser, live_server, wifi: Wifi, username: str, viewport=None):  # type: ignore[no-untyped-def]
    """A tablet on the hall's Wi-Fi, its reader open and the book downloaded."""
    context = tablet(browser, live_server, url=wifi.url)
    page = context.new_page()
    if viewport:
        page.set_viewport_size(viewport)
    page.add_init_script(WATCH_THE_MARK)
    sign_in(page, username)
    page.goto("/meetings/1/read")
    expect_online(page)
    expect(page.locator("#offline-mark")).to_have_text("✓ Sẵn sàng ngoại tuyến", timeout=60_000)
    return context, page


def book_of(page) -> dict:  # type: ignore[no-untyped-def]
    book_id = int(page.locator(".doc-link.book").get_attribute("data-document"))
    return page.request.get(f"/api/documents/{book_id}").json()


def cut(wifi: Wifi, *contexts) -> None:  # type: ignore[no-untyped-def]
    wifi.down()
    for context in contexts:
        context.set_offline(True)


def restore(wifi: Wifi, *contexts) -> None:  # type: ignore[no-untyped-def]
    wifi.up()
    for context in contexts:
        context.set_offline(False)


def expect_drawn(page, number: int) -> None:  # type: ignore[no-untyped-def]
    """Sheet `number` of the file is on screen, its image decoded."""
    expect(page.locator("#page-image")).to_have_attribute("src", re.compile(rf"/pages/{number}\?"))
    expect(page.locator("#sheet")).not_to_have_class(re.compile(r"\b(loading|failed)\b"))
    assert page.locator("#page-image").evaluate("img => img.complete && img.naturalWidth > 0")


def marks_of(live_server, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(live_server.data_dir / "phonghop.db") as db:
        rows = db.execute(
            "SELECT a.id FROM annotation a JOIN user u ON u.id = a.owner_id"
            " WHERE u.username = ? AND NOT a.deleted",
            (username,),
        )
        return [row[0] for row in rows]


def test_a_delegate_reads_searches_and_annotates_with_the_wifi_gone(browser, live_server, tmp_path):
    publish_book(browser, live_server, tmp_path)
    wifi = Wifi(live_server.url)
    context, delegate = on_the_tablet(browser, live_server, wifi, "daibieu01")
    shown = delegate.evaluate("window.__marks")
    assert shown[-1] == "✓ Sẵn sàng ngoại tuyến"
    assert all(re.fullmatch(r"Đã tải \d+/\d+ trang", text) for text in shown[:-1]), shown
    book = book_of(delegate)
    assert len(marks_of(live_server, "daibieu01")) == 0

    cut(wifi, context)
    expect(delegate.locator("html")).not_to_have_attribute("data-live", "online")
    expect(delegate.locator("#floor-place")).to_have_text("Cần có mạng để đăng ký phát biểu")
    for number in range(2, 6):  # every page of the book is here
        delegate.locator("[data-action=next]").click()
        expect_drawn(delegate, number)
    delegate.locator("[data-action=toggle-search]").click()
    delegate.fill("#search-input", "ngân sách")
    expect(delegate.locator("#search-status")).to_have_text(re.compile(r"^Có ở \d+ trang$"))
    expect(delegate.locator("#marks .mark").first).to_be_attached()
    delegate.locator("#search-results button").nth(1).click()
    delegate.locator("[data-action=toggle-search]").click()
    draw_stroke(delegate)
    delegate.locator("[data-action=next]").click()
    draw_stroke(delegate)
    tools = delegate.locator("#pen-tools")
    expect(tools).to_have_attribute("data-pending", "2")
    delegate.screenshot(path=tmp_path / "offline-1024.png")

    delegate.reload()  # a reload with no network: the reader and the unsent marks are still here
    expect(delegate.locator("#doc-title")).to_have_text(book["title"])
    expect(tools).to_have_attribute("data-pending", "2")
    delegate.set_viewport_size(PORTRAIT)
    expect(delegate.locator("#sheet")).not_to_have_class(re.compile(r"\b(loading|failed)\b"))
    delegate.screenshot(path=tmp_path / "offline-800.png")

    restore(wifi, context)
    expect_online(delegate)
    expect(tools).to_have_attribute("data-pending", "0")
    marks = marks_of(live_server, "daibieu01")
    assert len(marks) == 2 and len(set(marks)) == 2, marks  # every mark, once
    delegate.reload()
    expect_online(delegate)
    assert len(marks_of(live_server, "daibieu01")) == 2  # nothing sent twice
    context.close()
    wifi.close()


def test_a_tablet_away_for_five_turns_lands_on_the_chairs_page(browser, live_server, tmp_path):
    publish_book(browser, live_server, tmp_path)
    wifi = Wifi(live_server.url)
    context, follower = on_the_tablet(browser, live_server, wifi, "daibieu02")
    book = book_of(follower)
    chair_context = tablet(browser, live_server)
    chair = chair_context.new_page()
    sign_in(chair, "chutoa")
    chair.goto(f"/meetings/1/read?document={book['id']}&page=2")
    expect_online(chair)
    chair.locator("#present-page").click()
    expect_drawn(follower, 2)

    def turn(number: int) -> None:
        chair.locator("[data-action=next]").click()
        expect(chair.locator("#page-image")).to_have_attribute("src", re.compile(rf"/{number}\?"))
        chair.locator("#present-page").click()
        expect(chair.locator("#presented")).to_have_class(re.compile(r"\bhere\b"))

    # A followed turn costs the air no image: the page comes from the tablet's copy.
    before = wifi.to_tablets
    turn(3)
    expect_drawn(follower, 3)
    image = follower.request.get(f"/api/documents/{book['id']}/pages/3?w=640").body()
    sent = wifi.to_tablets - before - len(image)  # less what this check itself fetched
    assert sent < 4_000 < len(image), (sent, len(image))

    cut(wifi, context)
    expect(follower.locator("html")).not_to_have_attribute("data-live", "online")
    for number in range(4, 9):
        turn(number)
    expect_drawn(follower, 3)

    restore(wifi, context)
    expect_online(follower)
    expect_drawn(follower, 8)
    expect(follower.locator("#follow-toggle")).to_have_attribute("aria-pressed", "true")
    for c in (context, chair_context):
        c.close()
    wifi.close()


def test_confidential_pages_leave_the_tablet_when_the_meeting_ends(browser, live_server, tmp_path):
    publish_book(browser, live_server, tmp_path, confidential="Báo cáo mật về nhân sự")
    wifi = Wifi(live_server.url)
    context, delegate = on_the_tablet(browser, live_server, wifi, "daibieu03")

    def kept() -> list[str]:
        return delegate.evaluate("caches.keys()")

    assert any(re.search(r"-m1-d\d+-w\d+-c$", name) for name in kept()), kept()
    images = delegate.evaluate(CONFIDENTIAL_IMAGES)
    assert images and all(re.search(r"\?w=\d+&v=u\d+$", url) for url in images), images
    secretary_context = tablet(browser, live_server)
    secretary = secretary_context.new_page()
    sign_in(secretary, "thuky")
    secretary.goto("/meetings/1")
    expect_online(secretary)
    secretary.locator("#session-start").click()
    expect(secretary.locator("#session-end")).to_be_visible()
    secretary.once("dialog", lambda dialog: dialog.accept())
    secretary.locator("#session-end").click()
    expect(secretary.locator("#session-state")).to_have_attribute("data-status", "closed")

    delegate.wait_for_function("async () => !(await caches.keys()).some(n => n.endsWith('-c'))")
    assert any(re.search(r"-m1-d\d+-w\d+$", name) for name in kept())  # the book stays
    for c in (context, secretary_context):
        c.close()
    wifi.close()


def test_a_new_book_replaces_the_old_and_a_removed_delegate_keeps_nothing(
    browser, live_server, tmp_path
):
    publish_book(browser, live_server, tmp_path)
    wifi = Wifi(live_server.url)
    context, delegate = on_the_tablet(browser, live_server, wifi, "daibieu04")
    old = book_of(delegate)["id"]

    publish_book(browser, live_server, tmp_path)  # version 2: every tablet is told live
    expect(delegate.locator(".doc-link.book .muted")).to_have_text("Phiên bản 2")
    new = book_of(delegate)["id"]
    assert new != old
    delegate.wait_for_function(
        f"""async () => {{
          const names = (await caches.keys()).join(" ");
          return names.includes("-d{new}-") && !names.includes("-d{old}-");
        }}"""
    )
    expect(delegate.locator("#offline-mark")).to_have_text("✓ Sẵn sàng ngoại tuyến")

    secretary_context = tablet(browser, live_server)
    secretary = secretary_context.new_page()
    sign_in(secretary, "thuky")
    secretary.goto("/meetings/1/edit")
    row = secretary.locator("#participants tbody tr", has_text="@daibieu04")
    row.locator("button").click()
    expect(row).to_have_count(0)
    expect(delegate.locator("#stage-message")).to_contain_text("không có quyền")
    delegate.wait_for_function("async () => !(await caches.keys()).some(n => n.includes('-m1-'))")
    for c in (context, secretary_context):
        c.close()
    wifi.close()
