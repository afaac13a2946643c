"""The minutes state the journal's facts in the council's clock: the day and time the session
really opened and closed, the meeting's own room, the secretary who keeps the record (a
participant or not), who came in person, who took part online (delegates and ward points on
video), who was away and why; a session still open gives a draft marked DỰ THẢO on every page,
and a session never opened has no minutes at all."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pymupdf
import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import select

from server.app import create_app
from server.minutes import rule_text
from server.models import Attendance, Body, JournalEvent, Meeting, User, Vote
from server.settings import Settings
from tests.conftest import Client
from tests.live import Tablet, close_all
from tests.points import Point

ROOM = "Phòng họp tầng 2, UBND phường"
SECRETARY = "Nguyễn Thị Hồng"
CHAIR = "Trần Văn Bình"
DELEGATES = {
    "daibieu01": "Nguyễn Văn An",
    "daibieu02": "Trần Thị Bích",
    "daibieu03": "Lê Minh Cường",
    "daibieu04": "Phạm Thu Dung",
}
POINTS = {"diemcau1": "Điểm cầu Tổ dân phố số 1", "diemcau2": "Điểm cầu Tổ dân phố số 7"}
# The session was scheduled for the 20th but opened on the 18th at 08:07 in Hà Nội (01:07 UTC)
# and closed after midnight, at 00:30 on the 19th (17:30 UTC, still the 18th in UTC).
OPENED = datetime(2026, 12, 18, 1, 7, tzinfo=UTC)
CLOSED = datetime(2026, 12, 18, 17, 30, tzinfo=UTC)


def pdf_pages(data: bytes) -> list[str]:
    with pymupdf.open(stream=data) as pdf:
        return [" ".join(page.get_text().split()) for page in pdf]


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


@pytest.fixture
def ward(accounts, database):
    """A ward council of six delegates by law; its secretary account; the people of one
    session."""
    body = Body(name="Hội đồng nhân dân phường Thử Nghiệm", place="Thử Nghiệm", kind="hdnd")
    body.members = 6
    database.add(body)
    database.commit()
    accounts.user(
        "thuky",
        "secretary",
        body,
        full_name=SECRETARY,
        title="Chuyên viên Văn phòng HĐND và UBND phường",
    )
    accounts.user("chutoa", full_name=CHAIR, title="Chủ tịch HĐND phường")
    for username, name in DELEGATES.items():
        accounts.user(username, full_name=name, title="Đại biểu HĐND phường")
    for username, name in POINTS.items():
        accounts.user(username, "ward", full_name=name)
    return body


async def new_session(http, post) -> int:  # type: ignore[no-untyped-def]
    """The secretary makes the session (and so is its secretary) without joining it."""
    created = await post(
        "/api/meetings",
        {"title": "Kỳ họp chuyên đề tháng 12/2026", "starts_at": "2026-12-20T08:00:00+07:00"}
        | {"place": ROOM},
    )
    assert created.status_code == 201, created.text
    mid = created.json()["id"]
    added = await post(f"/api/meetings/{mid}/items", {"title": "Tờ trình về dự toán năm 2027"})
    assert added.status_code == 201, added.text
    people = [("chutoa", "chair")] + [(u, "delegate") for u in DELEGATES]
    for username, role in people + [(u, "ward_point") for u in POINTS]:
        joined = await post(
            f"/api/meetings/{mid}/participants", {"username": username, "role": role}
        )
        assert joined.status_code == 201, joined.text
    return mid


def journal_at(database, mid: int, kind: str, at: datetime) -> None:
    """Moves a journaled start or end to a known instant: the test cannot set the clock."""
    database.rollback()
    event = database.exec(
        select(JournalEvent).where(JournalEvent.meeting_id == mid, JournalEvent.type == kind)
    ).one()
    event.at = at
    database.add(event)
    database.commit()


async def test_minutes_of_a_session_never_opened_are_refused_with_409(client: Client, ward):
    await client.login("thuky")
    mid = await new_session(client, lambda url, body: client.post(url, json=body))
    response = await client.get(f"/api/meetings/{mid}/minutes.pdf")
    assert response.status_code == 409
    assert response.json()["code"] == "not_started"
    assert response.headers["content-type"].startswith("application/json")


async def test_the_minutes_state_the_journal_s_facts_in_the_council_s_clock(served, ward, database):
    secretary = await Tablet(served, "thuky").sign_in()

    async def post(url, body=None):  # type: ignore[no-untyped-def]
        headers = {"X-CSRFToken": secretary.http.cookies["csrftoken"]}
        return await secretary.http.post(url, json=body, headers=headers)

    mid = await new_session(secretary.http, post)
    # a ward point calls in on video before the session opens and stays on
    point = await Point(served.url, "diemcau1", mid).join()
    assert (await post(f"/api/meetings/{mid}/session/start")).status_code == 200
    tablets = [
        await (await Tablet(served, username).sign_in()).connect(mid)
        for username in ("chutoa", "daibieu01", "daibieu02", "diemcau2")
    ]
    for tablet in tablets:
        await tablet.answer(await tablet.send("hello", since=None))
    await secretary.connect(mid)
    await secretary.answer(await secretary.send("hello", since=None))
    ids = {u.username: u.id for u in database.exec(select(User)).all()}
    for username, status, reason in (
        ("daibieu03", "remote", ""),
        ("daibieu04", "excused", "Đi công tác theo quyết định của Ủy ban"),
    ):
        answer = await secretary.request(
            "attendance.set", user_id=ids[username], status=status, reason=reason
        )
        assert answer["type"] == "ack", answer
    await until_checked_in(database, mid, 5)
    on_video_only = database.exec(
        select(Attendance).where(
            Attendance.meeting_id == mid, Attendance.user_id == ids["diemcau1"]
        )
    ).first()
    assert on_video_only is None  # never checked in: only the conference knows it took part
    assert (await post(f"/api/meetings/{mid}/session/end")).status_code == 200
    journal_at(database, mid, "meeting.started", OPENED)
    journal_at(database, mid, "meeting.ended", CLOSED)

    response = await secretary.http.get(f"/api/meetings/{mid}/minutes.pdf")
    assert response.status_code == 200, response.text
    pages = pdf_pages(response.content)
    text = " ".join(pages)
    await point.leave()
    await close_all(secretary, *tablets)

    assert "Thử Nghiệm, ngày 18 tháng 12 năm 2026" in pages[0]
    assert f"Số: {mid}/BB-HĐND" in pages[0]
    part = between(text, "I. THỜI GIAN", "II. THÀNH PHẦN")
    assert "Kỳ họp khai mạc lúc 08 giờ 07 phút, ngày 18 tháng 12 năm 2026." in part
    assert "20 tháng 12" not in text and "01:07" not in text and "01 giờ 07" not in text
    assert f"Địa điểm: {ROOM}." in part
    assert f"Chủ tọa: {CHAIR} – Chủ tịch HĐND phường." in part
    assert f"Thư ký: {SECRETARY} – Chuyên viên Văn phòng HĐND và UBND phường." in part

    attendance = between(text, "II. THÀNH PHẦN", "III. NỘI DUNG")
    assert "Có mặt: 4/6 đại biểu" in attendance  # the chair, 01 and 02 in the hall, 03 online
    assert "trong đó tại hội trường: 3 đại biểu" in attendance
    assert "Tham dự trực tuyến: 1 đại biểu và 2 điểm cầu." in attendance
    online = attendance.partition("Tham dự trực tuyến")[2].partition("Vắng")[0]
    assert DELEGATES["daibieu03"] in online
    assert "Điểm cầu trực tuyến: 2" in online
    for name in POINTS.values():
        assert name in online
    away = attendance.partition("Vắng:")[2]
    assert away.startswith(" 2 đại biểu")  # six by law, four came: one excused, one not called
    assert f"{DELEGATES['daibieu04']} Đi công tác theo quyết định của Ủy ban" in away

    assert "Kỳ họp kết thúc lúc 00 giờ 30 phút, ngày 19 tháng 12 năm 2026." in text
    assert "DỰ THẢO" not in text
    last = pages[-1]
    assert "THƯ KÝ" in last and "CHỦ TỌA" in last
    assert last.index(SECRETARY) > last.index("THƯ KÝ")
    assert "CHỦ TỊCH HĐND PHƯỜNG" in last and last.index(CHAIR) > last.index("CHỦ TỌA")


async def until_checked_in(database, mid: int, count: int) -> None:
    """Waits until `count` people stand checked in (in the hall or online)."""
    async with asyncio.timeout(10):
        while True:
            database.rollback()
            rows = database.exec(select(Attendance).where(Attendance.meeting_id == mid)).all()
            if sum(1 for row in rows if row.status in ("present", "remote")) >= count:
                return
            await asyncio.sleep(0.05)


async def test_an_open_session_gives_a_draft_marked_on_every_page(client: Client, ward):
    await client.login("thuky")
    mid = await new_session(client, lambda url, body: client.post(url, json=body))
    for n in range(12):  # enough agenda to need several pages
        title = f"Nội dung thứ {n + 2}: báo cáo, tờ trình và dự thảo nghị quyết của kỳ họp"
        await client.post(f"/api/meetings/{mid}/items", json={"title": title})
    assert (await client.post(f"/api/meetings/{mid}/session/start")).status_code == 200
    response = await client.get(f"/api/meetings/{mid}/minutes.pdf")
    assert response.status_code == 200, response.text
    pages = pdf_pages(response.content)
    assert len(pages) > 1
    for page in pages:
        assert "DỰ THẢO" in page
    assert "Kỳ họp chưa kết thúc" in pages[-1]

    assert (await client.post(f"/api/meetings/{mid}/session/end")).status_code == 200
    ended = pdf_pages((await client.get(f"/api/meetings/{mid}/minutes.pdf")).content)
    assert not any("DỰ THẢO" in page for page in ended)
    assert "Kỳ họp kết thúc lúc" in ended[-1]


async def test_the_named_secretary_signs_even_when_someone_else_made_the_meeting(
    client: Client, ward, accounts, database
):
    await client.login("thuky")
    mid = await new_session(client, lambda url, body: client.post(url, json=body))
    other = accounts.user("thuky2", "secretary", ward, full_name="Đỗ Thị Hương")
    meeting = database.get(Meeting, mid)
    meeting.secretary_id = other.id
    database.add(meeting)
    database.commit()
    await client.post(f"/api/meetings/{mid}/session/start")
    text = " ".join(pdf_pages((await client.get(f"/api/meetings/{mid}/minutes.pdf")).content))
    assert "Thư ký: Đỗ Thị Hương." in text and SECRETARY not in text


async def test_the_council_s_time_zone_setting_is_honoured(ward, database, settings, monkeypatch):
    monkeypatch.setenv("PHONGHOP_TIMEZONE", "Asia/Tokyo")
    tokyo = replace(Settings.from_env(), host="testserver.local", port=80)
    async with AsyncTestClient(app=create_app(tokyo), base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("thuky")
        mid = await new_session(client, lambda url, body: client.post(url, json=body))
        await client.post(f"/api/meetings/{mid}/session/start")
        await client.post(f"/api/meetings/{mid}/session/end")
        journal_at(database, mid, "meeting.started", OPENED)
        journal_at(database, mid, "meeting.ended", CLOSED)
        text = " ".join(pdf_pages((await client.get(f"/api/meetings/{mid}/minutes.pdf")).content))
    assert "khai mạc lúc 10 giờ 07 phút, ngày 18 tháng 12 năm 2026" in text
    assert "kết thúc lúc 02 giờ 30 phút, ngày 19 tháng 12 năm 2026" in text


async def test_the_minutes_are_set_in_a_times_compatible_serif_at_13_to_14_points(
    client: Client, ward
):
    await client.login("thuky")
    mid = await new_session(client, lambda url, body: client.post(url, json=body))
    await client.post(f"/api/meetings/{mid}/session/start")
    with pymupdf.open(stream=(await client.get(f"/api/meetings/{mid}/minutes.pdf")).content) as pdf:
        names = {font[3] for page in pdf for font in page.get_fonts()}
        assert names and all("Liberation Serif" in name for name in names), names
        spans = [
            span
            for page in pdf
            for block in page.get_text("dict")["blocks"]
            for line in block.get("lines", ())
            for span in line["spans"]
            if span["text"].startswith(("1. Thời gian", "2. Địa điểm", "Kỳ họp khai mạc"))
        ]
    assert spans and all(13 <= span["size"] <= 14 for span in spans), spans


def test_a_hand_count_says_so_and_names_who_counted():
    hands = Vote(title="Thông qua chương trình", method="hands", majority_base="members")
    assert "biểu quyết giơ tay" in rule_text(hands, "Lê Minh Cường")
    assert "Lê Minh Cường" in rule_text(hands, "Lê Minh Cường")
    paper = Vote(title="Bầu Phó Chủ tịch", method="paper", secret=True, majority_base="members")
    assert "kiểm phiếu thủ công" in rule_text(paper, "Ban kiểm phiếu")
    assert "giơ tay" not in rule_text(Vote(title="Điện tử", majority_base="cast"))
