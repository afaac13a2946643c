"""In a real browser with a fake camera and microphone: a ward point joins the video
conference, gets the program picture back and the presented page beside it, rejoins after a
lost connection; the chair sees the point in the console, mutes it and picks it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.test_browser_live import paper_with_pages, present, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.media]

WIDE_TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
POINT = "diemcau1"
POINT_NAME = "Điểm cầu Tổ dân phố số 1"

# Keeps every RTCPeerConnection the page makes, for getStats from the test.
KEEP_PEERS = """
window.peers = [];
const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) {
    super(...args);
    window.peers.push(this);
  }
};
"""
FRAMES_DECODED = """async () => {
  const pc = window.peers.at(-1);
  if (!pc) return 0;
  let frames = 0;
  for (const report of (await pc.getStats()).values()) {
    const video = report.type === "inbound-rtp" && report.kind === "video";
    if (video) frames += report.framesDecoded || 0;
  }
  return frames;
}"""
REFUSE_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def open_conference(browser, live_server, username: str = POINT, init: str = KEEP_PEERS):  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, username, WIDE_TABLET)
    context.add_init_script(init)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto("/meetings/1/conference")
    expect(page.locator("#call-state")).to_have_attribute("data-state", "online", timeout=20_000)
    return context, page, problems


def frames_decoded(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(FRAMES_DECODED)


def expect_frames_growing(page) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 15
    while frames_decoded(page) == 0:
        assert time.monotonic() < deadline, "no program video was decoded"
        page.wait_for_timeout(250)
    first = frames_decoded(page)
    page.wait_for_timeout(1500)
    assert frames_decoded(page) > first


def point_tile(chair):  # type: ignore[no-untyped-def]
    return chair.locator("#points-grid .point", has_text=POINT_NAME)


def test_a_ward_point_follows_the_meeting_on_video(browser, live_server, tmp_path):
    context, point, problems = open_conference(browser, live_server)
    expect_frames_growing(point)
    expect(point.locator("#preview-video")).to_be_visible()
    expect(point.locator("#program-caption")).to_have_text("Bạn đang lên hình")  # the only point

    chair_context, chair = signed_in(browser, live_server, "chutoa", WIDE_TABLET)
    paper = paper_with_pages(chair, 2)
    present(chair, paper, 2)
    expect(point.locator("#presented-image")).to_have_attribute("src", re.compile(r"/pages/2\?w="))
    expect(point.locator("#presented-page")).to_have_text(f"Trang 2/{paper['page_count']}")
    expect(point.locator("#presented-doc")).to_have_text(paper["title"])
    point.wait_for_timeout(500)  # the page image settles
    point.screenshot(path=tmp_path / "point-1280x800.png")
    point.set_viewport_size(PHONE)
    point.wait_for_timeout(500)
    point.screenshot(path=tmp_path / "point-390x844.png")
    point.set_viewport_size(WIDE_TABLET)

    # The chair's console: the point's picture, the program, and the chair's controls.
    chair.goto("/meetings/1")
    tile = point_tile(chair)
    expect(tile).to_have_class(re.compile(r"\bon-program\b"))
    expect(tile.locator("img")).to_be_visible()
    expect(chair.locator("#points-program")).to_contain_text(POINT_NAME)
    chair.locator("#points-console").scroll_into_view_if_needed()
    chair.screenshot(path=tmp_path / "chair-console.png")

    tile.locator(".point-mute").click()
    expect(point.locator("#mic-toggle")).to_be_disabled()
    expect(point.locator("#mic-toggle")).to_have_text("Chủ tọa đã tắt micrô")
    expect(tile.locator(".point-mute")).to_have_text("Bật micrô")
    tile.locator(".point-mute").click()
    expect(point.locator("#mic-toggle")).to_be_enabled()

    tile.locator(".point-pick").click()
    expect(tile.locator(".point-pick")).to_be_disabled()  # picked by hand: on until changed
    expect(chair.locator("#points-auto")).to_be_enabled()
    chair.locator("#points-auto").click()
    expect(chair.locator("#points-auto")).to_have_attribute("aria-pressed", "true")

    point.locator("#camera-toggle").click()
    expect(tile.locator(".point-flags")).to_contain_text("Chỉ có tiếng")
    expect(point.locator("#preview-off")).to_be_visible()
    point.locator("#camera-toggle").click()
    expect(tile.locator(".point-flags")).not_to_contain_text("Chỉ có tiếng")

    point.locator("#floor-request").click()
    expect(point.locator("#floor-request")).to_have_text("Rút đăng ký")
    expect(chair.locator("#floor-waiting")).to_contain_text(POINT_NAME)
    assert problems == []
    chair_context.close()
    context.close()


def test_a_point_rejoins_after_a_lost_connection_and_by_hand(browser, live_server, tmp_path):
    context, point, problems = open_conference(browser, live_server)
    expect_frames_growing(point)

    context.set_offline(True)
    expect(point.locator("html")).not_to_have_attribute("data-live", "online")
    context.set_offline(False)
    expect(point.locator("html")).to_have_attribute("data-live", "online", timeout=20_000)
    point.wait_for_function("window.peers.length === 2")  # a new offer once the socket is back
    expect(point.locator("#call-state")).to_have_attribute("data-state", "online", timeout=20_000)
    expect_frames_growing(point)

    point.locator("#call-toggle").click()
    expect(point.locator("#call-state")).to_have_text("Đã ngắt kết nối")
    expect(point.locator("#call-toggle")).to_have_text("Kết nối lại")
    point.screenshot(path=tmp_path / "point-hung-up.png")
    point.locator("#call-toggle").click()
    expect(point.locator("#call-state")).to_have_attribute("data-state", "online", timeout=20_000)
    expect_frames_growing(point)
    assert problems == []
    context.close()


def test_a_point_whose_camera_is_refused_is_told_and_still_watches(browser, live_server, tmp_path):
    context, point, problems = open_conference(browser, live_server, init=KEEP_PEERS + REFUSE_MEDIA)
    expect(point.locator("#media-alert")).to_be_visible()
    expect(point.locator("#media-alert-text")).to_contain_text("chưa cho phép dùng camera và micrô")
    expect(point.locator("#media-retry")).to_be_visible()
    expect(point.locator("#mic-toggle")).to_be_disabled()
    expect_frames_growing(point)
    point.screenshot(path=tmp_path / "point-refused.png")
    assert problems == []
    context.close()
