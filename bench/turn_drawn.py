"""From the chair's page turn to the new page drawn on a delegate's tablet, in a real browser:
the tablet that fetches each page when it is shown (the anchor: a tablet without the service
worker, as on a LAN served over plain http) beside the tablet that holds the agenda book.

Both tablets follow the chair in headless Chromium (Debian's /usr/bin/chromium). The chair
presents pages of the published book, jumping between papers; each tablet notes when its page
image finished loading (`load` on #page-image). Times are wall-clock milliseconds on this one
machine: Date.now() in the chair's page when it clicks "present", in the tablet's when drawn.

    .venv/bin/python bench/turn_drawn.py [--turns 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from harness import BenchFailed, free_port, progress, run_benchmark, running_server, server_env

CHROMIUM = os.environ.get("PHONGHOP_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
TABLET = {"width": 1024, "height": 768}
PASSWORD = "demo2026"
# Every page image the tablet draws: its sheet number and when it was drawn.
WATCH = """
window.__drawn = [];
document.addEventListener("load", (event) => {
  const found = event.target.id === "page-image" && /\\/pages\\/(\\d+)\\?/.exec(event.target.src);
  if (found) window.__drawn.push([Number(found[1]), Date.now()]);
}, true);
"""

PRESENT = """() => {
  const at = Date.now();
  document.getElementById("present-page").click();
  return at;
}"""


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/meetings")


def publish(browser: Any, url: str) -> None:
    context = browser.new_context(viewport=TABLET, base_url=url)
    context.set_default_timeout(120_000)
    page = context.new_page()
    sign_in(page, "thuky")
    page.goto("/meetings/1/edit")
    page.click("#publishing button.primary")
    page.locator("#publish-status .ok").wait_for(timeout=120_000)
    context.close()


def follower(browser: Any, url: str, username: str, keeps_book: bool) -> Any:
    workers = "allow" if keeps_book else "block"
    context = browser.new_context(viewport=TABLET, base_url=url, service_workers=workers)
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.add_init_script(WATCH)
    sign_in(page, username)
    page.goto("/meetings/1/read")
    page.locator("html[data-live=online]").wait_for(state="attached")
    if keeps_book:
        page.locator("#offline-mark.ready").wait_for()
    return page


def measure(data_dir: Path, turns: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise BenchFailed(f"Chromium is not installed at {CHROMIUM}")
    log = data_dir / "server.log"
    with running_server(free_port(), server_env(data_dir), log, command="demo") as server:
        server.wait_healthy()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            publish(browser, server.url)
            chair_context = browser.new_context(viewport=TABLET, base_url=server.url)
            chair_context.set_default_timeout(120_000)
            chair = chair_context.new_page()
            sign_in(chair, "chutoa")
            chair.goto("/meetings/1/read")
            chair.locator("html[data-live=online]").wait_for(state="attached")
            book = int(chair.locator(".doc-link.book").get_attribute("data-document") or 0)
            tablets = {
                "fetch_on_show": follower(browser, server.url, "daibieu01", keeps_book=False),
                "book_on_tablet": follower(browser, server.url, "daibieu02", keeps_book=True),
            }
            sent: dict[int, int] = {}
            progress(f"{turns} turns of book {book}")
            for page in jumps(turns):
                chair.goto(f"/meetings/1/read?document={book}&page={page}")
                chair.locator("html[data-live=online]").wait_for(state="attached")
                chair.locator("#page-image").wait_for()
                sent[page] = chair.evaluate(PRESENT)
                for tablet in tablets.values():
                    tablet.wait_for_function(
                        f"window.__drawn.some(([n]) => n === {page})", timeout=120_000
                    )
            report = {name: drawn_after(tablet, sent) for name, tablet in tablets.items()}
            browser.close()
    return {"benchmark": "turn_drawn", "cpus": os.cpu_count(), "turns": turns, **report}


def jumps(turns: int) -> list[int]:
    """Pages 7 apart, as a chair moves between papers: the reader's prefetch of the next page
    does not help the anchor. All different for up to 23 turns of a 25-page book."""
    return [2 + (7 * k) % 23 for k in range(turns)]


def drawn_after(tablet: Any, sent: dict[int, int]) -> dict[str, Any]:
    drawn = {n: at for n, at in reversed(tablet.evaluate("window.__drawn"))}  # first drawing wins
    delays = [drawn[n] - at for n, at in sent.items()]
    return {
        "p50_ms": statistics.median(delays),
        "max_ms": max(delays),
        "each_ms": delays,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=8)
    turns = parser.parse_args().turns
    return run_benchmark(lambda data_dir: measure(data_dir, turns), ImportError)


if __name__ == "__main__":
    sys.exit(main())
