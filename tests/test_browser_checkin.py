"""Check-in at the door in Chromium: the secretary's tablet reads a giấy mời's QR code from a
camera (Chromium's fake camera playing a video of the code) and the chair's console shows the
delegate present without a reload; the secretary finds another by name without diacritics; a
code read again says when it was used; a device with no camera says so and the name lookup
still works."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import Session, create_engine, select

from server.demo import MEETING_TITLE
from server.models import Invitation, Meeting, User
from tests.browser import (
    BUSY_MACHINE_MS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    MEDIA_FLAGS,
    TABLET,
    LiveServer,
    sign_in,
    tablet,
)
from tests.conftest import need
from tests.test_browser_live import expect_online

pytestmark = [pytest.mark.browser]

UPRIGHT = {"width": 800, "height": 1280}
DONE = "✓ Đã điểm danh: "


def camera_file(path: Path, text: str, size: tuple[int, int] = (640, 480)) -> Path:
    """A Y4M video (what Chromium's fake camera plays, in a loop) of the QR code of `text` held
    up on a grey wall."""
    qr = segno.make(text, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=6, border=4)
    code = Image.open(png).convert("RGB")
    frame = Image.new("RGB", size, (210, 212, 205))
    frame.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()  # full range, as C420jpeg says
    half = (size[0] // 2, size[1] // 2)
    planes = b"".join(
        [y.tobytes(), cb.resize(half, Image.Resampling.BOX).tobytes()]
        + [cr.resize(half, Image.Resampling.BOX).tobytes()]
    )
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F25:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            video.write(b"FRAME\n" + planes)
    return path


@dataclass
class Invited:
    meeting_id: int
    user_id: int
    name: str
    token: str


def invite(live_server: LiveServer, username: str) -> Invited:
    """A giấy mời for `username` to the demo meeting (made, or the demo's renewed), written in
    the served database."""
    engine = create_engine(f"sqlite:///{live_server.data_dir / 'phonghop.db'}")
    with Session(engine) as db:
        meeting = db.exec(select(Meeting).where(Meeting.title == MEETING_TITLE)).first()
        user = db.exec(select(User).where(User.username == username)).one()
        assert meeting is not None and meeting.id is not None and user.id is not None
        invitation = db.exec(
            select(Invitation).where(
                Invitation.meeting_id == meeting.id, Invitation.user_id == user.id
            )
        ).first() or Invitation(meeting_id=meeting.id, user_id=user.id, token="")
        invitation.token, invitation.checked_in_at = secrets.token_urlsafe(18), None
        db.add(invitation)
        db.commit()
        invited = Invited(meeting.id, user.id, user.full_name, invitation.token)
    engine.dispose()
    return invited


@pytest.fixture
def door(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[object, Invited]]:
    """Chromium whose camera shows the QR code of daibieu03's giấy mời."""
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    invited = invite(live_server, "daibieu03")
    video = camera_file(tmp_path / "qr.y4m", f"{live_server.url}/invitations/{invited.token}")
    flags = [*CHROMIUM_FLAGS, *MEDIA_FLAGS, f"--use-file-for-fake-video-capture={video}"]
    expect.set_options(timeout=BUSY_MACHINE_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
        yield chromium, invited
        chromium.close()


def meeting_page(browser, live_server: LiveServer, username: str, meeting_id: int, viewport):  # type: ignore[no-untyped-def]
    context = tablet(browser, live_server)
    page = context.new_page()
    page.set_viewport_size(viewport)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, username)
    page.goto(f"/meetings/{meeting_id}")
    expect_online(page)
    page.evaluate("window.notReloaded = true")
    return page, problems


def attendance_row(page, user_id: int):  # type: ignore[no-untyped-def]
    return page.locator(f"#attendance-list li[data-user='{user_id}']")


def test_secretary_checks_in_by_qr_and_the_chairs_console_shows_it_live(
    door, live_server, tmp_path
):
    browser, invited = door
    chair, chair_problems = meeting_page(browser, live_server, "chutoa", invited.meeting_id, TABLET)
    expect(attendance_row(chair, invited.user_id)).to_have_attribute("data-status", "absent")
    secretary, problems = meeting_page(browser, live_server, "thuky", invited.meeting_id, TABLET)
    sent: list[str] = []
    secretary.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/checkin" in r.url else None,
    )
    panel = secretary.locator("#checkin")
    result = secretary.locator("#checkin-result")

    secretary.click("#checkin-open")

    expect(result).to_contain_text(f"{DONE}{invited.name} — ")
    expect(result).to_have_attribute("data-kind", "ok")
    expect(panel).to_have_attribute("data-camera", "on")
    # The chair's console, open all along, shows it without a reload.
    expect(attendance_row(chair, invited.user_id)).to_have_attribute("data-status", "present")
    expect(attendance_row(chair, invited.user_id).locator(".status-word")).to_have_text("Có mặt")
    assert chair.evaluate("window.notReloaded") is True
    expect(attendance_row(secretary, invited.user_id).locator("select")).to_have_value("present")
    # The code still held in front of the camera is not sent again while it is read on.
    frames = int(panel.get_attribute("data-frames") or 0)
    secretary.wait_for_function(
        f"document.querySelector('#checkin').dataset.frames > {frames + 10}"
    )
    assert len(sent) == 1, sent
    secretary.locator("#checkin").scroll_into_view_if_needed()
    secretary.screenshot(path=tmp_path / "checkin-1024x768.png")

    # Closed, the camera is let go; opened again, the same giấy mời says when it was used.
    secretary.evaluate(
        "window.track = document.querySelector('#checkin-view video').srcObject.getVideoTracks()[0]"
    )
    secretary.click("#checkin-close")
    expect(panel).to_have_attribute("data-camera", "off")
    assert secretary.evaluate("window.track.readyState") == "ended"
    assert secretary.evaluate("document.querySelector('#checkin-view video').srcObject") is None
    secretary.set_viewport_size(UPRIGHT)
    secretary.click("#checkin-open")
    expect(result).to_have_attribute("data-kind", "refused")
    expect(result).to_contain_text(f"✗ {invited.name} đã điểm danh lúc ")
    expect(result).to_contain_text("không thay đổi gì")
    assert len(sent) == 2
    secretary.locator("#checkin").scroll_into_view_if_needed()
    secretary.screenshot(path=tmp_path / "checkin-800x1280.png")
    expect(attendance_row(chair, invited.user_id)).to_have_attribute("data-status", "present")
    assert problems == [] and chair_problems == []


def test_secretary_finds_a_delegate_by_name_and_marks_them_present_with_one_tap(
    browser, live_server, tmp_path
):
    """Here Chromium has no camera at all: the panel says so; the name lookup works."""
    meeting_id = invite(live_server, "daibieu01").meeting_id
    chair, chair_problems = meeting_page(browser, live_server, "chutoa", meeting_id, TABLET)
    secretary, problems = meeting_page(browser, live_server, "thuky", meeting_id, UPRIGHT)
    panel = secretary.locator("#checkin")

    secretary.click("#checkin-open")
    expect(panel).to_have_attribute("data-camera", "trouble")
    expect(secretary.locator("#checkin-camera-state")).to_contain_text("tìm đại biểu theo tên")
    expect(secretary.locator("#checkin-open")).to_be_visible()

    secretary.fill("#checkin-q", "nguyen van an")
    row = secretary.locator("#checkin-found li", has_text="Nguyễn Văn An")
    expect(row).to_have_count(1)
    expect(row.locator(".state")).to_have_text("Chưa điểm danh")
    user_id = int(row.get_attribute("data-user") or 0)
    expect(attendance_row(chair, user_id)).to_have_attribute("data-status", "absent")
    row.get_by_role("button", name="Điểm danh có mặt: Nguyễn Văn An").click()

    expect(secretary.locator("#checkin-result")).to_contain_text(f"{DONE}Nguyễn Văn An — ")
    expect(row.locator(".state")).to_contain_text("Có mặt lúc ")
    expect(row.get_by_role("button")).to_be_hidden()
    expect(attendance_row(chair, user_id)).to_have_attribute("data-status", "present")
    assert chair.evaluate("window.notReloaded") is True
    secretary.locator("#checkin").scroll_into_view_if_needed()
    secretary.screenshot(path=tmp_path / "by-name-800x1280.png")

    secretary.fill("#checkin-q", "khong co ai ten nay")
    expect(secretary.locator("#checkin-none")).to_have_text(
        "Không tìm thấy ai trong thành phần tham dự."
    )
    assert problems == [] and chair_problems == []


# The camera's reader, played by the test: each frame read gives the code first in
# `window.heldUp`, the last one staying in front of the camera.
CODES_HELD_UP = """
window.heldUp = [];
window.Worker = class {
  postMessage() {
    const code = window.heldUp.length > 1 ? window.heldUp.shift() : (window.heldUp[0] ?? null);
    setTimeout(() => this.onmessage?.({ data: { code } }), 0);
  }
  terminate() {}
};
"""


@pytest.mark.media
def test_the_next_giay_moi_held_up_while_one_is_sent_is_read_after_it(
    browser, live_server, tmp_path
):
    """A queue at the door: the next delegate holds up their code while the first one's answer
    is still on its way (a slow Wi-Fi); once it comes, the next code is read and sent."""
    first, second = invite(live_server, "daibieu04"), invite(live_server, "daibieu05")
    context = tablet(browser, live_server)
    context.add_init_script(CODES_HELD_UP)
    secretary = context.new_page()
    problems: list[str] = []
    secretary.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(secretary, "thuky")
    secretary.goto(f"/meetings/{first.meeting_id}")
    expect_online(secretary)
    on_the_way: list = []  # type: ignore[type-arg]
    sent: list[str] = []

    def slow_wifi(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(route.request.post_data_json["code"])
        if len(sent) == 1:
            on_the_way.append(route)  # answered when the test says
        else:
            route.continue_()

    secretary.route("**/api/meetings/*/checkin", slow_wifi)
    result = secretary.locator("#checkin-result")
    secretary.evaluate("code => { window.heldUp = [code]; }", first.token)
    secretary.click("#checkin-open")
    expect(result).to_have_attribute("data-kind", "pending")
    secretary.evaluate("code => { window.heldUp = [code]; }", second.token)
    frames = int(secretary.locator("#checkin").get_attribute("data-frames") or 0)
    secretary.wait_for_function(
        f"document.querySelector('#checkin').dataset.frames > {frames + 10}"
    )
    assert sent == [first.token]
    on_the_way[0].continue_()

    expect(result).to_contain_text(f"{DONE}{second.name} — ")
    assert sent == [first.token, second.token]
    assert problems == []
