"""In a real browser: the agenda book is read, presented and searched by its printed page
numbers. "Trang 3" typed in the reader lands on the page that prints "Trang 3/…", the
projector says the same, and a search finds the book's cover with its words highlighted."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser


def signed_in(browser, live_server, username: str):  # type: ignore[no-untyped-def]
    context = tablet(browser, live_server)
    page = context.new_page()
    sign_in(page, username)
    return context, page


def publish_the_book(page) -> dict:  # type: ignore[no-untyped-def]
    """The secretary publishes meeting 1's book; its metadata, labels included."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    started = page.request.post("/api/meetings/1/publish", headers={"X-CSRFToken": token})
    assert started.status == 202, started.text()
    deadline = time.monotonic() + 60
    while (status := page.request.get("/api/meetings/1/publish").json())["state"] == "running":
        assert time.monotonic() < deadline, "the book was not built in 60 s"
        page.wait_for_timeout(200)
    assert status["state"] == "done", status
    [book] = page.request.get("/api/meetings/1/books").json()
    return page.request.get(f"/api/documents/{book['document_id']}").json()


def printed_stamp(page, book: dict, physical: int) -> str:  # type: ignore[no-untyped-def]
    """The footer stamp the page itself prints, read from its words."""
    words = page.request.get(f"/api/documents/{book['id']}/pages/{physical}/words").json()
    text = " ".join(word[4] for word in words["words"])
    return text[text.rindex("Trang") :]


def go_to(reader, typed: str) -> None:  # type: ignore[no-untyped-def]
    reader.locator("#page-input").fill(typed)
    reader.locator("#page-input").press("Enter")


def test_trang_3_is_the_page_that_prints_trang_3(browser, live_server, tmp_path):
    secretary_context, secretary = signed_in(browser, live_server, "thuky")
    book = publish_the_book(secretary)
    front = book["page_labels"].index("1")
    total = book["printed_page_count"]
    assert front == 2 and total == book["page_count"] - front

    reader_context, reader = signed_in(browser, live_server, "daibieu01")
    reader.goto("/meetings/1/read")  # the book opens on its cover
    expect(reader.locator("#page-input")).to_have_value("i")
    expect(reader.locator("#page-total")).to_be_hidden()

    go_to(reader, "3")
    physical = front + 3
    image = reader.locator("#page-image")
    expect(image).to_have_attribute("src", re.compile(rf"/pages/{physical}\?w=\d+$"))
    expect(image).to_have_attribute("alt", "Trang 3")
    expect(reader.locator("#page-input")).to_have_value("3")
    expect(reader.locator("#page-count")).to_have_text(str(total))
    expect(reader.locator("#page-total")).to_be_visible()
    assert printed_stamp(reader, book, physical) == f"Trang 3/{total}"
    title = reader.locator("#page-jump").get_attribute("title")
    assert title == f"Trang 3/{total} (tờ {physical}/{book['page_count']} của tệp)"
    reader.screenshot(path=tmp_path / "reader-book-page-3.png")

    go_to(reader, "II")  # front matter, as printed, in either case
    expect(image).to_have_attribute("src", re.compile(r"/pages/2\?w=\d+$"))
    expect(reader.locator("#page-input")).to_have_value("ii")
    go_to(reader, "999")
    expect(image).to_have_attribute("src", re.compile(r"/pages/2\?w=\d+$"))  # stays
    expect(reader.locator("#page-input")).to_have_value("ii")
    message = reader.locator("#page-input").evaluate("input => input.validationMessage")
    assert message == "Tài liệu này không có trang “999”."

    reader.click("[data-action=toggle-thumbs]")
    expect(reader.locator(f"#thumb-list button[data-page='{physical}']")).to_have_text("3")
    expect(reader.locator("#thumb-list button[data-page='1']")).to_have_text("i")
    reader.click("[data-action=toggle-thumbs]")

    reader.click("[data-action=toggle-search]")
    reader.locator("#search-input").fill("tai lieu ky hop")  # no diacritics: the cover's title
    hit = reader.locator("#search-results button").first
    expect(hit).to_contain_text("Trang i")
    expect(hit.locator("b")).to_have_text(re.compile("tài liệu kỳ họp", re.IGNORECASE))
    hit.click()
    expect(image).to_have_attribute("src", re.compile(r"/pages/1\?w=\d+$"))
    expect(reader.locator("#marks .mark").first).to_be_visible()
    assert reader.locator("#marks .mark").count() >= 4  # "tài", "liệu", "kỳ", "họp"
    reader.screenshot(path=tmp_path / "reader-book-search.png")

    chair_context, chair = signed_in(browser, live_server, "chutoa")
    screen = secretary.context.new_page()
    screen.goto("/meetings/1/projector")
    chair.goto(f"/meetings/1/read?document={book['id']}")
    go_to(chair, "3")
    expect(chair.locator("#page-input")).to_have_value("3")
    expect(chair.locator("#present-page")).to_be_enabled()
    chair.locator("#present-page").click()
    expect(chair.locator("#presented-text")).to_have_text(
        f"Đang trình chiếu trang 3: {book['title']}"
    )
    expect(screen.locator("#projector-page")).to_have_text(f"Trang 3/{total}")
    expect(screen.locator("#projector-image")).to_have_attribute(
        "src", re.compile(rf"/pages/{physical}\?w=\d+$")
    )
    screen.screenshot(path=tmp_path / "projector-page-3.png")
    for context in (secretary_context, reader_context, chair_context):
        context.close()
