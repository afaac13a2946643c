"""In a real browser: the secretary sets up next month's meeting in minutes — one group, then the
whole roster, one guest found by name without diacritics, the chair and the secretary picked
from lists — and copies it for the month after."""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser import settled, sign_in, tablet

pytestmark = pytest.mark.browser

GROUP = "Tổ đại biểu số 2"
SIZES = {"1280": (1280, 800), "1024": (1024, 768), "800": (800, 1280)}


def seed_roster(data_dir) -> int:
    """The demo council's roster made again: its twenty delegates in two groups, at seats 01–20;
    the chair stays off the roster (picked by name). Returns how many are in GROUP."""
    with sqlite3.connect(data_dir / "phonghop.db") as db:
        (body_id,) = db.execute("SELECT id FROM body").fetchone()
        db.execute("DELETE FROM member")
        rows = db.execute(
            "SELECT id, username FROM user WHERE username LIKE 'daibieu%' ORDER BY username"
        ).fetchall()
        for n, (user_id, _) in enumerate(rows, start=1):
            group = "Tổ đại biểu số 1" if n <= 10 else GROUP
            db.execute(
                'INSERT INTO member (body_id, user_id, title, seat, "group", position) '
                "VALUES (?, ?, 'Đại biểu HĐND', ?, ?, ?)",
                (body_id, user_id, f"{n:02d}", group, n),
            )
    return len(rows) - 10


def shoot(page, tmp_path, name: str) -> None:
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})


def participant_rows(page) -> int:
    return page.locator("#participants tbody tr").count()


def test_secretary_sets_up_a_meeting_from_the_roster_and_copies_it(browser, live_server, tmp_path):
    in_group = seed_roster(live_server.data_dir)
    context = tablet(browser, live_server)
    page = context.new_page()
    sign_in(page, "thuky")
    page.fill("#new-meeting input[name=title]", "Kỳ họp chuyên đề tháng 1/2027")
    page.fill("#new-meeting input[name=starts_at]", "2027-01-15T08:00")
    page.fill("#new-meeting input[name=place]", "Hội trường UBND phường")
    page.click("#new-meeting button[type=submit]")
    page.wait_for_url("**/edit")

    page.select_option("#add-roster select[name=group]", GROUP)
    page.click("#add-roster button[type=submit]")
    page.wait_for_selector("#roster-note")
    assert participant_rows(page) == in_group
    page.click("#add-roster button[type=submit]")  # now the whole roster
    page.wait_for_function("document.querySelectorAll('#participants tbody tr').length === 20")
    note = page.locator("#roster-note").inner_text()
    assert note == f"✓ Đã thêm 10 người. {in_group} người đã có trong cuộc họp."

    page.click("#add-person button[type=submit]")  # nobody picked yet: told in that form
    refusal = page.locator("#add-person .form-error .error")
    refusal.wait_for()
    assert refusal.inner_text() == "Hãy chọn một người trong danh sách."
    settled(page)
    page.fill("#add-person input[name=q]", "tran van binh")  # the chair, without diacritics
    page.wait_for_selector("#people-found label.person:has-text('Trần Văn Bình')")
    shoot(page, tmp_path, "picker")
    page.check("#people-found label.person:has-text('Trần Văn Bình') input")
    page.click("#add-person button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#participants tbody tr').length === 21")
    page.wait_for_selector("#chair-pick option:has-text('Trần Văn Bình')", state="attached")

    page.select_option("#chair-pick select", label="Trần Văn Bình — Chủ tịch HĐND phường")
    page.select_option(
        "#details select[name=secretary_id]", label="Nguyễn Thị Hồng — Thư ký kỳ họp"
    )
    page.click("#details button[type=submit]")
    page.wait_for_selector("#details .ok")
    page.wait_for_selector("#participants tr:has-text('Trần Văn Bình') td:has-text('chủ tọa')")
    shoot(page, tmp_path, "editor")
    widths = page.evaluate(
        """() => [...document.querySelectorAll('#participants thead th')]
                 .map(th => th.getBoundingClientRect().width)"""
    )
    role_height = page.locator("#participants tbody tr:first-child td:nth-child(2)").bounding_box()
    assert role_height["height"] < 60, "the role column wraps letter by letter"
    assert min(widths[1:4]) > 40, widths
    assert page.locator("#participants tbody button").first.inner_text().strip() == "✕ Bỏ ra"

    page.fill("#copy-meeting input[name=title]", "Kỳ họp chuyên đề tháng 2/2027")
    page.fill("#copy-meeting input[name=starts_at]", "2027-02-15T08:00")
    source = page.url
    page.click("#copy-meeting button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/edit") and url != source)
    assert (
        page.locator("#details input[name=title]").input_value() == "Kỳ họp chuyên đề tháng 2/2027"
    )
    assert participant_rows(page) == 21
    chair = page.locator("#chair-pick select option:checked").inner_text()
    assert chair.startswith("Trần Văn Bình")
    shoot(page, tmp_path, "copy")
    context.close()
