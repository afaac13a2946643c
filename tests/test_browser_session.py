"""A whole council session in Chromium, end to end, on tablets: the secretary builds the
agenda from PDFs and publishes the book, delegates check in by opening their tablets, follow
the chair's pages and draw on them, one asks for the floor and gets it, the chair runs a vote
that the hall's projector shows, a ward point watches the program on video, and the minutes
(biên bản) made at the end list who came, who spoke and how the vote went."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest
from playwright.sync_api import expect

from agenda import fonts
from tests.browser import TABLET, settled, sign_in, tablet
from tests.test_browser_conference import KEEP_PEERS, expect_frames_growing
from tests.test_browser_live import draw_stroke, expect_on, expect_online, ink_pages, signed_in
from tests.test_browser_votes import cast

pytestmark = [pytest.mark.browser, pytest.mark.media]

PROJECTOR = {"width": 1280, "height": 720}
MEETING = "Kỳ họp chuyên đề về chỉnh trang đô thị năm 2027"
# (agenda item, presenter, paper title, pages)
AGENDA = [
    ("Tờ trình về chỉnh trang vỉa hè các tuyến phố", "Chủ tịch UBND phường", "Tờ trình vỉa hè", 3),
    ("Báo cáo thẩm tra của Ban Kinh tế - Xã hội", "Trưởng ban", "Báo cáo thẩm tra", 2),
]
# (account, meeting role); the names are the demo's
PEOPLE = [
    ("chutoa", "chair"),
    ("thuky", "secretary"),
    ("daibieu01", "delegate"),
    ("daibieu02", "delegate"),
    ("daibieu03", "delegate"),
    ("diemcau1", "ward_point"),
]
FIRST, SECOND, AWAY = "Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Cường"
POINT_NAME = "Điểm cầu Tổ dân phố số 1"
QUESTION = "Thông qua Nghị quyết về chỉnh trang vỉa hè năm 2027"


def write_paper(path: Path, title: str, pages: int) -> Path:
    """`pages` A4 pages, each with its number in big figures under the paper's title."""
    with pymupdf.open() as pdf:
        for number in range(1, pages + 1):
            page = pdf.new_page(width=595, height=842)
            page.insert_text((60, 120), title, fontname=fonts.insert_font(page), fontsize=26)
            page.insert_text(
                (200, 480), str(number), fontname=fonts.insert_font(page, bold=True), fontsize=260
            )
        pdf.subset_fonts()  # a few kilobytes, not the whole Vietnamese font
        pdf.save(path, garbage=3, deflate=True)
    return path


def build_agenda(editor, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """The secretary creates the meeting, its items, their papers and its participants."""
    editor.fill("#new-meeting input[name=title]", MEETING)
    editor.fill("#new-meeting input[name=starts_at]", "2027-03-10T08:00")
    editor.fill("#new-meeting input[name=place]", "Hội trường UBND phường Ba Đình")
    editor.click("#new-meeting button[type=submit]")
    editor.wait_for_url(re.compile(r"/meetings/\d+/edit$"))
    meeting_id = int(re.search(r"/meetings/(\d+)/edit$", editor.url)[1])

    for n, (item, presenter, title, pages) in enumerate(AGENDA, start=1):
        editor.fill("#new-item input[name=title]", item)
        editor.fill("#new-item input[name=presenter]", presenter)
        editor.click("#new-item button[type=submit]")
        row = editor.locator("#agenda li", has_text=item)
        expect(row).to_be_visible()
        row.locator("details.attach summary").click()
        form = row.locator("details.attach form")
        form.locator("input[name=file]").set_input_files(
            write_paper(tmp_path / f"paper-{n}.pdf", title, pages)
        )
        form.locator("input[name=title]").fill(title)
        form.locator("button[type=submit]").click()
        listed = editor.locator("#agenda .doc", has_text=title)
        expect(listed).to_contain_text(f"{pages} trang", timeout=20_000)

    people = editor.locator("#participants")
    for username, role in PEOPLE:
        settled(editor)
        form = people.locator("form#add-person")
        form.locator("input[name=q]").fill(username)  # the picker finds usernames too
        form.locator(f"label.person:has-text('@{username}') input").check()
        form.locator("select[name=role]").select_option(role)
        form.locator("button[type=submit]").click()
        expect(people.locator("tbody tr", has_text=f"@{username}")).to_be_visible()
    return meeting_id


def papers_of(page, meeting_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The meeting's papers in agenda order, each with its agenda item."""
    meeting = page.request.get(f"/api/meetings/{meeting_id}").json()
    return [{**d, "item": item} for item in meeting["items"] for d in item["documents"]]


def minutes_text(page, meeting_id: int, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """The minutes as the secretary downloads them from the meeting's page."""
    page.goto(f"/meetings/{meeting_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Biên bản (PDF)").click()
    path = tmp_path / "bien-ban.pdf"
    download.value.save_as(path)
    with pymupdf.open(path) as pdf:
        pdf[0].get_pixmap(dpi=80).save(tmp_path / "bien-ban-1.png")
        return " ".join(" ".join(page.get_text() for page in pdf).split())


def test_a_whole_session_from_agenda_to_minutes(browser, live_server, tmp_path):
    problems: list[str] = []

    def watched(page):  # type: ignore[no-untyped-def]
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        return page

    # 1. The secretary builds the agenda from PDFs and publishes the agenda book.
    secretary = tablet(browser, live_server)
    editor = watched(secretary.new_page())
    sign_in(editor, "thuky")
    meeting_id = build_agenda(editor, tmp_path)
    editor.click("#publishing button.primary")
    expect(editor.locator("#publish-status .ok")).to_contain_text("✓", timeout=30_000)
    editor.reload()  # the book's version is listed on the next load
    expect(editor.locator("#publishing .books li")).to_have_count(1)
    editor.screenshot(path=tmp_path / "1-secretary-editor.png", full_page=True)
    paper = papers_of(editor, meeting_id)[0]
    home = f"/meetings/{meeting_id}"

    # 2. The chair starts the session; delegates check in by opening their tablets, and the
    # secretary marks an absent one excused, with a reason.
    chair_context, console = signed_in(browser, live_server, "chutoa", TABLET)
    watched(console).goto(home)
    expect_online(console)
    console.locator("#session-start").click()
    expect(console.locator("#session-state")).to_have_attribute("data-status", "live")

    readers = []
    for username in ("daibieu01", "daibieu02"):
        context, reader = signed_in(browser, live_server, username, TABLET)
        watched(reader).goto(f"{home}/read")
        expect_online(reader)
        expect(reader.locator(".doc-link.book")).to_have_attribute("aria-current", "true")
        expect(reader.locator("#page-input")).to_have_value("i")  # the cover, as printed
        readers.append((context, reader))
    (first_context, first), (second_context, second) = readers

    desk = watched(secretary.new_page())
    desk.goto(home)
    expect_online(desk)
    for name in (FIRST, SECOND):
        row = desk.locator("#attendance-list li", has_text=name)
        expect(row).to_have_attribute("data-status", "present")
        expect(row.locator(".online-dot")).to_have_class(re.compile(r"\bon\b"))
    away = desk.locator("#attendance-list li", has_text=AWAY)
    expect(away).to_have_attribute("data-status", "absent")
    away.locator("select").select_option("excused")
    expect(away).to_have_attribute("data-status", "excused")
    away.locator("input.reason").fill("Đi công tác")
    away.locator("input.reason").press("Enter")
    # The demo council is an HĐND of 21: a session needs two thirds of ALL its delegates.
    expect(desk.locator("#quorum")).to_have_text(
        "Có mặt 3/21 đại biểu — cần ít nhất 14 (2/3 tổng số đại biểu) — chưa đủ điều kiện tiến hành"
    )
    desk.screenshot(path=tmp_path / "2-secretary-attendance.png", full_page=True)

    screen = watched(secretary.new_page())  # the hall's screen, run from the secretary's desk
    screen.set_viewport_size(PROJECTOR)
    screen.goto(f"{home}/projector")
    expect_online(screen)

    # 3. The chair presents pages from the reader; the delegates' tablets turn with it.
    lectern = watched(chair_context.new_page())
    lectern.goto(f"{home}/read?document={paper['id']}&page=2")
    expect_online(lectern)
    expect_on(lectern, paper, 2)
    lectern.locator("#present-page").click()
    expect(lectern.locator("#presented")).to_have_class(re.compile(r"\bhere\b"))
    for reader in (first, second):
        expect_on(reader, paper, 2)
    lectern.locator("[data-action=next]").click()
    expect_on(lectern, paper, 3)
    lectern.locator("#present-page").click()
    for reader in (first, second):
        expect_on(reader, paper, 3)  # from the book's page 1 to 2 to 3, no tap on the tablet
        expect(reader.locator("#presented")).to_have_class(re.compile(r"\bhere\b"))
    expect(screen.locator("#projector-page")).to_have_text("Trang 3/3")
    expect(screen.locator("#projector-doc")).to_have_text(paper["title"])
    lectern.screenshot(path=tmp_path / "3-chair-reader.png")
    first.screenshot(path=tmp_path / "3-delegate-following.png")

    # 4. A delegate draws on the presented page; the stroke is kept by the server.
    draw_stroke(first)
    expect(first.locator("#ink-layer .ink.mine")).to_have_count(1)
    expect(first.locator("#pen-tools")).to_have_attribute("data-pending", "0")  # acked
    first.locator("[data-tool=read]").click()
    first.screenshot(path=tmp_path / "4-delegate-stroke.png")
    first.reload()
    expect_on(first, paper, 3)
    expect(first.locator("#ink-layer .ink.mine")).to_have_count(1)
    assert ink_pages(first_context, paper["id"]) == [3]
    expect(second.locator("#ink-layer .ink")).to_have_count(0)  # a private mark

    # 5. The second delegate asks for the floor; the chair gives it, then ends the turn.
    ask = second.locator("#floor-request")
    ask.click()
    expect(second.locator("#floor-place")).to_have_text("Bạn đứng thứ 1")
    waiting = console.locator("#floor-waiting li", has_text=SECOND)
    waiting.locator(".floor-give").click()
    expect(console.locator("#floor-now .floor-name")).to_have_text(SECOND)
    banner = second.locator("#floor-banner")
    expect(banner).to_contain_text("Bạn đang phát biểu")
    expect(ask).to_be_hidden()
    expect(screen.locator("#projector-speaker")).to_have_text(SECOND)
    second.screenshot(path=tmp_path / "5-delegate-speaking.png")
    console.locator("#floor-console").scroll_into_view_if_needed()
    console.screenshot(path=tmp_path / "5-chair-console-floor.png")
    screen.screenshot(path=tmp_path / "5-projector-speaker.png")
    console.locator("#floor-end").click()
    expect(banner).to_be_hidden()
    expect(console.locator("#floor-now")).to_have_class(re.compile(r"\bempty\b"))

    # 6. The chair puts the first item to the vote; both delegates vote; the hall sees it.
    form = console.locator("#vote-form")
    form.locator("[name=title]").fill(QUESTION)
    form.locator("[name=item_id]").select_option(label=f"1. {AGENDA[0][0]}")
    # More than half of all 21 delegates cannot be reached by the 4 voters of this meeting:
    # the console says so before the vote is made, and the chair counts on the votes cast.
    expect(console.locator("#vote-requirement")).to_have_class(re.compile(r"\berror\b"))
    expect(console.locator("#vote-requirement")).to_contain_text("11/21")
    form.locator("[name=majority_base]").select_option("cast")
    expect(console.locator("#vote-requirement")).to_have_text(
        "Cần quá nửa số phiếu biểu quyết tán thành"
    )
    console.locator("#vote-create").click()
    expect(console.locator("#vote-current")).to_have_attribute("data-status", "draft")
    console.locator("#vote-open").click()
    expect(console.locator("#vote-current")).to_have_attribute("data-status", "open")
    expect(first.locator("#ballot .ballot-title")).to_have_text(QUESTION)
    first.screenshot(path=tmp_path / "6-delegate-ballot.png")
    for reader in (first, second):
        cast(reader, "yes", "Tán thành")
    expect(console.locator("#vote-count")).to_have_attribute("data-voters", "2")
    console.locator("#vote-close").click()
    console.locator("#vote-close-confirm").click()
    expect(console.locator("#vote-current")).to_have_attribute("data-status", "closed")
    expect(console.locator("#vote-current .vote-verdict")).to_have_text("THÔNG QUA")
    result = screen.locator("#projector-vote")
    expect(result).to_have_attribute("data-status", "closed")
    expect(result.locator(".vote-verdict")).to_have_text("THÔNG QUA")
    expect(result.locator(".vote-bar-count")).to_have_text(["2", "0", "0"])
    screen.screenshot(path=tmp_path / "6-projector-result.png")
    console.screenshot(path=tmp_path / "6-chair-console-vote.png")

    # 7. A ward point joins the video conference with a fake camera and gets the program.
    point_context = tablet(browser, live_server)
    point_context.add_init_script(KEEP_PEERS)
    point = watched(point_context.new_page())
    sign_in(point, "diemcau1")
    point.goto(f"{home}/conference")
    expect(point.locator("#call-state")).to_have_attribute("data-state", "online", timeout=20_000)
    expect_frames_growing(point)
    expect(point.locator("#presented-page")).to_have_text("Trang 3/3")
    expect(point.locator("#presented-doc")).to_have_text(paper["title"])
    tile = console.locator("#points-grid .point", has_text=POINT_NAME)
    expect(tile).to_be_visible()
    expect(desk.locator("#attendance-list li", has_text=POINT_NAME)).to_have_attribute(
        "data-status", "remote"
    )
    point.screenshot(path=tmp_path / "7-ward-point-conference.png")
    console.locator("#points-console").scroll_into_view_if_needed()
    console.screenshot(path=tmp_path / "7-chair-console-points.png")
    point_context.close()

    # The chair ends the session (it asks first).
    console.once("dialog", lambda dialog: dialog.accept())
    console.locator("#session-end").click()
    expect(console.locator("#session-state")).to_have_attribute("data-status", "closed")

    # 8. The minutes list the attendance, the speaker and the vote.
    text = minutes_text(editor, meeting_id, tmp_path)
    assert MEETING in text
    assert f"{AGENDA[0][0]}" in text and f"{AGENDA[1][0]}" in text
    assert "Chủ tọa: Trần Văn Bình – Chủ tịch HĐND phường." in text
    assert "Thư ký: Nguyễn Thị Hồng – Thư ký kỳ họp." in text
    attendance = text[text.index("II. THÀNH PHẦN THAM DỰ") : text.index("III. NỘI DUNG")]
    # The chair and the two delegates who checked in; the secretary and the ward point checked
    # in too, but only members count toward "x/y đại biểu".
    assert "1. Có mặt: 3/21 đại biểu" in attendance, attendance
    for name in ("Trần Văn Bình", FIRST, SECOND):
        assert name in attendance.partition("2. Tham dự trực tuyến")[0]
    assert f"{AWAY} Đi công tác" in attendance.partition("3. Vắng:")[2]
    assert re.search(rf"Lúc \d\d:\d\d, {SECOND} phát biểu; thời lượng", text)
    assert f"Biểu quyết: {QUESTION}" in text
    assert "Kết quả: Thông qua." in text
    assert "Tán thành 2 100,00 Không tán thành 0 0,00 Không biểu quyết 0 0,00" in text
    assert f"{FIRST} Tán thành 2 {SECOND} Tán thành" in text  # a named vote: who chose what

    assert problems == []
    for context in (secretary, chair_context, first_context, second_context):
        context.close()
