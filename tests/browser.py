"""Browser test harness: a real `phonghop demo` process (bench/harness.py) and Debian's
headless Chromium."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.harness import free_port, running_server, server_env
from tests.conftest import need

CHROMIUM = os.environ.get("PHONGHOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MEDIA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
TABLET = {"width": 1024, "height": 768}
BUSY_MACHINE_MS = 30_000


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo council served by a real process on a free loopback port."""
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    with running_server(free_port(), server_env(data_dir), log, command="demo") as server:
        server.wait_healthy()
        yield LiveServer(server.url, data_dir, server.process)


@pytest.fixture
def browser(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    flags = CHROMIUM_FLAGS + (MEDIA_FLAGS if request.node.get_closest_marker("media") else [])
    # Ceilings, not waits: on a machine busy with other work (two suites and a busy loop on
    # 2 cores) a page can take over 10 s to answer a click.
    expect.set_options(timeout=BUSY_MACHINE_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
        yield chromium
        chromium.close()


def tablet(browser, live_server: LiveServer, url: str = "", **options):  # type: ignore[no-untyped-def]
    """A new tablet-sized browser context (its own cookies) on the live server, or at `url`
    (the server through tests/wifi.py)."""
    base = url or live_server.url
    context = browser.new_context(viewport=TABLET, base_url=base, locale="vi-VN", **options)
    context.set_default_timeout(BUSY_MACHINE_MS)
    return context


def sign_in(page, username: str, password: str = "demo2026") -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/meetings")


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until htmx has swapped and wired what it fetched: typing into a form htmx has just
    swapped in, before its triggers are bound, is lost (it happened on a busy machine)."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")
