"""Check-in at the door: the secretary reads a giấy mời's QR code (or finds the delegate by
name) and every console sees them present at once; a forged, foreign or used code keeps
nothing."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from server.checkin import token_of
from server.models import Attendance, Invitation, JournalEvent, Meeting, Participant, User
from tests.live import Tablet, close_all

AN = "Nguyễn Văn An"


@pytest.fixture
def door(world, accounts, database):
    """`world` with its secretary, a delegate named Nguyễn Văn An, and invitations: theirs,
    daibieu01's, and one to another meeting."""
    meeting = world["meeting"]
    other = database.exec(select(Meeting).where(Meeting.id != meeting)).one()
    accounts.join(accounts.user("thuky", "secretary"), meeting, "secretary")
    an = accounts.user("an", full_name=AN)
    accounts.join(an, meeting)
    stranger = accounts.user("khach", full_name="Phạm Thị Khách")  # of the other meeting
    accounts.join(stranger, other.id)
    daibieu01 = database.exec(select(Participant).where(Participant.meeting_id == meeting)).all()
    first = next(p for p in daibieu01 if p.role == "delegate" and p.user_id != an.id)

    def invite(meeting_id: int, user_id: int) -> str:
        token = secrets.token_urlsafe(24)
        database.add(Invitation(meeting_id=meeting_id, user_id=user_id, token=token))
        database.commit()
        return token

    return {
        **world,
        "other": other.id,
        "an": an.id,
        "an_token": invite(meeting, an.id),
        "first": first.user_id,
        "first_token": invite(meeting, first.user_id),
        "stranger": stranger.id,
        "foreign_token": invite(other.id, stranger.id),
    }


async def signed_in(served, username: str) -> Tablet:
    return await Tablet(served, username).sign_in()


async def post(tablet: Tablet, path: str, **body):  # type: ignore[no-untyped-def]
    return await tablet.http.post(
        path, json=body or None, headers={"X-CSRFToken": tablet.http.cookies["csrftoken"]}
    )


def scan(tablet: Tablet, meeting_id: int, code: str):  # type: ignore[no-untyped-def]
    return post(tablet, f"/api/meetings/{meeting_id}/checkin", code=code)


def kept(database, meeting_id: int) -> tuple[list, list, list]:  # type: ignore[type-arg]
    """What the door has written: attendance rows, journal events, used invitations."""
    database.expire_all()
    rows = database.exec(select(Attendance).where(Attendance.meeting_id == meeting_id)).all()
    events = database.exec(select(JournalEvent).where(JournalEvent.meeting_id == meeting_id)).all()
    used = database.exec(select(Invitation).where(col(Invitation.checked_in_at).is_not(None))).all()
    return list(rows), list(events), list(used)


def test_the_code_is_the_invitations_url_or_its_token():
    token = "Ab-_0123456789xyz"
    assert token_of(f"https://hop.phuong.gov.vn/invitations/{token}") == token
    assert token_of(f"https://hop.phuong.gov.vn/invitations/{token}/?x=1#y") == token
    assert token_of(f"  {token}\n") == token
    for bad in ("", "ngắn", "a b c d e f g h", "https://x/invitations/", "x" * 65, "../../etc"):
        assert token_of(bad) is None


async def test_secretary_checks_in_by_qr_and_every_console_sees_it_at_once(served, door, database):
    chair = await (await signed_in(served, "chutoa")).connect(door["meeting"])
    await chair.request("hello", since=None)
    secretary = await signed_in(served, "thuky")

    url = f"{served.url}/invitations/{door['an_token']}"
    response = await scan(secretary, door["meeting"], url)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["user_id"], body["name"], body["status"]) == (door["an"], AN, "present")
    assert body["message"] == f"Đã điểm danh: {AN} — {body['time']}"
    event = await chair.until(lambda m: m["type"] == "attendance.changed")
    assert (event["user_id"], event["status"], event["seq"]) == (door["an"], "present", body["seq"])
    assert event["quorum"]["present"] == 1
    rows, events, used = kept(database, door["meeting"])
    assert [(r.user_id, r.status) for r in rows] == [(door["an"], "present")]
    assert [e.type for e in events] == ["attendance.changed"]
    assert [i.user_id for i in used] == [door["an"]]
    local = used[0].checked_in_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert body["time"] == local.strftime("%H:%M")

    bare = await scan(secretary, door["meeting"], door["first_token"])  # the token alone
    assert bare.status_code == 200 and bare.json()["user_id"] == door["first"]
    await close_all(chair, secretary)


async def test_forged_qr_is_refused_and_nothing_kept(served, door, database):
    secretary = await signed_in(served, "thuky")
    forged = secrets.token_urlsafe(24)
    for code in (
        forged,
        f"{served.url}/invitations/{forged}",
        f"{served.url}/invitations/{door['an_token']}x",  # one character more
        "https://example.org/khuyen-mai",
        "' OR 1=1 --",
    ):
        response = await scan(secretary, door["meeting"], code)
        assert response.status_code == 404, code
        assert response.json()["code"] == "unknown_invitation"
        assert "không phải giấy mời" in response.json()["message"]
    too_long = await scan(secretary, door["meeting"], "x" * 501)
    assert too_long.status_code == 400
    assert kept(database, door["meeting"]) == ([], [], [])
    await secretary.close()


async def test_another_meetings_invitation_is_refused_by_name_of_it(served, door, database):
    secretary = await signed_in(served, "thuky")
    response = await scan(secretary, door["meeting"], door["foreign_token"])
    assert response.status_code == 409
    assert response.json()["code"] == "other_meeting"
    assert "cuộc họp khác" in response.json()["message"]
    assert kept(database, door["meeting"]) == ([], [], [])
    assert kept(database, door["other"]) == ([], [], [])
    await secretary.close()


async def test_reused_qr_says_when_it_was_used_and_changes_nothing(served, door, database):
    secretary = await signed_in(served, "thuky")
    first = (await scan(secretary, door["meeting"], door["an_token"])).json()
    before = kept(database, door["meeting"])

    again = await scan(secretary, door["meeting"], door["an_token"])

    assert again.status_code == 409
    assert again.json()["code"] == "already_checked_in"
    assert again.json()["message"] == (f"{AN} đã điểm danh lúc {first['time']}; không thay đổi gì.")
    after = kept(database, door["meeting"])
    assert [e.seq for e in after[1]] == [e.seq for e in before[1]]
    assert [i.checked_in_at for i in after[2]] == [i.checked_in_at for i in before[2]]
    await secretary.close()


async def test_one_code_read_by_two_scanners_at_once_checks_in_once(served, door, database):
    first, second = await signed_in(served, "thuky"), await signed_in(served, "thuky")
    answers = await asyncio.gather(
        scan(first, door["meeting"], door["an_token"]),
        scan(second, door["meeting"], door["an_token"]),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    rows, events, used = kept(database, door["meeting"])
    assert [e.type for e in events] == ["attendance.changed"]
    assert len(used) == 1
    await close_all(first, second)


async def test_delegate_or_chair_cannot_check_anyone_in(served, door, database):
    for username in ("daibieu01", "chutoa", "nguoingoai"):
        someone = await signed_in(served, username)
        response = await scan(someone, door["meeting"], door["an_token"])
        assert response.status_code in (403, 404), username  # 404: not theirs to see
        by_name = await post(
            someone, f"/api/meetings/{door['meeting']}/checkin/people/{door['an']}"
        )
        assert by_name.status_code in (403, 404)
        found = await someone.http.get(f"/api/meetings/{door['meeting']}/checkin/people?q=an")
        assert found.status_code in (403, 404)
        await someone.close()
    assert kept(database, door["meeting"]) == ([], [], [])


async def test_a_secretary_whose_role_was_taken_a_second_ago_is_refused(served, door, database):
    secretary = await signed_in(served, "thuky")
    assert (await scan(secretary, door["meeting"], door["first_token"])).status_code == 200
    seat = database.exec(
        select(Participant).where(
            Participant.meeting_id == door["meeting"], Participant.role == "secretary"
        )
    ).one()
    seat.role = "delegate"
    database.add(seat)
    database.commit()
    before = kept(database, door["meeting"])

    response = await scan(secretary, door["meeting"], door["an_token"])

    assert response.status_code == 403
    assert kept(database, door["meeting"]) == before
    await secretary.close()


async def test_secretary_finds_a_delegate_without_diacritics_and_marks_them_present(
    served, door, database
):
    chair = await (await signed_in(served, "chutoa")).connect(door["meeting"])
    await chair.request("hello", since=None)
    secretary = await signed_in(served, "thuky")
    path = f"/api/meetings/{door['meeting']}/checkin/people"

    found = (await secretary.http.get(path, params={"q": "nguyen van AN"})).json()
    assert [(p["user_id"], p["name"], p["status"]) for p in found] == [(door["an"], AN, "absent")]
    assert (await secretary.http.get(path, params={"q": "  "})).json() == []

    marked = await post(secretary, f"{path}/{door['an']}")
    assert marked.status_code == 200, marked.text
    event = await chair.until(lambda m: m["type"] == "attendance.changed")
    assert (event["user_id"], event["status"]) == (door["an"], "present")
    found = (await secretary.http.get(path, params={"q": "van an"})).json()
    assert (found[0]["status"], found[0]["time"]) == ("present", marked.json()["time"])

    twice = await post(secretary, f"{path}/{door['an']}")
    assert twice.status_code == 409 and "đã điểm danh lúc" in twice.json()["message"]
    qr = await scan(secretary, door["meeting"], door["an_token"])  # the giấy mời is used too
    assert qr.status_code == 409 and qr.json()["code"] == "already_checked_in"
    stranger = await post(secretary, f"{path}/{door['stranger']}")
    assert stranger.status_code == 409 and stranger.json()["code"] == "not_a_participant"
    rows, events, used = kept(database, door["meeting"])
    assert [e.type for e in events] == ["attendance.changed"]
    assert [i.user_id for i in used] == [door["an"]]
    await close_all(chair, secretary)


async def test_an_invitee_no_longer_taking_part_is_not_checked_in(served, door, database):
    seat = database.exec(select(Participant).where(Participant.user_id == door["an"])).one()
    database.delete(seat)
    database.commit()
    secretary = await signed_in(served, "thuky")
    response = await scan(secretary, door["meeting"], door["an_token"])
    assert response.status_code == 409 and response.json()["code"] == "not_a_participant"
    assert kept(database, door["meeting"]) == ([], [], [])
    await secretary.close()


async def test_a_deactivated_account_is_not_checked_in_by_code_or_by_name(served, door, database):
    an = database.get(User, door["an"])
    an.active = False
    database.add(an)
    database.commit()
    secretary = await signed_in(served, "thuky")
    by_code = await scan(secretary, door["meeting"], door["an_token"])
    by_name = await post(secretary, f"/api/meetings/{door['meeting']}/checkin/people/{an.id}")
    for response in (by_code, by_name):
        assert response.status_code == 409 and response.json()["code"] == "account_inactive"
    assert kept(database, door["meeting"]) == ([], [], [])
    await secretary.close()


async def test_both_paths_agree_on_who_is_here_already(served, door, database):
    """Marked present at the console, the QR says so with that time; marked online, the
    delegate may still come in person, by code or by name."""
    meeting = door["meeting"]
    database.add(
        Attendance(
            meeting_id=meeting,
            user_id=door["an"],
            status="present",
            checked_in_at=datetime(2026, 12, 15, 1, 2, tzinfo=UTC),
        )
    )
    database.add(Attendance(meeting_id=meeting, user_id=door["first"], status="remote"))
    database.commit()
    secretary = await signed_in(served, "thuky")
    again = await scan(secretary, meeting, door["an_token"])
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    assert "08:02" in again.json()["message"]
    came = await scan(secretary, meeting, door["first_token"])
    assert came.status_code == 200, came.text
    database.expire_all()
    row = database.exec(select(Attendance).where(Attendance.user_id == door["first"])).one()
    assert row.status == "present"
    await secretary.close()


async def test_no_check_in_after_the_session_has_ended(served, door, database):
    meeting = database.get(Meeting, door["meeting"])
    meeting.status = "closed"
    database.add(meeting)
    database.commit()
    secretary = await signed_in(served, "thuky")
    response = await scan(secretary, door["meeting"], door["an_token"])
    assert response.status_code == 409 and response.json()["code"] == "session_ended"
    assert kept(database, door["meeting"]) == ([], [], [])
    await secretary.close()


async def test_the_door_panel_is_on_the_secretarys_page_only_until_the_session_ends(
    served, door, database
):
    secretary, chair = await signed_in(served, "thuky"), await signed_in(served, "chutoa")
    page = f"/meetings/{door['meeting']}"
    assert 'id="checkin"' in (await secretary.http.get(page)).text
    assert "Điểm danh tại cửa" in (await secretary.http.get(page)).text
    assert 'id="checkin"' not in (await chair.http.get(page)).text
    meeting = database.get(Meeting, door["meeting"])
    meeting.status = "closed"
    database.add(meeting)
    database.commit()
    assert 'id="checkin"' not in (await secretary.http.get(page)).text
    await close_all(secretary, chair)
