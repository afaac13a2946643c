"""Invitations in Chromium: the secretary sends the giấy mời from the meeting page, the delegate
follows the link in the e-mail (a real SMTP server on loopback), signs in, is refused an
absence without a reason, replies absent with one; the secretary's page, open all along,
shows them excused without a reload, and after one the quorum forecast counts the reply. The
QR code in the e-mailed PDF is read back by jsQR, the decoder the door's scanner uses."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, create_engine, select

from bench.harness import free_port, running_server, server_env
from server.demo import MEETING_TITLE
from server.models import Meeting, User
from tests.browser import TABLET, LiveServer, settled, sign_in, tablet
from tests.test_browser_live import expect_online

pytestmark = [pytest.mark.browser]

UPRIGHT = {"width": 800, "height": 1280}
REASON = "Đi công tác theo kế hoạch của tỉnh"


@pytest.fixture
def mailed_server(tmp_path: Path, mailbox) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The demo council served by a real process that sends e-mail to the `mailbox`."""
    data_dir = tmp_path / "data"
    env = server_env(data_dir)
    env.update(
        PHONGHOP_SMTP_HOST="127.0.0.1",
        PHONGHOP_SMTP_PORT=str(mailbox.port),
        PHONGHOP_SMTP_FROM="HĐND phường Ba Đình <hdnd@badinh.example.vn>",
    )
    with running_server(free_port(), env, tmp_path / "server.log", command="demo") as server:
        server.wait_healthy()
        yield LiveServer(server.url, data_dir, server.process)


def _demo(live_server: LiveServer, username: str, email: str) -> tuple[int, int]:
    """The demo meeting's id, and `username`'s id after giving them an e-mail address."""
    engine = create_engine(f"sqlite:///{live_server.data_dir / 'phonghop.db'}")
    with Session(engine) as db:
        meeting = db.exec(select(Meeting).where(Meeting.title == MEETING_TITLE)).one()
        user = db.exec(select(User).where(User.username == username)).one()
        user.email = email
        db.add(user)
        db.commit()
        found = (meeting.id, user.id)
    engine.dispose()
    assert found[0] is not None and found[1] is not None
    return found  # type: ignore[return-value]


def _qr_read_by_jsqr(page, pdf: bytes) -> str:  # type: ignore[no-untyped-def]
    """The text jsQR reads from the QR code in the PDF, rendered as printed (150 dpi)."""
    (page_with_code,) = [page for page in pymupdf.open("pdf", pdf) if page.get_images()]
    ((xref, *_),) = page_with_code.get_images()
    (where,) = page_with_code.get_image_rects(xref)
    framed = where + (-36, -36, 36, 36)  # held up to a camera: the code and what is around it
    picture = page_with_code.get_pixmap(dpi=150, clip=framed).tobytes("png")
    page.add_script_tag(url="/static/vendor/jsqr/jsQR.js")
    return page.evaluate(
        """async (source) => {
          const image = new Image();
          image.src = source;
          await image.decode();
          const canvas = document.createElement("canvas");
          canvas.width = image.width; canvas.height = image.height;
          const context = canvas.getContext("2d");
          context.drawImage(image, 0, 0);
          const pixels = context.getImageData(0, 0, image.width, image.height);
          const found = jsQR(pixels.data, image.width, image.height);
          return found ? found.data : "";
        }""",
        "data:image/png;base64," + base64.b64encode(picture).decode(),
    )


def test_the_delegate_replies_absent_from_the_email_and_the_secretary_sees_it(
    browser, mailed_server, mailbox, tmp_path
):
    meeting_id, user_id = _demo(mailed_server, "daibieu01", "daibieu01@badinh.example.vn")
    secretary = tablet(browser, mailed_server).new_page()
    problems: list[str] = []
    secretary.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(secretary, "thuky")
    secretary.goto(f"/meetings/{meeting_id}")
    expect_online(secretary)
    secretary.evaluate("window.notReloaded = true")
    panel = secretary.locator("#invitations")
    expect(panel.locator("#quorum-forecast")).to_contain_text("0/21 đại biểu xác nhận dự họp")
    settled(secretary)

    secretary.fill("#send-invitations input[name=number]", "27/GM-HĐND")
    secretary.click("#send-invitations button[type=submit]")
    row = panel.locator(f"tr[data-user='{user_id}']")
    expect(row.locator(".mailed")).to_have_text("✓ Đã gửi thư đến daibieu01@badinh.example.vn")
    (message,) = mailbox.wait(1)
    assert message["To"] == "daibieu01@badinh.example.vn"
    link = re.search(
        r"https?://\S+/invitations/[A-Za-z0-9_-]+",
        message.get_content()
        if not message.is_multipart()
        else message.get_body(("plain",)).get_content(),
    )
    assert link is not None
    (attached,) = list(message.iter_attachments())
    secretary.locator("#invitations").screenshot(path=tmp_path / "sent-1024x768.png")

    delegate = tablet(browser, mailed_server).new_page()
    delegate.set_viewport_size(UPRIGHT)
    delegate.goto(link.group(0))  # not signed in: the sign-in page, then back to the reply
    delegate.fill("input[name=username]", "daibieu01")
    delegate.fill("input[name=password]", "demo2026")
    delegate.click("button[type=submit]")
    delegate.wait_for_url("**/invitations/*")
    assert _qr_read_by_jsqr(delegate, attached.get_content()) == link.group(0)
    card = delegate.locator("#invitation")
    expect(card).to_contain_text(MEETING_TITLE)
    expect(card.locator(".reply-now")).to_contain_text("Chưa trả lời")

    delegate.check("input[name=reply][value=absent]")
    delegate.click(".reply-form button[type=submit]")
    expect(card.locator(".form-error")).to_have_text("Đề nghị nêu lý do vắng mặt.")
    expect(card.locator(".reply-now")).to_have_attribute("data-reply", "")

    delegate.fill("input[name=reason]", REASON)
    delegate.click(".reply-form button[type=submit]")
    expect(card.locator(".reply-now")).to_have_attribute("data-reply", "absent")
    expect(card.locator(".reply-now")).to_contain_text(f"Vắng mặt, có lý do — {REASON}")
    delegate.screenshot(path=tmp_path / "replied-800x1280.png", full_page=True)

    # the secretary's page, open all along, shows the excuse as it came
    person = secretary.locator(f"#attendance-list li[data-user='{user_id}']")
    expect(person).to_have_attribute("data-status", "excused")
    expect(person.locator("input.reason")).to_have_value(REASON)
    assert secretary.evaluate("window.notReloaded") is True
    secretary.reload()
    expect(panel.locator("#quorum-forecast")).to_contain_text("Vắng mặt có lý do: 1.")
    expect(row.locator(".reply")).to_have_text(f"Vắng mặt, có lý do — {REASON}")
    expect(panel.locator(".unanswered")).not_to_contain_text("Nguyễn Văn An")
    secretary.set_viewport_size(UPRIGHT)
    panel.screenshot(path=tmp_path / "forecast-800x1280.png")
    assert problems == []


def test_a_forged_link_says_so(browser, live_server):
    page = tablet(browser, live_server).new_page()
    sign_in(page, "daibieu02")
    response = page.goto("/invitations/gia-mao-khong-co-that-000")
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("Không có giấy mời này")
    page.set_viewport_size(TABLET)
