"""In a real browser: the secretary drafts a written vote with a paper, the chair sends it with a
deadline, a delegate answers from their own device (once: the choice is then shown, not asked
again), and when the deadline has passed the chair sees the result and downloads the count's
minutes. Screenshots at 1024x768 and 800x1280."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pymupdf
import pytest
from sqlmodel import Session

from server import db
from server.models import WrittenVote
from tests.browser import settled, sign_in, tablet

pytestmark = pytest.mark.browser
TITLE = "Điều chỉnh kế hoạch đầu tư công năm 2026"


def shoot(page, path) -> None:  # type: ignore[no-untyped-def]
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{path}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})


def a_paper(tmp_path):  # type: ignore[no-untyped-def]
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "To trinh so 12/TTr-UBND")
    path = tmp_path / "to-trinh-12.pdf"
    doc.save(path)
    return path


def deadline_passes(live_server, vote_id: int) -> None:
    engine = db.make_sync_engine(f"sqlite:///{live_server.data_dir / 'phonghop.db'}")
    with Session(engine) as session:
        vote = session.get(WrittenVote, vote_id)
        assert vote is not None
        vote.deadline = datetime.now(UTC) - timedelta(seconds=1)
        session.add(vote)
        session.commit()
    engine.dispose()


def test_the_chair_sends_a_delegate_answers_and_the_chair_gets_the_record(
    browser, live_server, tmp_path
):
    from playwright.sync_api import expect

    shots = tmp_path / "written"
    secretary = tablet(browser, live_server).new_page()
    sign_in(secretary, "thuky")
    secretary.click("a.written-votes-link")
    expect(secretary.locator("h1")).to_have_text("Phiếu lấy ý kiến")
    form = secretary.locator("form[id^=new-written-vote]")
    form.locator("input[name=title]").fill(TITLE)
    form.locator("textarea[name=question]").fill(
        "Đồng ý thông qua dự thảo Nghị quyết điều chỉnh kế hoạch đầu tư công năm 2026?"
    )
    form.get_by_role("button", name="Tạo dự thảo").click()
    secretary.wait_for_url("**/written-votes/*")
    vote_id = int(secretary.url.rsplit("/", 1)[1])
    expect(secretary.locator("#requirement")).to_have_text(
        "Cần ít nhất 11/21 đại biểu tán thành (tổng số đại biểu của Hội đồng)"
    )
    upload = secretary.locator("#add-paper")
    upload.locator("input[type=file]").set_input_files(a_paper(tmp_path))
    upload.locator("input[name=title]").fill("Tờ trình số 12/TTr-UBND")
    upload.get_by_role("button", name="Đính kèm tài liệu").click()
    expect(secretary.locator(".written-papers li")).to_contain_text("Tờ trình số 12/TTr-UBND")
    expect(secretary.locator("#send")).to_contain_text("Chủ tịch Hội đồng sẽ gửi phiếu này.")
    shoot(secretary, f"{shots}-draft")

    chair = tablet(browser, live_server).new_page()
    sign_in(chair, "chutoa")
    chair.goto(f"/written-votes/{vote_id}")
    send = chair.locator("#send-form")
    too_soon = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(minutes=1)
    send.locator("input[name=deadline]").fill(too_soon.strftime("%Y-%m-%dT%H:%M"))
    send.get_by_role("button", name="Gửi phiếu lấy ý kiến").click()
    expect(send.locator(".form-error")).to_contain_text("ít nhất 5 phút")
    shoot(chair, f"{shots}-send-refused")
    settled(chair)
    later = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=2)
    send.locator("input[name=deadline]").fill(later.strftime("%Y-%m-%dT%H:%M"))
    send.get_by_role("button", name="Gửi phiếu lấy ý kiến").click()
    expect(chair.locator("#deadline")).to_contain_text(later.strftime("%H:%M %d/%m/%Y"))
    expect(chair.locator("#progress")).to_contain_text("Đã trả lời: 0/21 đại biểu")

    phone = tablet(browser, live_server).new_page()
    phone.set_viewport_size({"width": 800, "height": 1280})
    sign_in(phone, "daibieu01")
    phone.click("a.written-votes-link")
    row = phone.locator(f".written-row[data-vote='{vote_id}']")
    expect(row).to_contain_text("Đang chờ bạn trả lời")
    row.get_by_role("link", name=TITLE).click()
    expect(phone.locator(".written-papers a")).to_have_text("Tờ trình số 12/TTr-UBND")
    with phone.expect_download() as paper:
        phone.locator(".written-papers a").click()
    assert "To trinh so 12" in pymupdf.open(paper.value.path())[0].get_text()
    shoot(phone, f"{shots}-delegate")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("#ballot-form").get_by_role("button", name="Tán thành", exact=True).click()
    expect(phone.locator("#my-answer")).to_contain_text("Bạn đã trả lời: Tán thành")
    expect(phone.locator("#ballot-form")).to_have_count(0)
    shoot(phone, f"{shots}-answered")
    phone.click("a.written-votes-link")
    expect(row).to_contain_text("Bạn đã chọn: Tán thành")
    shoot(phone, f"{shots}-list")

    chair.reload()
    expect(chair.locator("#progress")).to_contain_text("Đã trả lời: 1/21 đại biểu")
    chair.get_by_role("button", name="Kết thúc và kiểm phiếu").click()
    expect(chair.locator("#close-form .form-error")).to_contain_text("Còn 20 đại biểu chưa trả lời")

    deadline_passes(live_server, vote_id)
    chair.reload()
    result = chair.locator("#result")
    expect(result.locator(".result-verdict")).to_contain_text("Không thông qua")
    expect(result.locator("#tally")).to_contain_text("Tán thành")
    expect(result.locator("#replies")).to_contain_text("Nguyễn Văn An")
    shoot(chair, f"{shots}-result")
    with chair.expect_download() as record:
        chair.locator("#record-link").click()
    text = " ".join(pymupdf.open(record.value.path())[0].get_text().split())
    assert "BIÊN BẢN" in text and "Số phiếu thu về: 1/21 phiếu" in text
    phone.goto(f"/written-votes/{vote_id}")
    expect(phone.locator("#result .result-verdict")).to_contain_text("Không thông qua")
