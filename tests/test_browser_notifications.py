"""In a real browser, a delegate sees the bell's count once the secretary has published the
agenda book, opens the list, follows the notification to the reader, and asks for them by
e-mail too. Screenshots at 1024x768 and 800x1280."""

from __future__ import annotations

import pytest

from tests.browser import settled, sign_in, tablet
from tests.test_browser_offline import publish_book

pytestmark = pytest.mark.browser


def test_a_delegate_sees_the_bell_after_publishing_and_follows_the_notification(
    browser, live_server, tmp_path
):
    from playwright.sync_api import expect

    context = tablet(browser, live_server)
    page = context.new_page()
    sign_in(page, "daibieu01")
    settled(page)
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell .bell-count")).to_have_count(0)

    publish_book(browser, live_server, tmp_path)

    page.reload()  # the count is asked for when a page loads, and every minute after
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Thông báo: 1 chưa đọc")
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"bell-{width}.png")
    page.set_viewport_size({"width": 1024, "height": 768})

    page.click("#bell")
    expect(page.locator("h1")).to_contain_text("Thông báo")
    unread = page.locator(".notification.unread")
    expect(unread).to_have_count(1)
    expect(unread).to_contain_text("đã được phát hành (phiên bản 1).")
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"notifications-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})

    unread.locator("a").click()
    page.wait_for_url("**/meetings/1/read")
    settled(page)
    expect(page.locator("#bell .bell-count")).to_have_count(0)
    page.goto("/notifications")
    expect(page.locator(".notification")).to_have_count(1)
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("#mark-all-read")).to_have_count(0)

    settings = page.locator("#notification-settings")
    settings.locator("input[name=email]").fill("")
    settings.locator("input[name=email_notifications]").check()
    settings.get_by_role("button", name="Lưu").click()
    expect(page.locator("#settings-error")).to_have_text(
        "Hãy nhập địa chỉ e-mail để nhận thông báo qua e-mail."
    )
    page.set_viewport_size({"width": 800, "height": 1280})
    page.screenshot(path=tmp_path / "notifications-settings-error-800.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})
    settings = page.locator("#notification-settings")
    expect(settings.locator("input[name=email_notifications]")).to_be_checked()  # kept
    settings.locator("input[name=email]").fill("daibieu01@phuong.gov.vn")
    settings.get_by_role("button", name="Lưu").click()
    expect(page.locator("#settings .ok")).to_have_text("Đã lưu.")
    expect(settings.locator("input[name=email]")).to_have_value("daibieu01@phuong.gov.vn")
    expect(settings.locator("input[name=email_notifications]")).to_be_checked()
    context.close()


def tell(live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    """One unread notification for `username`, written in the served database."""
    from sqlmodel import Session, create_engine, select

    from server.models import Notification, User

    engine = create_engine(f"sqlite:///{live_server.data_dir / 'phonghop.db'}")
    with Session(engine) as db:
        user = db.exec(select(User).where(User.username == username)).one()
        params = {"meeting": "Kỳ họp thứ ba", "version": 1}
        db.add(Notification(user_id=user.id, kind="book.published", params=params, link="/"))
        db.commit()
    engine.dispose()


def test_back_from_a_notification_the_list_shows_it_read(browser, live_server):
    """The list is not shown again from the browser's cache: the notification just opened
    (and the count) would still say unread while the bell says nothing is."""
    from playwright.sync_api import expect

    tell(live_server, "daibieu02")
    page = tablet(browser, live_server).new_page()
    sign_in(page, "daibieu02")
    page.goto("/notifications")
    expect(page.locator(".notification.unread")).to_have_count(1)

    page.locator(".notification a").click()
    page.wait_for_url(lambda url: not url.endswith("/notifications"))
    settled(page)
    page.go_back()

    expect(page.locator(".notification")).to_have_count(1)
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("h1")).not_to_contain_text("chưa đọc")
    page.context.close()


def test_the_bells_count_asked_for_while_offline_shows_no_error(browser, live_server):
    """The bell asks every minute without being asked to: a tablet reading offline is not told
    every minute that the server cannot be reached; back online, the count comes again."""
    from playwright.sync_api import expect

    context = tablet(browser, live_server)
    page = context.new_page()
    page.clock.install()
    sign_in(page, "daibieu03")
    page.goto("/meetings")
    settled(page)
    page.evaluate(
        """document.addEventListener("htmx:afterRequest", (event) => {
             if (event.detail.elt.id === "bell") window.bellAsked = (window.bellAsked || 0) + 1;
           })"""
    )
    context.set_offline(True)

    page.clock.fast_forward(61_000)
    page.wait_for_function("window.bellAsked >= 1")

    expect(page.locator("#flash")).to_be_empty()
    expect(page.locator("#bell")).to_be_visible()
    tell(live_server, "daibieu03")
    context.set_offline(False)
    with page.expect_response("**/notifications/bell"):
        page.clock.fast_forward(61_000)
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    expect(page.locator("#flash")).to_be_empty()
    context.close()
