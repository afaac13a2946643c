"""Invitations (issue 19, item 1): the secretary sends each participant a giấy mời, shown in
the app and e-mailed with its PDF (a real SMTP server on loopback); each invitee replies in
person, online or absent with a reason until the deadline; the replies feed attendance, the
quorum forecast and the minutes."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta

import pymupdf
import pytest
import segno
from sqlmodel import select

from agenda.invitation import InvitationData, invitation_pdf
from server.attendance import attendance_state
from server.models import Attendance, Invitation, Meeting, Member, Notification, utcnow
from server.notifications import INVITATION
from tests.mailbox import closed_port

STARTS = "2026-12-15T08:00:00+07:00"
URL = re.compile(r"http://testserver\.local/invitations/[A-Za-z0-9_-]{24}")


@pytest.fixture
def settings(settings, mailbox):
    return mailbox.settings(settings)


async def _meeting(client, database, accounts, members: int | None = None, kind: str = "hdnd"):
    """A council with a Chủ tịch on its roster, a meeting of it with a chair and delegates."""
    body = accounts.body("Hội đồng nhân dân phường Thử Nghiệm")
    body.kind, body.members = kind, members
    database.add(body)
    database.commit()
    secretary = accounts.user("thuky", "secretary", body)
    chair = accounts.user("chutoa", full_name="Trần Văn Bình", email="chutoa@thunghiem.gov.vn")
    one = accounts.user("daibieu1", full_name="Nguyễn Thị Hương", email="huong@thunghiem.gov.vn")
    two = accounts.user("daibieu2", full_name="Lê Văn Minh", email="minh@khongco.vn")
    three = accounts.user("daibieu3", full_name="Phạm Thu Trang")  # no address
    database.add(Member(body_id=body.id, user_id=chair.id, title="Chủ tịch HĐND phường"))
    database.commit()
    await client.login("thuky")
    response = await client.post(
        "/api/meetings",
        json={"title": "Kỳ họp thứ ba HĐND phường", "starts_at": STARTS, "place": "Hội trường"},
    )
    assert response.status_code == 201, response.text
    meeting_id = response.json()["id"]
    await client.post(f"/api/meetings/{meeting_id}/items", json={"title": "Dự toán ngân sách 2027"})
    accounts.join(chair, meeting_id, "chair")
    for person in (one, two, three):
        accounts.join(person, meeting_id)
    return meeting_id, {"thuky": secretary, "chutoa": chair, "1": one, "2": two, "3": three}


def _invitation(database, meeting_id: int, user_id: int) -> Invitation:
    database.rollback()  # a new read: the app wrote since
    return database.exec(
        select(Invitation).where(Invitation.meeting_id == meeting_id, Invitation.user_id == user_id)
    ).one()


def qr_text_is(pdf: bytes, url: str) -> bool:
    """The QR image in the PDF has exactly the modules of `url`'s QR code (segno, as
    printed: error level M, two modules of quiet zone)."""
    doc = pymupdf.open("pdf", pdf)
    ((xref, *_),) = doc[0].get_images()
    pixmap = pymupdf.Pixmap(doc, xref)
    code = segno.make(url, error="m", micro=False)
    size = code.symbol_size(scale=1, border=0)[0]
    module = pixmap.width / (size + 4)
    for y, row in enumerate(code.matrix):
        for x, dark in enumerate(row):
            cx, cy = int((x + 2.5) * module), int((y + 2.5) * module)
            pixel = pixmap.pixel(cx, cy)
            if (pixel[0] < 128) != bool(dark):
                return False
    return True


async def test_the_secretary_sends_and_each_email_carries_the_pdf_with_its_qr(
    client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    mailbox.refuse.add("minh@khongco.vn")
    response = await client.post(
        f"/meetings/{meeting_id}/invitations/send",
        data={"number": "15/GM-HĐND", "reply_by": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    messages = mailbox.wait(2)
    assert sorted(m["To"] for m in messages) == [
        "chutoa@thunghiem.gov.vn",
        "huong@thunghiem.gov.vn",
    ]
    panel = response.text
    assert "Đã gửi thư đến huong@thunghiem.gov.vn" in panel
    assert "Gửi thư đến minh@khongco.vn không thành công" in panel
    assert "Máy chủ thư từ chối địa chỉ này." in panel
    assert "Không có địa chỉ thư điện tử" in panel  # Phạm Thu Trang: in the app only

    (message,) = mailbox.to("huong@thunghiem.gov.vn")
    assert message["Subject"] == "Giấy mời: Kỳ họp thứ ba HĐND phường"
    text = message.get_body(("plain",)).get_content()
    invitation = _invitation(database, meeting_id, people["1"].id)
    link = f"http://testserver.local/invitations/{invitation.token}"
    assert link in text and "Kính gửi: Ông/Bà Nguyễn Thị Hương" in text
    (attached,) = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    pdf = attached.get_content()
    doc = pymupdf.open("pdf", pdf)
    assert doc.metadata["keywords"] == link
    words = doc[0].get_text()
    for expected in ("GIẤY MỜI", "Số: 15/GM-HĐND", "Kính gửi: Ông/Bà Nguyễn Thị Hương", "CHỦ TỊCH"):
        assert expected in words
    assert "Trần Văn Bình" in words  # the council's Chủ tịch signs
    assert qr_text_is(pdf, link)
    assert not qr_text_is(pdf, link[:-1] + ("A" if link[-1] != "A" else "B"))
    assert len(invitation.token) == 24 and invitation.sent_at is not None
    assert _invitation(database, meeting_id, people["2"].id).email_error == "refused"
    assert _invitation(database, meeting_id, people["3"].id).emailed_to == ""


async def test_sending_again_to_one_keeps_the_token_and_mails_only_them(
    client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await client.post(f"/meetings/{meeting_id}/invitations/send", data={})
    mailbox.wait(3)
    token = _invitation(database, meeting_id, people["1"].id).token
    response = await client.post(f"/meetings/{meeting_id}/invitations/{people['1'].id}/send")
    assert response.status_code == 303
    mailbox.wait(4)
    assert len(mailbox.to("huong@thunghiem.gov.vn")) == 2
    assert len(mailbox.to("chutoa@thunghiem.gov.vn")) == 1
    assert _invitation(database, meeting_id, people["1"].id).token == token


async def test_a_mail_server_that_is_down_stops_nobody_and_the_app_shows_it(
    client, database, accounts, app
):
    meeting_id, people = await _meeting(client, database, accounts)
    app.state.settings = replace(app.state.settings, smtp_port=closed_port(), smtp_timeout_s=5)
    response = await client.post(
        f"/meetings/{meeting_id}/invitations/send", data={}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.count("Không kết nối được máy chủ thư") == 3  # those with an address
    for key in ("chutoa", "1", "2", "3"):  # in the app whatever the mail did
        assert _invitation(database, meeting_id, people[key].id).sent_at is not None


async def test_with_mail_off_the_invitations_are_in_the_app_and_the_panel_says_so(
    client, database, accounts, mailbox, app
):
    meeting_id, people = await _meeting(client, database, accounts)
    app.state.settings = replace(app.state.settings, smtp_host="")
    response = await client.post(
        f"/meetings/{meeting_id}/invitations/send", data={}, headers={"HX-Request": "true"}
    )
    assert "Máy chủ chưa bật gửi thư điện tử" in response.text
    assert "Đã gửi thư" not in response.text
    assert mailbox.messages == []
    assert _invitation(database, meeting_id, people["1"].id).sent_at is not None


async def test_a_deadline_after_the_start_is_refused_and_nothing_is_sent(
    client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    response = await client.post(
        f"/meetings/{meeting_id}/invitations/send", data={"reply_by": "2026-12-16T08:00"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_reply_by"
    database.rollback()  # a new read: the app wrote since
    assert database.exec(select(Invitation)).all() == []
    assert database.get(Meeting, meeting_id).reply_by is None
    for bad in ("ngày mai", "2020-01-01T08:00", "0001-01-01T00:00", "0001-01-01T00:00+14:00"):
        response = await client.post(
            f"/meetings/{meeting_id}/invitations/send", data={"reply_by": bad}
        )
        assert response.status_code == 400, bad
        assert response.json()["code"] == "bad_reply_by", bad
    assert mailbox.messages == []


async def _send(client, meeting_id: int, **form) -> None:
    response = await client.post(f"/meetings/{meeting_id}/invitations/send", data=form)
    assert response.status_code == 303, response.text


async def test_the_delegate_replies_absent_with_a_reason_and_is_excused(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    delegate = await new_client()
    await delegate.login("daibieu1")
    page = await delegate.get(f"/invitations/{token}")
    assert page.status_code == 200 and "Kỳ họp thứ ba HĐND phường" in page.text

    refused = await delegate.post(f"/invitations/{token}/reply", data={"reply": "absent"})
    assert refused.status_code == 400 and refused.json()["code"] == "reason_needed"
    assert "lý do" in refused.json()["message"]
    assert _invitation(database, meeting_id, people["1"].id).reply == ""

    reason = "Đi công tác theo lịch của tỉnh"
    done = await delegate.post(
        f"/invitations/{token}/reply", data={"reply": "absent", "reason": reason}
    )
    assert done.status_code == 303
    invitation = _invitation(database, meeting_id, people["1"].id)
    assert (invitation.reply, invitation.reason) == ("absent", reason)
    database.rollback()
    row = database.exec(select(Attendance).where(Attendance.user_id == people["1"].id)).one()
    assert (row.status, row.reason) == ("excused", reason)

    # changing one's mind before the deadline: the excuse goes with the reply
    again = await delegate.post(f"/invitations/{token}/reply", data={"reply": "online"})
    assert again.status_code == 303
    database.rollback()  # a new read: the app wrote since
    row = database.exec(select(Attendance).where(Attendance.user_id == people["1"].id)).one()
    assert (row.status, row.reason) == ("absent", "")
    assert _invitation(database, meeting_id, people["1"].id).reply == "online"


async def test_the_minutes_give_the_reason_of_an_absence(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["2"].id).token
    delegate = await new_client()
    await delegate.login("daibieu2")
    reason = "Nằm viện điều trị"
    await delegate.post(f"/invitations/{token}/reply", data={"reply": "absent", "reason": reason})
    # the secretary marks them plain absent in the hall, without writing a reason
    database.rollback()
    attendance = database.exec(select(Attendance).where(Attendance.user_id == people["2"].id)).one()
    attendance.status, attendance.reason = "absent", ""
    database.add(attendance)
    database.commit()
    meeting = database.get(Meeting, meeting_id)
    meeting.status = "published"
    database.add(meeting)
    database.commit()
    started = await client.post(f"/api/meetings/{meeting_id}/session/start")
    assert started.status_code == 200, started.text
    minutes = await client.get(f"/api/meetings/{meeting_id}/minutes.pdf")
    assert minutes.status_code == 200, minutes.text
    text = " ".join(page.get_text() for page in pymupdf.open("pdf", minutes.content))
    assert "Lê Văn Minh" in text and reason in " ".join(text.split())


async def test_a_reply_after_the_deadline_is_refused_and_nothing_kept(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    meeting = database.get(Meeting, meeting_id)
    meeting.reply_by = utcnow() - timedelta(minutes=1)
    database.add(meeting)
    database.commit()
    delegate = await new_client()
    await delegate.login("daibieu1")
    response = await delegate.post(
        f"/invitations/{token}/reply", data={"reply": "absent", "reason": "Ốm"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reply_closed"
    assert "đã hết hạn" in response.json()["message"]
    invitation = _invitation(database, meeting_id, people["1"].id)
    assert (invitation.reply, invitation.reason, invitation.replied_at) == ("", "", None)
    assert database.exec(select(Attendance)).all() == []


async def test_a_forged_token_is_a_clear_404(client, new_client, database, accounts, mailbox):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    delegate = await new_client()
    await delegate.login("daibieu1")
    forged = "AAAAAAAAAAAAAAAAAAAAAAAA"
    for response in (
        await delegate.get(f"/invitations/{forged}"),
        await delegate.post(f"/invitations/{forged}/reply", data={"reply": "online"}),
        await delegate.get(f"/invitations/{forged}/pdf"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "no_invitation"
        assert "mã QR" in response.json()["message"]
    page = await delegate.get(f"/invitations/{forged}", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "Không có giấy mời này" in page.text


async def test_a_token_needs_the_invitee_signed_in(client, new_client, database, accounts, mailbox):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    stranger = await new_client()
    page = await stranger.get(f"/invitations/{token}", headers={"Accept": "text/html"})
    assert page.status_code in (302, 303)
    assert page.headers["location"] == f"/login?next=/invitations/{token}"
    refused = await stranger.post(f"/invitations/{token}/reply", data={"reply": "online"})
    assert refused.status_code == 401
    assert _invitation(database, meeting_id, people["1"].id).reply == ""


async def test_a_person_not_invited_cannot_read_or_answer_anothers_invitation(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    accounts.user("nguoingoai", full_name="Người Ngoài")
    other = await new_client()
    await other.login("nguoingoai")
    for response in (
        await other.get(f"/invitations/{token}"),
        await other.get(f"/invitations/{token}/pdf"),
        await other.post(f"/invitations/{token}/reply", data={"reply": "online"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_yours"
    # a fellow delegate of the meeting may not answer for them either
    fellow = await new_client()
    await fellow.login("daibieu2")
    response = await fellow.post(f"/invitations/{token}/reply", data={"reply": "online"})
    assert response.status_code == 403
    assert _invitation(database, meeting_id, people["1"].id).reply == ""
    listing = await other.get("/invitations")
    assert listing.status_code == 200 and "Kỳ họp thứ ba" not in listing.text


async def test_a_secretary_of_another_council_cannot_send_or_see(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    elsewhere = accounts.body("Hội đồng nhân dân xã Bên Cạnh")
    accounts.user("thuky2", "secretary", elsewhere)
    other = await new_client()
    await other.login("thuky2")
    response = await other.post(f"/meetings/{meeting_id}/invitations/send", data={})
    assert response.status_code == 404
    response = await other.get(f"/meetings/{meeting_id}/invitations")
    assert response.status_code == 404
    assert database.exec(select(Invitation)).all() == []
    assert mailbox.messages == []
    # a delegate of the meeting may not send either
    delegate = await new_client()
    await delegate.login("daibieu1")
    response = await delegate.post(f"/meetings/{meeting_id}/invitations/send", data={})
    assert response.status_code == 403


async def test_a_removed_participant_can_no_longer_reply(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["3"].id).token
    removed = await client.post(f"/meetings/{meeting_id}/participants/{people['3'].id}/delete")
    assert removed.status_code == 200, removed.text
    delegate = await new_client()
    await delegate.login("daibieu3")
    response = await delegate.post(f"/invitations/{token}/reply", data={"reply": "online"})
    assert response.status_code == 404 and response.json()["code"] == "not_invited"


@pytest.mark.parametrize(
    ("kind", "members", "coming", "met"),
    [
        ("hdnd", 6, 3, False),  # two thirds of 6 is 4
        ("hdnd", 6, 4, True),
        ("hdnd", 7, 4, False),  # two thirds of 7 is 4.67: 5 are needed
        ("hdnd", 4, 3, True),  # 2.67: 3
        ("ubnd", 6, 3, False),  # more than half of 6: 4
        ("ubnd", 5, 3, True),  # more than half of 5: 3
    ],
)
async def test_the_quorum_forecast_counts_replies_against_all_delegates(
    client, new_client, database, accounts, mailbox, kind, members, coming, met
):
    body = accounts.body("Hội đồng nhân dân phường Thử Nghiệm")
    body.kind, body.members = kind, members
    database.add(body)
    database.commit()
    accounts.user("thuky", "secretary", body)
    await client.login("thuky")
    response = await client.post("/api/meetings", json={"title": "Phiên họp", "starts_at": STARTS})
    meeting_id = response.json()["id"]
    delegates = [accounts.user(f"db{n}", full_name=f"Đại Biểu {n}") for n in range(members)]
    for person in delegates:
        accounts.join(person, meeting_id)
    await _send(client, meeting_id)
    answers = ["in_person", "online"] * coming
    for n, person in enumerate(delegates[:coming]):
        token = _invitation(database, meeting_id, person.id).token
        them = await new_client()
        await them.login(person.username)
        response = await them.post(f"/invitations/{token}/reply", data={"reply": answers[n]})
        assert response.status_code == 303, response.text
    absent_one = delegates[coming] if coming < members else None
    if absent_one is not None:
        token = _invitation(database, meeting_id, absent_one.id).token
        them = await new_client()
        await them.login(absent_one.username)
        await them.post(f"/invitations/{token}/reply", data={"reply": "absent", "reason": "Ốm"})
    panel = await client.get(f"/meetings/{meeting_id}/invitations")
    found = re.search(r'data-coming="(\d+)" data-needed="(\d+)"', panel.text)
    assert found is not None
    assert int(found.group(1)) == coming
    needed = int(found.group(2))
    assert (coming >= needed) is met
    assert ("Đủ số đại biểu để khai mạc" in panel.text) is met
    unanswered = members - coming - (1 if absent_one else 0)
    assert f"Chưa trả lời ({unanswered})" in panel.text or unanswered == 0


async def test_the_delegate_sees_the_invitation_on_their_meetings_and_meeting_page(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    delegate = await new_client()
    await delegate.login("daibieu1")
    listing = await delegate.get("/invitations")
    assert "Kỳ họp thứ ba HĐND phường" in listing.text and "Chưa trả lời" in listing.text
    panel = await delegate.get(f"/meetings/{meeting_id}/invitations")
    token = _invitation(database, meeting_id, people["1"].id).token
    assert f"/invitations/{token}/pdf" in panel.text
    assert "quorum-forecast" not in panel.text  # the forecast is the secretary's
    pdf = await delegate.get(f"/invitations/{token}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pymupdf.open("pdf", pdf.content).metadata["keywords"].endswith(token)


def test_the_pdf_is_the_same_for_the_same_letter():
    data = InvitationData(
        issuer=("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH"),
        number="15/GM-HĐND",
        place="Ba Đình",
        date="05 tháng 12 năm 2026",
        inviter="Thường trực Hội đồng nhân dân phường Ba Đình",
        meeting="Kỳ họp thứ ba",
        invitee="Nguyễn Văn An",
        invitee_title="Đại biểu HĐND phường",
        time="08 giờ 00 phút, thứ Hai, ngày 15 tháng 12 năm 2026",
        venue="Hội trường",
        items=[("1", "Dự toán")],
        reply_by="08 giờ 00 phút, thứ Hai, ngày 15 tháng 12 năm 2026",
        url="https://hdnd.example.vn/invitations/abc",
        signer_titles=("TM. THƯỜNG TRỰC HĐND", "CHỦ TỊCH"),
        signer="Trần Văn Bình",
    )
    first = invitation_pdf(data)
    assert first == invitation_pdf(data)
    assert qr_text_is(first, data.url)
    assert URL.pattern  # the pattern is used by the browser test's wording


async def test_a_new_invitation_is_in_the_invitees_notifications_once(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    await _send(client, meeting_id)  # sent again: not news twice
    database.rollback()
    rows = database.exec(select(Notification).where(Notification.user_id == people["1"].id)).all()
    token = _invitation(database, meeting_id, people["1"].id).token
    assert [(n.kind, n.link) for n in rows] == [("invitation", f"/invitations/{token}")]
    delegate = await new_client()
    await delegate.login("daibieu1")
    listed = await delegate.get("/notifications")
    assert "Giấy mời" in listed.text or "Kỳ họp thứ ba HĐND phường" in listed.text


async def test_the_attendance_list_shows_who_replied_online_before_the_session(
    client, new_client, database, accounts, mailbox, app
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    delegate = await new_client()
    await delegate.login("daibieu1")
    await delegate.post(f"/invitations/{token}/reply", data={"reply": "online"})
    async with app.state.db_read() as db:
        state = await attendance_state(db, app.state, meeting_id)
    found = {p["user_id"]: p for p in state["people"]}
    assert (found[people["1"].id]["status"], found[people["1"].id]["expected"]) == (
        "absent",
        "online",
    )
    assert found[people["2"].id]["expected"] == ""
    assert state["quorum"]["present"] == 0  # a reply is not a presence: the quorum waits


async def test_a_bad_reply_is_refused_and_nothing_kept(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id)
    token = _invitation(database, meeting_id, people["1"].id).token
    delegate = await new_client()
    await delegate.login("daibieu1")
    for form, code in (
        ({"reply": "maybe"}, "bad_reply"),
        ({}, "bad_reply"),
        ({"reply": "absent", "reason": "   "}, "reason_needed"),
        ({"reply": "absent", "reason": "x" * 301}, "reason_too_long"),
    ):
        response = await delegate.post(f"/invitations/{token}/reply", data=form)
        assert response.status_code == 400, form
        assert response.json()["code"] == code
    invitation = _invitation(database, meeting_id, people["1"].id)
    assert (invitation.reply, invitation.replied_at) == ("", None)


async def test_a_meeting_moved_before_the_deadline_closes_replies_at_its_start(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    await _send(client, meeting_id, reply_by="2026-12-15T07:00")
    meeting = database.get(Meeting, meeting_id)
    assert meeting.reply_by is not None
    meeting.starts_at = utcnow() - timedelta(minutes=5)  # moved: it has already begun
    meeting.reply_by = utcnow() + timedelta(days=1)
    database.add(meeting)
    database.commit()
    token = _invitation(database, meeting_id, people["1"].id).token
    delegate = await new_client()
    await delegate.login("daibieu1")
    response = await delegate.post(f"/invitations/{token}/reply", data={"reply": "online"})
    assert response.status_code == 409 and response.json()["code"] == "reply_closed"


async def test_sending_to_someone_not_taking_part_is_refused(client, database, accounts, mailbox):
    meeting_id, people = await _meeting(client, database, accounts)
    outsider = accounts.user("nguoingoai", email="ngoai@example.vn")
    for user_id in (outsider.id, people["thuky"].id, 999_999):
        response = await client.post(f"/meetings/{meeting_id}/invitations/{user_id}/send")
        assert response.status_code == 404
        assert response.json()["code"] == "not_invited"
    database.rollback()
    assert database.exec(select(Invitation)).all() == []
    assert mailbox.messages == []


async def test_an_invitee_who_wants_notifications_by_mail_gets_the_giay_moi_once(
    client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    wants = people["1"]
    wants.email_notifications = True
    database.add(wants)
    database.commit()
    response = await client.post(
        f"/meetings/{meeting_id}/invitations/send",
        data={"number": "", "reply_by": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    mine = (Notification.user_id == wants.id, Notification.kind == INVITATION)
    (bell,) = database.exec(select(Notification).where(*mine)).all()
    assert not bell.mail_due  # the giấy mời's own e-mail is the one they get


async def test_send_pressed_twice_at_once_makes_one_giay_moi_each(
    client, new_client, database, accounts, mailbox
):
    meeting_id, people = await _meeting(client, database, accounts)
    other = await new_client()
    await other.login("thuky")
    answers = await asyncio.gather(
        *(
            tab.post(f"/meetings/{meeting_id}/invitations/send", data={"reply_by": ""})
            for tab in (client, other)
        )
    )
    codes = [a.status_code for a in answers]
    assert 303 in codes and set(codes) <= {303, 409}, [a.text for a in answers]
    database.rollback()
    made = database.exec(select(Invitation).where(Invitation.meeting_id == meeting_id)).all()
    assert len(made) == len({i.user_id for i in made})
