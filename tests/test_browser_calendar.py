"""In a real browser, a delegate makes a calendar link, sees its address, and revokes it;
the thư ký sees the council's link too. Screenshots at 1024x768 and 800x1280."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - our server
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode("utf-8")


def test_a_delegate_makes_sees_and_revokes_a_calendar_link(browser, live_server, tmp_path):
    from playwright.sync_api import expect

    context = tablet(browser, live_server)
    page = context.new_page()
    sign_in(page, "daibieu01")
    page.click("a.calendar-link")
    expect(page.locator("h1")).to_have_text("Lịch họp")
    mine = page.locator("#my-calendar")
    expect(mine.locator(".calendar-url")).to_have_count(0)
    mine.get_by_role("button", name="Tạo liên kết mới").click()
    url_box = mine.locator(".calendar-url")
    expect(url_box).to_have_count(1)
    url = url_box.input_value()
    assert url.startswith(live_server.url + "/calendar/feed/") and url.endswith(".ics")
    expect(mine.get_by_role("link", name="Mở bằng ứng dụng lịch")).to_have_attribute(
        "href", "webcal://" + url.split("://", 1)[1]
    )
    status, text = fetch(url)
    assert status == 200 and "BEGIN:VEVENT" in text
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"calendar-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})

    mine.get_by_role("button", name="Thu hồi liên kết này").click()
    expect(mine.locator(".calendar-url")).to_have_count(0)
    expect(mine).to_contain_text("Chưa có liên kết lịch nào.")
    status, text = fetch(url)
    assert status == 410 and "BEGIN:VCALENDAR" not in text
    context.close()

    secretary = tablet(browser, live_server).new_page()
    sign_in(secretary, "thuky")
    secretary.goto("/calendar")
    council = secretary.locator(".council-calendar")
    expect(council).to_have_count(1)
    council.get_by_role("button", name="Tạo liên kết mới").click()
    expect(council.locator(".calendar-url")).to_have_count(1)
    secretary.set_viewport_size({"width": 800, "height": 1280})
    secretary.screenshot(path=tmp_path / "calendar-council-800.png", full_page=True)
