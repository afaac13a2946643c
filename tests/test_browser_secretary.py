"""In a real browser: the demo secretary creates a meeting with an agenda item."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser


def test_secretary_creates_a_meeting_with_an_item(browser, live_server, tmp_path):
    context = tablet(browser, live_server)
    page = context.new_page()
    sign_in(page, "thuky")
    page.screenshot(path=tmp_path / "meetings.png", full_page=True)

    page.fill("#new-meeting input[name=title]", "Kỳ họp chuyên đề về đầu tư công")
    page.fill("#new-meeting input[name=starts_at]", "2026-12-28T14:00")
    page.fill("#new-meeting input[name=place]", "Phòng họp số 2")
    page.click("#new-meeting button[type=submit]")
    page.wait_for_url("**/edit")

    page.fill("#new-item input[name=title]", "Thông qua Nghị quyết về kế hoạch đầu tư công 2027")
    page.fill("#new-item input[name=presenter]", "Chủ tịch UBND phường")
    page.click("#new-item button[type=submit]")
    page.wait_for_selector("#agenda li:has-text('kế hoạch đầu tư công 2027')")
    assert page.locator("#new-item input[name=title]").input_value() == ""  # form cleared
    page.screenshot(path=tmp_path / "editor.png", full_page=True)

    page.goto("/meetings")
    listed = page.locator("#meeting-list")
    assert "Kỳ họp chuyên đề về đầu tư công" in listed.inner_text()
    assert "14:00 28/12/2026" in listed.inner_text()
    page.screenshot(path=tmp_path / "meetings-after.png", full_page=True)

    page.click("text=Kỳ họp thứ ba")  # the demo session, with its agenda and papers
    expect(page.locator(".agenda")).to_contain_text("Tờ trình")  # the page has come
    assert page.locator(".agenda li").count() >= 6
    page.screenshot(path=tmp_path / "demo-meeting.png", full_page=True)
    context.close()


def test_wrong_password_shows_a_message_in_vietnamese(browser, live_server):
    context = tablet(browser, live_server)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "thuky")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("button[type=submit]")
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator(".error").inner_text()
    context.close()
