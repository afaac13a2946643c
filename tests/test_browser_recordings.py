"""The recordings page in Chromium: the list, the player loading the MP4 (H.264 + AAC, as the
recorder writes it), and the chapter list seeking the video; the console's recording panel."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from server import db
from server.models import Meeting, Recording
from tests.browser import BUSY_MACHINE_MS, sign_in
from tests.fake_recorder import CHAPTERS, tiny_mp4

SCREEN = {"width": 1280, "height": 800}


def recorded(data_dir: Path) -> int:
    """A finished recording of the demo's first meeting, as the recorder leaves it."""
    engine = db.make_sync_engine(f"sqlite:///{data_dir / 'phonghop.db'}")
    with Session(engine, expire_on_commit=False) as session:
        meeting = session.exec(select(Meeting).order_by(Meeting.id)).first()
        recording = Recording(meeting_id=meeting.id, status="done", duration_s=3.0)
        session.add(recording)
        session.commit()
        recording.path = f"recordings/{meeting.id}/{recording.id}"
        folder = data_dir / recording.path
        folder.mkdir(parents=True)
        tiny_mp4(folder / "recording.mp4", seconds=3)
        (folder / "chapters.vtt").write_text(CHAPTERS, encoding="utf-8")
        recording.size_bytes = (folder / "recording.mp4").stat().st_size
        session.add(recording)
        session.commit()
    engine.dispose()
    return meeting.id


def test_the_secretary_plays_a_recording_by_its_chapters(browser, live_server, tmp_path):
    meeting_id = recorded(live_server.data_dir)
    context = browser.new_context(viewport=SCREEN, base_url=live_server.url, locale="vi-VN")
    context.set_default_timeout(BUSY_MACHINE_MS)
    page = context.new_page()
    sign_in(page, "thuky")

    page.goto(f"/meetings/{meeting_id}")
    panel = page.locator("#recording-console")
    assert panel.locator("#recording-state").inner_text() == "Chưa ghi hình"
    assert panel.locator("#recording-start").is_visible()
    panel.screenshot(path=str(tmp_path / "console.png"))
    page.click("a[href$='/recordings'] >> nth=0")

    page.wait_for_url(f"**/meetings/{meeting_id}/recordings")
    assert page.locator("#recordings-table tbody tr").count() == 1
    assert "Đã xong" in page.locator("#recordings-table").inner_text()
    page.wait_for_function("() => document.getElementById('recording-video').readyState >= 1")
    loaded = page.evaluate(
        "() => { const v = document.getElementById('recording-video');"
        " return {duration: v.duration, error: v.error && v.error.code}; }"
    )
    assert loaded["error"] is None and abs(loaded["duration"] - 3) < 0.3, loaded

    chapters = page.locator(".chapter")
    assert chapters.count() == 2
    assert "Phát biểu: Nguyễn Văn An" in chapters.nth(1).inner_text()
    chapters.nth(1).click()
    page.wait_for_function("() => document.getElementById('recording-video').currentTime >= 1")
    assert chapters.nth(1).get_attribute("aria-current") == "true"
    page.screenshot(path=str(tmp_path / "recordings.png"))
    context.close()
