"""In a real browser, a commune's first day: a fresh install says how to make the first
administrator, who signs in and makes the first meeting with its council; English is picked
once and stays; a refused agenda item is said next to its form."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import free_port, running_server, server_env
from tests.browser import BUSY_MACHINE_MS, LiveServer

pytestmark = pytest.mark.browser

SIZES = {"1280": (1280, 800), "1024": (1024, 768), "800": (800, 1280)}
PASSWORD = "mat-khau-dai-2026"


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`phonghop serve` on an empty data dir: no accounts, no council."""
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    with running_server(free_port(), server_env(data_dir), log, command="serve") as server:
        server.wait_healthy()
        yield LiveServer(server.url, data_dir, server.process)


def create_admin(server: LiveServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "create-user", "admin", "--role", "admin"]
        + ["--name", "Quản trị viên", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=server_env(server.data_dir),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def shots(page, folder: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at a laptop's, a landscape tablet's and a portrait tablet's size."""
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})


def test_first_day_of_a_fresh_install(browser, fresh_server, tmp_path):
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert "phonghop create-user admin --role admin" in log
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, base_url=fresh_server.url, locale="en-US"
    )
    context.set_default_timeout(BUSY_MACHINE_MS)
    page = context.new_page()

    page.goto("/login")  # a browser set to English, still Vietnamese
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "phonghop create-user admin --role admin" in page.locator("#first-run").inner_text()
    shots(page, tmp_path, "login-first-run")

    create_admin(fresh_server)
    page.goto("/login")
    assert page.locator("#first-run").count() == 0
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/meetings")

    form = page.locator("#new-meeting")
    form.locator("input[name=title]").fill("Kỳ họp thứ nhất HĐND xã Hòa Bình")
    form.locator("input[name=starts_at]").fill("2027-01-10T08:00")
    form.locator("input[name=council_name]").fill("   ")  # passes `required`, not the server
    shots(page, tmp_path, "meetings-first-council")
    form.locator("button[type=submit]").click()
    error = form.locator(".form-error .error")
    error.wait_for()
    assert "tên cơ quan" in error.inner_text()
    assert page.locator("#flash").inner_text() == ""
    shots(page, tmp_path, "meetings-first-council-refused")

    form.locator("input[name=council_name]").fill("HĐND xã Hòa Bình")
    form.locator("input[value=hdnd]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/edit")

    page.click(".lang-switch >> text=EN")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("text=Back to the meeting")
    page.wait_for_url("**/meetings/*")
    assert page.locator("html").get_attribute("lang") == "en"  # and it stays picked
    page.wait_for_function(  # the page's own script speaks it too (kit.js lang)
        "document.getElementById('quorum')?.textContent.startsWith('Present')"
    )
    page.go_back()
    page.wait_for_url("**/edit")

    items = page.locator("#new-item")
    for title, minutes in (("Khai mạc", "5"), ("Tờ trình dự toán ngân sách 2027", "1")):
        items.locator("input[name=title]").fill(title)
        items.locator("input[name=duration_minutes]").fill(minutes)
        items.locator("button[type=submit]").click()
        page.locator("#agenda li", has_text=title).wait_for()
    assert "1 minute" in page.locator("#agenda").inner_text()
    assert "1 minutes" not in page.locator("#agenda").inner_text()
    assert page.get_by_role("button", name="Move up").first.inner_text().endswith("Up")

    items.locator("input[name=title]").fill("   ")
    items.locator("button[type=submit]").click()
    refused = items.locator(".form-error .error")
    refused.wait_for()
    assert refused.is_visible() and page.locator("#flash").inner_text() == ""
    shots(page, tmp_path, "editor-en")

    page.click(".lang-switch >> text=VI")
    page.wait_for_load_state()
    assert "Lên" in page.get_by_role("button", name="Chuyển lên").first.inner_text()
    assert "5 phút" in page.locator("#agenda").inner_text()
    shots(page, tmp_path, "editor-vi")
    context.close()
