"""In a real browser: delegates follow the page the chair presents and draw on it, marks
survive reloads and lost connections, the hall's projector shows the presented page, and the
secretary starts the session and watches the quorum."""

from __future__ import annotations

import re

import pymupdf
import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser

WIDE_TABLET = {"width": 1280, "height": 800}
HALL_SCREEN = {"width": 1920, "height": 1080}


def signed_in(browser, live_server, username: str, viewport=WIDE_TABLET):  # type: ignore[no-untyped-def]
    context = tablet(browser, live_server)
    page = context.new_page()
    page.set_viewport_size(viewport)
    sign_in(page, username)
    return context, page


def paper_with_pages(page, pages: int = 3) -> dict:  # type: ignore[no-untyped-def]
    """A document of meeting 1 with at least `pages` pages, and its agenda item."""
    meeting = page.request.get("/api/meetings/1").json()
    items = list(meeting["items"])
    while items:
        item = items.pop(0)
        items.extend(item["children"])
        for document in item["documents"]:
            if document["page_count"] >= pages:
                return {**document, "item": item}
    raise AssertionError("the demo has no paper that long")


def expect_online(page) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("html")).to_have_attribute("data-live", "online")


def open_reader(page, document_id: int | None = None, number: int = 1) -> None:  # type: ignore[no-untyped-def]
    query = f"?document={document_id}&page={number}" if document_id else ""
    page.goto(f"/meetings/1/read{query}")
    expect_online(page)


def expect_on(page, document: dict, number: int) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("#doc-title")).to_have_text(document["title"])
    expect(page.locator("#page-input")).to_have_value(str(number))
    expect(page.locator("#page-image")).to_have_attribute(
        "src", re.compile(rf"/pages/{number}\?w=")
    )
    expect(page.locator("#sheet")).not_to_have_class(re.compile(r"\bloading\b"))


def present(chair, document: dict, number: int) -> None:  # type: ignore[no-untyped-def]
    """The chair opens the page in the reader and presents it."""
    open_reader(chair, document["id"], number)
    expect_on(chair, document, number)
    chair.locator("#present-page").click()
    expect(chair.locator("#presented")).to_have_class(re.compile(r"\bhere\b"))


def draw_stroke(page) -> None:  # type: ignore[no-untyped-def]
    """A zigzag across the middle of the page with the pen tool, then back to reading."""
    page.locator("[data-tool=pen]").click()
    box = page.locator("#sheet").bounding_box()
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.45
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + step * 8, y + (step % 6) * 7)
    page.mouse.up()


def ink_pages(context, document_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Pages (1-based) of the caller's annotated PDF that carry an Ink annotation."""
    response = context.request.get(f"/api/documents/{document_id}/annotated.pdf")
    assert response.status == 200, response.text()
    with pymupdf.open(stream=response.body(), filetype="pdf") as pdf:
        return [n + 1 for n, page in enumerate(pdf) for a in page.annots() if a.type[1] == "Ink"]


def test_delegate_follows_the_chair_and_keeps_a_stroke(browser, live_server, tmp_path):
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    delegate_context, delegate = signed_in(browser, live_server, "daibieu01")
    paper = paper_with_pages(chair)
    open_reader(delegate)
    expect(delegate.locator("#follow-toggle")).to_have_attribute("aria-pressed", "true")

    present(chair, paper, 3)
    expect_on(delegate, paper, 3)  # moved by the chair, no tap needed
    expect(delegate.locator("#presented")).to_have_class(re.compile(r"\bhere\b"))
    chair.screenshot(path=tmp_path / "chair-presenting.png")

    draw_stroke(delegate)
    expect(delegate.locator("#ink-layer .ink.mine")).to_have_count(1)
    expect(delegate.locator("#page-input")).to_have_value("3")  # the pen drew; it did not swipe
    expect(delegate.locator("#pen-tools")).to_have_attribute("data-pending", "0")  # acked
    delegate.screenshot(path=tmp_path / "delegate-stroke.png")

    # Turning a page by hand stops following; one tap brings the reader back.
    delegate.locator("[data-tool=read]").click()
    delegate.locator("[data-action=prev]").click()
    expect(delegate.locator("#follow-toggle")).to_have_attribute("aria-pressed", "false")
    expect(delegate.locator("#follow-return")).to_be_visible()
    delegate.screenshot(path=tmp_path / "delegate-browsing.png")
    delegate.locator("#follow-return").click()
    expect_on(delegate, paper, 3)
    expect(delegate.locator("#follow-toggle")).to_have_attribute("aria-pressed", "true")

    delegate.reload()
    expect_on(delegate, paper, 3)
    expect(delegate.locator("#ink-layer .ink.mine")).to_have_count(1)
    assert ink_pages(delegate_context, paper["id"]) == [3]
    chair_context.close()
    delegate_context.close()


def test_a_stroke_drawn_offline_is_sent_on_reconnect(browser, live_server, tmp_path):
    context, delegate = signed_in(browser, live_server, "daibieu02")
    paper = paper_with_pages(delegate, 2)
    open_reader(delegate, paper["id"], 2)
    expect_on(delegate, paper, 2)

    context.set_offline(True)
    expect(delegate.locator("html")).not_to_have_attribute("data-live", "online")
    draw_stroke(delegate)
    expect(delegate.locator("#pen-tools")).to_have_attribute("data-pending", "1")
    delegate.screenshot(path=tmp_path / "offline-stroke.png")

    context.set_offline(False)
    expect_online(delegate)
    expect(delegate.locator("#pen-tools")).to_have_attribute("data-pending", "0")
    assert ink_pages(context, paper["id"]) == [2]
    context.close()


def test_projector_shows_the_presented_page(browser, live_server, tmp_path):
    screen_context, screen = signed_in(browser, live_server, "thuky", HALL_SCREEN)
    screen.goto("/meetings/1/projector")
    expect_online(screen)
    expect(screen.locator("#projector-message")).not_to_be_empty()
    expect(screen.locator("#projector-image")).to_be_hidden()

    chair_context, chair = signed_in(browser, live_server, "chutoa")
    paper = paper_with_pages(chair)
    present(chair, paper, 2)
    image = screen.locator("#projector-image")
    expect(image).to_have_attribute("src", re.compile(rf"/documents/{paper['id']}/pages/2\?w=\d+"))
    expect(image).to_be_visible()
    expect(screen.locator("#projector-item")).to_contain_text(paper["item"]["title"])
    expect(screen.locator("#projector-doc")).to_have_text(paper["title"])
    expect(screen.locator("#projector-page")).to_have_text(f"Trang 2/{paper['page_count']}")
    box = image.bounding_box()
    assert box["height"] > 0.85 * HALL_SCREEN["height"]  # as large as the screen allows
    screen.screenshot(path=tmp_path / "projector.png")
    screen_context.close()
    chair_context.close()


def test_secretary_starts_the_session_and_sees_the_quorum(browser, live_server, tmp_path):
    context, secretary = signed_in(browser, live_server, "thuky")
    secretary.goto("/meetings/1")
    expect_online(secretary)
    quorum = secretary.locator("#quorum")
    expect(quorum).to_contain_text("0/21")
    secretary.locator("#session-start").click()
    expect(secretary.locator("#session-state")).to_have_attribute("data-status", "live")
    expect(secretary.locator("#session-end")).to_be_visible()

    delegate_context, delegate = signed_in(browser, live_server, "daibieu03")
    open_reader(delegate)
    row = secretary.locator("#attendance-list li", has_text="Lê Minh Cường")
    expect(row).to_have_attribute("data-status", "present")
    expect(row.locator(".online-dot")).to_have_class(re.compile(r"\bon\b"))
    expect(quorum).to_contain_text("1/21")

    # The secretary marks someone excused, with a reason, by hand.
    away = secretary.locator("#attendance-list li", has_text="Nguyễn Văn An")
    away.locator("select").select_option("excused")
    expect(away).to_have_attribute("data-status", "excused")
    away.locator("input.reason").fill("Đi công tác")
    away.locator("input.reason").press("Enter")
    secretary.screenshot(path=tmp_path / "attendance.png", full_page=True)
    secretary.reload()
    expect(away.locator("input.reason")).to_have_value("Đi công tác")
    delegate.goto("/meetings/1")
    expect(delegate.locator("#my-attendance")).to_contain_text("Có mặt")
    context.close()
    delegate_context.close()


def test_a_shared_stroke_reaches_readers_open_now_and_opened_later(browser, live_server, tmp_path):
    """Shared marks are not in the snapshot: a reader opened later reads them per document."""
    author_context, author = signed_in(browser, live_server, "daibieu01")
    open_context, already = signed_in(browser, live_server, "daibieu02")
    paper = paper_with_pages(author)
    for page in (author, already):
        open_reader(page, paper["id"], 2)
        expect_on(page, paper, 2)
    author.locator("[data-pen=share]").click()  # what is drawn next is shared
    draw_stroke(author)
    expect(author.locator("#pen-tools")).to_have_attribute("data-pending", "0")  # acked
    expect(author.locator("#ink-layer .ink.mine.shared")).to_have_count(1)
    expect(already.locator("#ink-layer .ink.shared:not(.mine)")).to_have_count(1)
    later_context, later = signed_in(browser, live_server, "daibieu03")
    open_reader(later, paper["id"], 2)
    expect_on(later, paper, 2)
    expect(later.locator("#ink-layer .ink.shared:not(.mine)")).to_have_count(1)
    later.screenshot(path=tmp_path / "shared-stroke-opened-later.png")
    for context in (author_context, open_context, later_context):
        context.close()
