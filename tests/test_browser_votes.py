"""In a real browser: the chair runs a vote from the meeting page's console, delegates cast
their ballots on the reader with a confirmation step, and the hall's projector shows the
result; a delegate asks for the floor, the chair gives it with a time limit and ends it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in, tablet

pytestmark = pytest.mark.browser

WIDE_TABLET = {"width": 1280, "height": 800}
HALL_SCREEN = {"width": 1920, "height": 1080}
QUESTION = "Thông qua Nghị quyết về dự toán ngân sách năm 2027"


def signed_in(browser, live_server, username: str, viewport=WIDE_TABLET):  # type: ignore[no-untyped-def]
    context = tablet(browser, live_server)
    page = context.new_page()
    page.set_viewport_size(viewport)
    sign_in(page, username)
    return context, page


def open_live(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("data-live", "online")


def cast(page, option: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """Taps an option of the ballot, then confirms it."""
    ballot = page.locator("#ballot")
    ballot.locator(f".ballot-option.{option}").click()
    expect(ballot.locator(".ballot-question")).to_have_text(f"Xác nhận: {words}?")
    ballot.locator(".ballot-confirm-yes").click()
    expect(ballot.locator(".ballot-done")).to_have_text(f"Đã biểu quyết: {words}")


def test_chair_runs_a_vote_and_the_projector_shows_the_result(browser, live_server, tmp_path):
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    open_live(chair, "/meetings/1")
    first_context, first = signed_in(browser, live_server, "daibieu01")
    open_live(first, "/meetings/1/read")
    screen_context, screen = signed_in(browser, live_server, "thuky", HALL_SCREEN)
    open_live(screen, "/meetings/1/projector")

    form = chair.locator("#vote-form")
    form.locator("[name=title]").fill(QUESTION)
    form.locator("[name=item_id]").select_option(index=1)
    expect(chair.locator("#vote-requirement")).to_have_text(
        "Cần ít nhất 11/21 đại biểu tán thành (tổng số đại biểu của Hội đồng)"
    )
    chair.locator("#vote-create").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "draft")
    expect(chair.locator("#vote-needs")).to_contain_text("Cần ít nhất 11/21 đại biểu tán thành")
    expect(form).to_be_hidden()
    chair.locator("#vote-open").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "open")

    # The delegate on the reader: the ballot comes up over the page, live.
    ballot = first.locator("#ballot")
    expect(ballot).to_be_visible()
    expect(ballot.locator(".ballot-title")).to_have_text(QUESTION)
    expect(ballot.locator(".ballot-option")).to_have_text(
        ["Tán thành", "Không tán thành", "Không biểu quyết"]
    )
    first.screenshot(path=tmp_path / "ballot.png")
    first_context.set_offline(True)  # the hall's Wi-Fi drops: the ballot says it needs it
    expect(ballot.locator(".ballot-offline")).to_contain_text("cần có mạng mới bỏ phiếu được")
    expect(ballot.locator(".ballot-option.yes")).to_be_disabled()
    first.screenshot(path=tmp_path / "ballot-offline.png")
    first_context.set_offline(False)
    expect(ballot.locator(".ballot-offline")).to_have_count(0)
    ballot.locator(".ballot-option.yes").click()
    expect(ballot.locator(".ballot-question")).to_have_text("Xác nhận: Tán thành?")
    first.screenshot(path=tmp_path / "confirm.png")
    ballot.locator(".ballot-confirm-yes").click()
    expect(ballot.locator(".ballot-done")).to_have_text("Đã biểu quyết: Tán thành")
    expect(ballot.locator(".ballot-change")).to_have_count(0)  # the vote does not allow changes
    expect(screen.locator(".projector-vote-count")).to_have_text(re.compile(r"Đã biểu quyết 1/2\d"))

    # A second delegate opens the reader after the vote opened (from the snapshot).
    second_context, second = signed_in(browser, live_server, "daibieu02")
    open_live(second, "/meetings/1/read")
    cast(second, "no", "Không tán thành")

    expect(chair.locator("#vote-count")).to_have_attribute("data-voters", "2")
    expect(chair.locator("#vote-count")).to_have_text(re.compile(r"Đã biểu quyết 2/2\d"))
    tally = chair.locator("#vote-current .vote-tally")
    expect(tally.locator(".vote-bar-count")).to_have_text(["1", "1", "0"])
    chair.screenshot(path=tmp_path / "console.png", full_page=True)

    chair.locator("#vote-close").click()
    expect(chair.locator(".vote-confirm-text")).to_contain_text("Kết thúc biểu quyết bây giờ?")
    chair.locator("#vote-close-confirm").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "closed")
    expect(chair.locator("#vote-current .vote-verdict")).to_have_text("KHÔNG THÔNG QUA")

    # The hall: counts per option and the verdict, no names.
    result = screen.locator("#projector-vote")
    expect(result).to_have_attribute("data-status", "closed")
    expect(result.locator(".vote-verdict")).to_have_text("KHÔNG THÔNG QUA")
    expect(result.locator(".vote-bar-count")).to_have_text(["1", "1", "0"])
    # The demo council is an HĐND of 21: more than half of ALL its delegates, not of votes cast.
    expect(result.locator(".vote-rule")).to_contain_text("Cần ≥ 11/21")
    expect(result.locator(".vote-named")).to_have_count(0)
    screen.screenshot(path=tmp_path / "projector-result.png")

    # The delegate sees the result too, with who voted what (a named vote), then closes it.
    expect(ballot.locator(".vote-verdict")).to_have_text("KHÔNG THÔNG QUA")
    ballot.locator(".vote-named summary").click()
    expect(ballot.locator(".vote-named-group.yes")).to_contain_text("Nguyễn Văn An")
    expect(ballot.locator(".vote-named-group.no")).to_contain_text("Trần Thị Bích")
    first.screenshot(path=tmp_path / "result.png")
    ballot.locator(".ballot-dismiss").click()
    expect(ballot).to_be_hidden()
    for context in (chair_context, first_context, second_context, screen_context):
        context.close()


def test_delegate_asks_for_the_floor_and_gets_it(browser, live_server, tmp_path):
    delegate_context, delegate = signed_in(browser, live_server, "daibieu03")
    open_live(delegate, "/meetings/1/read")
    other_context, other = signed_in(browser, live_server, "daibieu04")
    open_live(other, "/meetings/1/read")
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    open_live(chair, "/meetings/1")
    screen_context, screen = signed_in(browser, live_server, "thuky", HALL_SCREEN)
    open_live(screen, "/meetings/1/projector")

    ask = delegate.locator("#floor-request")
    expect(ask).to_have_text("Đăng ký phát biểu")
    ask.click()
    expect(delegate.locator("#floor-place")).to_have_text("Bạn đứng thứ 1")
    expect(ask).to_have_text("Rút đăng ký")
    other.locator("#floor-request").click()
    expect(other.locator("#floor-place")).to_have_text("Bạn đứng thứ 2")
    expect(screen.locator("#projector-next")).to_have_text("Tiếp theo: Lê Minh Cường")

    # The chair puts the second request first, then gives the floor to the first one anyway.
    waiting = chair.locator("#floor-waiting .floor-who")
    expect(waiting).to_contain_text(["Lê Minh Cường", "Phạm Thu Dung"])
    chair.locator("#floor-waiting li", has_text="Phạm Thu Dung").locator("[data-move=up]").click()
    expect(waiting).to_contain_text(["Phạm Thu Dung", "Lê Minh Cường"])
    expect(delegate.locator("#floor-place")).to_have_text("Bạn đứng thứ 2")
    expect(screen.locator("#projector-next")).to_have_text("Tiếp theo: Phạm Thu Dung")
    chair.screenshot(path=tmp_path / "console-queue.png")

    chair.locator("#floor-limit").select_option("180")
    chair.locator("#floor-waiting li", has_text="Lê Minh Cường").locator(".floor-give").click()
    expect(chair.locator("#floor-now .floor-name")).to_have_text("Lê Minh Cường")
    expect(chair.locator("#floor-clock")).to_have_text(re.compile(r"Còn [23]:\d\d"))
    expect(waiting).to_contain_text(["Phạm Thu Dung"])

    banner = delegate.locator("#floor-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Bạn đang phát biểu")
    expect(banner.locator(".floor-clock")).to_have_text(re.compile(r"Còn [23]:\d\d"))
    expect(ask).to_be_hidden()
    expect(delegate.locator("#floor-place")).to_be_empty()
    expect(other.locator("#floor-place")).to_have_text("Bạn đứng thứ 1")
    delegate.screenshot(path=tmp_path / "speaking.png")

    expect(screen.locator("#projector-speaker")).to_have_text("Lê Minh Cường")
    expect(screen.locator("#projector-turn")).to_have_text(re.compile(r"Còn [23]:\d\d"))
    expect(screen.locator("#projector-next")).to_have_text("Tiếp theo: Phạm Thu Dung")
    screen.screenshot(path=tmp_path / "projector-speaker.png")
    chair.screenshot(path=tmp_path / "console-floor.png")

    chair.locator("#floor-end").click()
    expect(banner).to_be_hidden()
    expect(ask).to_have_text("Đăng ký phát biểu")
    expect(chair.locator("#floor-now")).to_have_class(re.compile(r"\bempty\b"))
    expect(screen.locator("#projector-speaker")).to_be_hidden()
    other.locator("#floor-request").click()  # withdraws
    expect(other.locator("#floor-request")).to_have_text("Đăng ký phát biểu")
    expect(screen.locator("#projector-floor")).to_be_hidden()
    for context in (delegate_context, other_context, chair_context, screen_context):
        context.close()


def test_a_show_of_hands_is_counted_on_the_console_and_not_on_the_tablets(
    browser, live_server, tmp_path
):
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    open_live(chair, "/meetings/1")
    delegate_context, delegate = signed_in(browser, live_server, "daibieu03")
    open_live(delegate, "/meetings/1/read")

    form = chair.locator("#vote-form")
    form.locator("[name=title]").fill("Bãi nhiệm đại biểu Nguyễn Văn X")
    form.locator("[name=method]").select_option("hands")
    form.locator("[name=threshold]").select_option("two_thirds")
    expect(chair.locator("#vote-requirement")).to_have_text(
        "Cần ít nhất 14/21 đại biểu tán thành (tổng số đại biểu của Hội đồng)"
    )
    chair.locator("#vote-create").click()
    chair.locator("#vote-open").click()
    expect(delegate.locator("#ballot .by-hand")).to_contain_text("giơ tay")
    expect(delegate.locator("#ballot .ballot-option")).to_have_count(0)

    counts = chair.locator(".vote-count-form")
    for option, count in (("yes", "14"), ("no", "5"), ("abstain", "3")):
        counts.locator(f"[name=count-{option}]").fill(count)
    chair.locator("#vote-count-save").click()
    expect(chair.locator("#vote-error")).to_contain_text("22")  # 22 hands, 21 delegates
    counts.locator("[name=count-abstain]").fill("2")
    chair.locator("#vote-count-save").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "closed")
    expect(chair.locator("#vote-current .vote-verdict")).to_have_text("THÔNG QUA")
    expect(chair.locator(".vote-counted-by")).to_have_text("Đếm biểu quyết giơ tay: Trần Văn Bình")
    chair.screenshot(path=tmp_path / "counted.png")
    for context in (chair_context, delegate_context):
        context.close()
