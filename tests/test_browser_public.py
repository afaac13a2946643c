"""In a real browser: the secretary publishes the demo session's book (with a confidential
paper), ticks "Công khai cuộc họp này trên cổng dữ liệu mở" and a show of hands is counted;
then someone who never signs in opens /public, the meeting's page with its agenda, papers and
result, and downloads a paper, on a tablet and on a phone-sized screen."""

from __future__ import annotations

import pytest

from server.demo import MEETING_TITLE
from tests.browser import BUSY_MACHINE_MS, TABLET, sign_in, tablet
from tests.test_browser_offline import publish_book

pytestmark = pytest.mark.browser

SECRET = "Báo cáo mật về công tác cán bộ"


def _post_json(page, path: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(path, data=body or {}, headers={"X-CSRFToken": token})
    assert answer.ok, answer.text()
    return answer.json()


def test_anyone_reads_a_public_meeting_without_signing_in(browser, live_server, tmp_path):
    from playwright.sync_api import expect

    publish_book(browser, live_server, tmp_path, confidential=SECRET)
    context = tablet(browser, live_server)
    secretary = context.new_page()
    sign_in(secretary, "thuky")
    secretary.goto("/meetings/1/edit")
    section = secretary.locator("#open-data")
    section.get_by_label("Công khai cuộc họp này trên cổng dữ liệu mở").check()
    expect(section.locator(".ok")).to_contain_text("Đã lưu")
    expect(section.get_by_role("link", name="Xem trang công khai")).to_be_visible()
    section.scroll_into_view_if_needed()
    secretary.screenshot(path=tmp_path / "public-toggle-1024.png")
    item = secretary.request.get("/api/meetings/1").json()["items"][1]["id"]
    vote = _post_json(
        secretary,
        "/api/meetings/1/votes",
        {"title": "Biểu quyết thông qua nội dung", "method": "hands", "item_id": item},
    )
    _post_json(secretary, f"/api/votes/{vote['id']}/open")
    counts = {"counts": {"yes": 16, "no": 2, "abstain": 1}}
    assert _post_json(secretary, f"/api/votes/{vote['id']}/count", counts)["result"]["passed"]
    context.close()

    stranger = browser.new_context(viewport=TABLET, base_url=live_server.url, locale="vi-VN")
    stranger.set_default_timeout(BUSY_MACHINE_MS)
    page = stranger.new_page()
    page.goto("/public")
    expect(page.locator("h1")).to_have_text("Dữ liệu mở của Hội đồng")
    page.screenshot(path=tmp_path / "public-list-1024.png", full_page=True)
    page.get_by_role("link", name=MEETING_TITLE).click()
    expect(page.locator("h1")).to_have_text(MEETING_TITLE)
    result = page.locator(f"#item-{item} .outcome.passed")
    expect(result.locator(".verdict")).to_contain_text("Thông qua")
    expect(result.locator(".tally")).to_contain_text("Tán thành 16")
    expect(result.locator(".tally")).to_contain_text("Không tán thành 2")
    rule = result.locator(".rule")
    expect(rule).to_contain_text("19/21 đại biểu biểu quyết; cần 11 phiếu tán thành")
    expect(page.locator("main")).not_to_contain_text(SECRET)
    links = page.locator(".paper-link")
    assert links.count() >= 3
    pdf = page.request.get(links.first.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert not [c for c in stranger.cookies() if c["name"] == "session"]
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"public-meeting-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    result.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "public-result-800.png")
    stranger.close()
