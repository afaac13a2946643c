"""Browser test harness: a real `phonghop serve` process and Debian's headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo council served by a real process on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "PHONGHOP_DATA_DIR": str(tmp_path / "data"),
        "PHONGHOP_HOST": "127.0.0.1",
        "PHONGHOP_PORT": str(port),
        "PHONGHOP_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield LiveServer(url, tmp_path / "data", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def browser(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    flags = CHROMIUM_FLAGS + (MEDIA_FLAGS if request.node.get_closest_marker("media") else [])
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
        yield chromium
        chromium.close()


def tablet(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """A new tablet-sized browser context (its own cookies) on the live server."""
    context = browser.new_context(viewport=TABLET, base_url=live_server.url, locale="vi-VN")
    context.set_default_timeout(10_000)
    return context


def sign_in(page, username: str, password: str = "demo2026") -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/meetings")
