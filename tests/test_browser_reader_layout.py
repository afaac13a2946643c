"""In a real browser, on a landscape tablet (1024x768, agenda open) and an upright one
(800x1280): the pen tools sit beside the page and the search, never over them, and say what
they are; a highlighter drag leaves a yellow mark, over words and where there are none; what
the chair presents is read whole in the live bar; the hall's projector asks for nothing the
server does not have (issue 17, item 5)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect

from bench.harness import free_port, running_server, server_env
from tests.browser import BUSY_MACHINE_MS, LiveServer
from tests.test_browser_live import (
    HALL_SCREEN,
    expect_on,
    open_reader,
    paper_with_pages,
    present,
    signed_in,
)

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1024, "height": 768}
UPRIGHT = {"width": 800, "height": 1280}
LABELS_VI = ["Xem", "Bút", "Tô sáng", "Ghi chú", "Tẩy", "Hoàn tác", "Chia sẻ", "Tải về"]
LABELS_EN = ["Read", "Pen", "Highlight", "Note", "Eraser", "Undo", "Share", "Download"]
ACCESS_LINE = re.compile(r'\\?"(GET|POST|PUT|DELETE|PATCH|HEAD) (\S+) HTTP/[\d.]+\\?" (\d{3})')


def box(page, selector: str) -> dict:  # type: ignore[no-untyped-def]
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} is not on screen"
    return found


def apart(a: dict, b: dict) -> bool:
    """Two boxes on screen share no pixel."""
    return (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def browsing_away(browser, live_server, viewport):  # type: ignore[no-untyped-def]
    """The chair presents page 3 of a paper; a delegate stops following and reads page 2, so
    the live bar holds the toggle, the presented page, the way back and the ask-to-speak."""
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    paper = paper_with_pages(chair, 3)
    present(chair, paper, 3)
    chair_context.close()
    context, delegate = signed_in(browser, live_server, "daibieu03", viewport)
    open_reader(delegate)
    expect_on(delegate, paper, 3)  # following the chair
    delegate.locator("[data-action=prev]").click()
    expect_on(delegate, paper, 2)
    expect(delegate.locator("#follow-toggle")).to_have_attribute("aria-pressed", "false")
    expect(delegate.locator("#follow-return")).to_be_visible()
    expect(delegate.locator("#presented-text")).to_contain_text(paper["title"][:20])
    # "you are reading on your own" shows over the page for a while; then the page is clear
    delegate.wait_for_function(
        "getComputedStyle(document.getElementById('follow-notice')).opacity === '0'"
    )
    return context, delegate, paper


def expect_presented_readable(page) -> None:  # type: ignore[no-untyped-def]
    """The presented page's words are all on screen: nothing cut at the side or the bottom."""
    for selector in ("#presented", "#presented-text"):
        sizes = page.locator(selector).evaluate(
            "e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]"
        )
        scroll_w, client_w, scroll_h, client_h = sizes
        assert scroll_w <= client_w and scroll_h <= client_h, (selector, sizes)
        assert client_w > 0


def expect_labels(page, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Each pen tool says what it is under its icon."""
    labels = page.locator("#pen-tools .tool-label")
    expect(labels).to_have_text(words)
    for n in range(labels.count()):
        label = labels.nth(n)
        expect(label).to_be_visible()
        size = label.bounding_box()
        assert size and size["width"] > 10 and size["height"] > 6, (words[n], size)


def yellow_share(page, area: dict) -> float:  # type: ignore[no-untyped-def]
    """The part of `area`'s pixels that are highlighter yellow."""
    image = pymupdf.Pixmap(page.screenshot(clip=area))
    yellow = total = 0
    for y in range(0, image.height, 2):
        for x in range(0, image.width, 2):
            r, g, b = image.pixel(x, y)[:3]
            total += 1
            yellow += r > 200 and g > 170 and b < 200 and r - b > 60
    return yellow / total


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    """A mouse drag between two points given as fractions of the page."""
    sheet = box(page, "#sheet")
    (x0, y0), (x1, y1) = [
        (sheet["x"] + fx * sheet["width"], sheet["y"] + fy * sheet["height"])
        for fx, fy in (start, end)
    ]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=10)
    page.mouse.up()


def expect_yellow_highlight(page, count: int) -> dict:  # type: ignore[no-untyped-def]
    """The `count`th highlight is on the page, saved, has a size and shows yellow; its box."""
    expect(page.locator("#ink-layer .highlight.mine")).to_have_count(count)
    expect(page.locator("#pen-tools")).to_have_attribute("data-pending", "0")  # and saved
    shown = page.evaluate(
        """n => {
        const group = document.querySelectorAll('#ink-layer .highlight.mine')[n];
        const box = group.getBoundingClientRect();
        const style = getComputedStyle(group.querySelector('rect'));
        return { x: box.x, y: box.y, width: box.width, height: box.height,
                 fill: style.fill, opacity: Number(style.opacity), visibility: style.visibility };
        }""",
        count - 1,
    )
    assert shown["width"] > 20 and shown["height"] > 4, shown
    assert shown["fill"] not in ("none", "rgba(0, 0, 0, 0)") and shown["opacity"] >= 0.3, shown
    assert shown["visibility"] == "visible", shown
    area = {key: shown[key] for key in ("x", "y", "width", "height")}
    assert yellow_share(page, area) > 0.3, shown
    return area


def test_landscape_tablet_tools_search_highlighter_and_live_bar(browser, live_server, tmp_path):
    context, reader, paper = browsing_away(browser, live_server, LANDSCAPE)
    expect(reader.locator("#reader-agenda")).to_be_visible()
    expect(reader.locator("#pen-tools")).to_be_visible()
    reader.screenshot(path=tmp_path / "reader-1024.png")

    expect_presented_readable(reader)
    expect_labels(reader, LABELS_VI)
    assert apart(box(reader, "#pen-tools"), box(reader, "#sheet"))

    # The search opens beside the tools: its box and its close button stay clear of them.
    reader.locator("[data-action=toggle-search]").click()
    expect(reader.locator("#reader-search")).to_be_visible()
    reader.fill("#search-input", "ngân sách")
    reader.keyboard.press("Enter")
    expect(reader.locator("#search-results button").first).to_be_visible()
    reader.screenshot(path=tmp_path / "reader-search-1024.png")
    tools = box(reader, "#pen-tools")
    assert apart(tools, box(reader, "#reader-search"))
    assert apart(tools, box(reader, "[data-action=close-search]"))
    reader.locator("[data-action=close-search]").click()  # a real click: nothing covers it
    expect(reader.locator("#reader-search")).to_be_hidden()

    # The thumbnails strip too.
    reader.locator("[data-action=toggle-thumbs]").click()
    expect(reader.locator("#reader-thumbs")).to_be_visible()
    assert apart(box(reader, "#pen-tools"), box(reader, "#reader-thumbs"))
    reader.locator("[data-action=toggle-thumbs]").click()
    expect(reader.locator("#reader-thumbs")).to_be_hidden()

    # A highlighter drag straight along a line of words (a mouse's drag has no height) marks
    # them; one across the blank page marks the band dragged.
    words = reader.request.get(f"/api/documents/{paper['id']}/pages/2/words").json()["words"]
    assert words, "the demo paper's page 2 has words"
    x0, y0, x1, y1 = words[len(words) // 2][:4]
    middle = (y0 + y1) / 2
    reader.locator("[data-tool=highlight]").click()
    drag(reader, (max(0.02, x0 - 0.02), middle), (min(0.98, x1 + 0.2), middle))
    expect_yellow_highlight(reader, 1)
    blank = next(  # a line across the page with no word on it: the margin, if nothing else
        y / 200
        for y in range(4, 196)
        if all(wy1 < y / 200 - 0.015 or wy0 > y / 200 + 0.015 for _, wy0, _, wy1, *_ in words)
    )
    drag(reader, (0.3, blank), (0.6, blank))
    band = expect_yellow_highlight(reader, 2)
    assert band["width"] > 0.25 * box(reader, "#sheet")["width"]
    reader.screenshot(path=tmp_path / "reader-highlight-1024.png")

    reader.reload()  # the marks came back from the server, as drawn
    expect_on(reader, paper, 2)
    expect_yellow_highlight(reader, 2)
    context.close()


def test_upright_tablet_tools_under_the_page_and_live_bar(browser, live_server, tmp_path):
    context, reader, _ = browsing_away(browser, live_server, UPRIGHT)
    expect(reader.locator("#pen-tools")).to_be_visible()
    expect(reader.locator("#pen-tools")).to_have_attribute("aria-orientation", "horizontal")
    reader.screenshot(path=tmp_path / "reader-800.png")

    tools = box(reader, "#pen-tools")
    assert apart(tools, box(reader, "#page-image"))
    assert apart(tools, box(reader, "#sheet"))
    assert tools["y"] + tools["height"] <= box(reader, "#pager")["y"]
    expect_labels(reader, LABELS_VI)
    expect_presented_readable(reader)

    # Following again: the bar is shorter, still whole.
    reader.locator("#follow-return").click()
    expect(reader.locator("#follow-toggle")).to_have_attribute("aria-pressed", "true")
    expect_presented_readable(reader)

    # In English the tools are named in English.
    reader.goto("/lang/en?next=/meetings/1/read")
    expect(reader.locator("#pen-tools")).to_be_visible()
    expect_labels(reader, LABELS_EN)
    expect_presented_readable(reader)
    reader.screenshot(path=tmp_path / "reader-800-en.png")
    context.close()


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo council, its server logging every request it answers (INFO)."""
    data_dir = tmp_path / "data"
    env = {**server_env(data_dir), "PHONGHOP_LOG_LEVEL": "INFO"}
    with running_server(free_port(), env, tmp_path / "server.log", command="demo") as server:
        server.wait_healthy()
        yield LiveServer(server.url, data_dir, server.process)


def access_log(path: Path) -> list[tuple[str, int]]:
    """(path, status) of each request in the server's log, in order."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [(m[2], int(m[3])) for line in lines if (m := ACCESS_LINE.search(line))]


def logged_until(log: Path, before: int, marker: str) -> list[tuple[str, int]]:
    """The requests logged since the first `before`, once one with `marker` is among them."""
    deadline = time.monotonic() + BUSY_MACHINE_MS / 1000
    while time.monotonic() < deadline:
        requests = access_log(log)[before:]
        if any(marker in path for path, _ in requests):
            return requests
        time.sleep(0.05)  # a poll of the log file, not a wait for time to pass
    raise AssertionError(f"no request with {marker!r} in the server's log")


def test_projector_asks_for_nothing_missing(browser, logged_server, tmp_path):
    live_server = logged_server
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    paper = paper_with_pages(chair, 2)
    present(chair, paper, 2)
    context, screen = signed_in(browser, live_server, "thuky", HALL_SCREEN)
    refused: list[str] = []
    screen.on("response", lambda r: r.status >= 400 and refused.append(f"{r.status} {r.url}"))
    log = tmp_path / "server.log"
    before = len(access_log(log))

    screen.goto("/meetings/1/projector", wait_until="load")
    expect(screen.locator("#projector-image")).to_be_visible()
    expect(screen.locator("#projector-doc")).to_have_text(paper["title"])
    # The browser asks for a page's icon itself after the load, out of the page's sight: a
    # last request, made once the page has loaded, is in the log after it.
    screen.evaluate("fetch('/static/css/projector.css?projector-loaded')")
    requests = logged_until(log, before, "projector-loaded")
    assert not refused, refused
    assert not [(p, s) for p, s in requests if s >= 400], requests
    screen.screenshot(path=tmp_path / "projector.png")
    context.close()
    chair_context.close()
