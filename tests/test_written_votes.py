"""Written votes between sessions (issue 19, item 4): the chair sends a question with its
papers and a deadline to the council's delegates; each answers once from their own device;
the rules of a vote in session decide it on all the council's delegates; the count's minutes
come out frozen, in the form of Decree 30, with the chair's and secretary's signature spaces."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pymupdf
import pytest
from sqlmodel import Session, select

from server import db
from server.errors import AppError
from server.models import (
    Body,
    Member,
    Notification,
    Reminder,
    User,
    WrittenBallot,
    WrittenVote,
)
from server.signing.sign import find_place
from server.votes.rules import decide
from server.written_votes import as_vote, cast, close, send
from tests.conftest import Accounts, throwaway_postgres

CHAIR = "Trần Văn Bình"
SECRETARY = "Nguyễn Thị Hồng"


@pytest.fixture
def council(accounts, database):
    """An HĐND of 30 delegates by law, all 30 on the roster; its chair leads it."""
    body = accounts.body("Hội đồng nhân dân phường Thử Nghiệm")
    body.kind, body.members = "hdnd", 30
    database.add(body)
    accounts.user("thuky", "secretary", body, full_name=SECRETARY)
    chair = accounts.user("chutich", body=body, full_name=CHAIR, title="Chủ tịch HĐND phường")
    seat(database, body, chair, 1)
    for n in range(2, 31):
        seat(database, body, accounts.user(f"db{n:02d}", body=body), n)
    accounts.user("nguoingoai", body=body)  # an account of the council, not on its roster
    database.commit()
    return body


def seat(database, body: Body, user, n: int) -> None:
    database.add(Member(body_id=body.id, user_id=user.id, title=user.title, position=n))


def in_an_hour() -> str:
    when = datetime.now(UTC) + timedelta(hours=1)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")


async def draft(client, body_id: int, **form) -> int:
    await client.login("thuky")
    fields = {"body_id": str(body_id), "title": "Điều chỉnh kế hoạch đầu tư công năm 2026"}
    response = await client.post("/written-votes", data={**fields, **form})
    assert response.status_code == 201, response.text
    return int(response.headers["HX-Redirect"].rsplit("/", 1)[1])


async def sent(client, new_client, body_id: int, **form) -> int:
    vote_id = await draft(client, body_id, **form)
    chair = await new_client()
    await chair.login("chutich")
    response = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()})
    assert response.status_code == 201, response.text
    return vote_id


async def delegate(new_client, username: str):
    device = await new_client()
    await device.login(username)
    return device


def ballots(database, vote_id: int) -> list[WrittenBallot]:
    database.rollback()  # a fresh snapshot: the server wrote since the last read
    return list(database.exec(select(WrittenBallot).where(WrittenBallot.vote_id == vote_id)))


def answer_directly(database, vote_id: int, usernames_choices: dict[str, str]) -> None:
    for username, choice in usernames_choices.items():
        user = database.exec(select(User).where(User.username == username)).one()
        database.add(WrittenBallot(vote_id=vote_id, voter_id=user.id, choice=choice))
    database.commit()


def past_deadline(database, vote_id: int) -> None:
    vote = database.get(WrittenVote, vote_id)
    vote.deadline = datetime.now(UTC) - timedelta(seconds=1)
    database.add(vote)
    database.commit()


async def test_a_delegate_answers_once_and_a_second_answer_is_refused(
    client, new_client, council, database
):
    vote_id = await sent(client, new_client, council.id)
    device = await delegate(new_client, "db02")
    page = await device.get(f"/written-votes/{vote_id}")
    assert "Cần ít nhất 16/30 đại biểu tán thành (tổng số đại biểu của Hội đồng)" in page.text
    unknown = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "maybe"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "bad_choice"
    assert ballots(database, vote_id) == []
    first = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "yes"})
    assert first.status_code == 201, first.text
    again = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "no"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_answered"
    assert "chỉ gửi một lần" in again.json()["message"]
    kept = ballots(database, vote_id)
    assert [(b.choice) for b in kept] == ["yes"]


async def test_two_answers_racing_keep_one(client, new_client, council, database):
    vote_id = await sent(client, new_client, council.id)
    device, other = await delegate(new_client, "db03"), await delegate(new_client, "db03")
    answers = await asyncio.gather(
        device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "yes"}),
        other.post(f"/written-votes/{vote_id}/ballot", data={"choice": "no"}),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert len(ballots(database, vote_id)) == 1


async def test_a_non_member_is_refused_and_nothing_is_kept(client, new_client, council, database):
    vote_id = await sent(client, new_client, council.id)
    outsider = await delegate(new_client, "nguoingoai")  # the council's account, not on its roster
    response = await outsider.post(f"/written-votes/{vote_id}/ballot", data={"choice": "yes"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_asked"
    assert "không được gửi đến bạn" in response.json()["message"]
    assert ballots(database, vote_id) == []
    assert (await outsider.get(f"/api/written-votes/{vote_id}")).status_code == 404


async def test_a_delegate_taken_off_the_roster_after_sending_is_refused(
    client, new_client, council, database
):
    vote_id = await sent(client, new_client, council.id)
    device = await delegate(new_client, "db04")
    user = database.exec(select(User).where(User.username == "db04")).one()
    member = database.exec(select(Member).where(Member.user_id == user.id)).one()
    database.delete(member)
    database.commit()
    response = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "yes"})
    assert response.status_code == 403 and response.json()["code"] == "no_longer_delegate"
    assert "không còn là đại biểu" in response.json()["message"]
    assert ballots(database, vote_id) == []


async def test_a_chair_of_another_body_seated_as_a_delegate_does_not_lead(
    client, new_client, council, database
):
    """An account titled Chủ tịch UBND whose seat here names no office may not send."""
    user = database.exec(select(User).where(User.username == "db05")).one()
    user.title = "Chủ tịch UBND phường"
    member = database.exec(select(Member).where(Member.user_id == user.id)).one()
    member.title = ""
    database.add_all([user, member])
    database.commit()
    vote_id = await draft(client, council.id)
    ubnd_chair = await delegate(new_client, "db05")
    response = await ubnd_chair.post(
        f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()}
    )
    assert response.status_code in (403, 404)  # a draft is not even shown to a delegate
    database.expire_all()
    assert database.get(WrittenVote, vote_id).status == "draft"


async def test_an_answer_after_the_deadline_is_refused_and_the_vote_is_closed(
    client, new_client, council, database
):
    vote_id = await sent(client, new_client, council.id)
    device = await delegate(new_client, "db04")
    past_deadline(database, vote_id)
    response = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "yes"})
    assert response.status_code == 409
    assert response.json()["code"] == "deadline_passed"
    assert "Đã hết hạn" in response.json()["message"]
    assert ballots(database, vote_id) == []
    database.expire_all()
    assert database.get(WrittenVote, vote_id).status == "closed"


async def test_the_vote_closes_at_its_deadline_without_anyone_asking(
    client, new_client, council, database, app
):
    vote_id = await sent(client, new_client, council.id)
    past_deadline(database, vote_id)
    closed = await app.state.written_votes.close_overdue()
    assert closed == [vote_id]
    database.expire_all()
    vote = database.get(WrittenVote, vote_id)
    assert vote.status == "closed" and vote.result["passed"] is False
    assert vote.result["voters"] == 0 and vote.result["base"] == 30
    assert len(vote.record_sha256) == 64
    assert await app.state.written_votes.close_overdue() == []


@pytest.mark.parametrize(
    ("yes", "no", "abstain", "passed"),
    [
        (16, 0, 0, True),  # 16 of 30: more than half of all delegates
        (15, 0, 0, False),  # 15 of 30 answered yes, 15 did not answer: not passed
        (15, 1, 14, False),
        (16, 14, 0, True),
    ],
)
async def test_the_result_is_counted_on_all_the_councils_delegates(
    client, new_client, council, database, yes, no, abstain, passed
):
    vote_id = await sent(client, new_client, council.id)
    choices = ["yes"] * yes + ["no"] * no + ["abstain"] * abstain
    usernames = ["chutich"] + [f"db{n:02d}" for n in range(2, 31)]
    answer_directly(database, vote_id, dict(zip(usernames, choices, strict=False)))
    past_deadline(database, vote_id)
    info = (await client.get(f"/api/written-votes/{vote_id}")).json()
    assert info["status"] == "closed"
    result = info["result"]
    assert result["base"] == 30 and result["needed"] == 16
    assert result["tally"] == {"yes": yes, "no": no, "abstain": abstain}
    assert result["passed"] is passed
    # the same rule engine as a vote in session
    vote = database.get(WrittenVote, vote_id)
    assert decide(as_vote(vote), result["tally"], 30, yes + no + abstain)["passed"] is passed


async def test_two_thirds_on_the_answers_given(client, new_client, council, database):
    vote_id = await sent(
        client, new_client, council.id, threshold="two_thirds", majority_base="cast"
    )
    answer_directly(database, vote_id, {"db02": "yes", "db03": "yes", "db04": "no"})
    past_deadline(database, vote_id)
    result = (await client.get(f"/api/written-votes/{vote_id}")).json()["result"]
    assert (result["base"], result["needed"], result["passed"]) == (3, 2, True)


async def test_the_chair_closes_early_only_when_everyone_has_answered(
    client, new_client, accounts, database
):
    body = accounts.body("Hội đồng nhân dân xã Nhỏ")
    body.kind, body.members = "hdnd", 3
    database.add(body)
    accounts.user("thuky", "secretary", body, full_name=SECRETARY)
    chair = accounts.user("chutich", body=body, full_name=CHAIR, title="Chủ tịch HĐND xã")
    seat(database, body, chair, 1)
    for n in (2, 3):
        seat(database, body, accounts.user(f"db{n:02d}", body=body), n)
    database.commit()
    vote_id = await sent(client, new_client, body.id)
    chair_device = await delegate(new_client, "chutich")
    early = await chair_device.post(f"/written-votes/{vote_id}/close")
    assert early.status_code == 409 and early.json()["code"] == "not_all_answered"
    assert database.get(WrittenVote, vote_id).status == "open"
    for username, choice in (("chutich", "yes"), ("db02", "yes"), ("db03", "no")):
        device = chair_device if username == "chutich" else await delegate(new_client, username)
        answered = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": choice})
        assert answered.status_code == 201, answered.text
    secretary_close = await client.post(f"/written-votes/{vote_id}/close")
    assert secretary_close.status_code == 403
    closed = await chair_device.post(f"/written-votes/{vote_id}/close")
    assert closed.status_code == 201, closed.text
    info = (await chair_device.get(f"/api/written-votes/{vote_id}")).json()
    assert info["status"] == "closed" and info["result"]["passed"] is True


async def test_who_may_draft_and_send(client, new_client, council, database):
    plain = await delegate(new_client, "db05")
    refused = await plain.post(
        "/written-votes", data={"body_id": str(council.id), "title": "Câu hỏi"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "may_not_draft"
    vote_id = await draft(client, council.id)
    by_secretary = await client.post(
        f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()}
    )
    assert by_secretary.status_code == 403 and by_secretary.json()["code"] == "not_chair"
    chair = await delegate(new_client, "chutich")
    too_soon = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M+00:00")
    response = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": too_soon})
    assert response.status_code == 400 and response.json()["code"] == "deadline_too_soon"
    garbled = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": "mai"})
    assert garbled.status_code == 400 and garbled.json()["code"] == "bad_deadline"
    for edge in ("0001-01-01T00:00", "0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00"):
        response = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": edge})
        assert response.status_code == 400 and response.json()["code"] == "bad_deadline", edge
    for body_id in ("99999999999999999999", "0", "-3"):
        response = await client.post("/written-votes", data={"body_id": body_id, "title": "x"})
        assert response.status_code == 404, body_id
    database.expire_all()
    assert database.get(WrittenVote, vote_id).status == "draft"
    # a draft is not shown to the delegates
    assert (await plain.get(f"/api/written-votes/{vote_id}")).status_code == 404
    empty = await client.post("/written-votes", data={"body_id": str(council.id), "title": "   "})
    assert empty.status_code == 400 and empty.json()["code"] == "no_title"


def a_paper(title: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), title)
    return doc.tobytes()


async def test_papers_are_taken_in_and_fixed_once_sent(client, new_client, council, database):
    vote_id = await draft(client, council.id)
    upload = await client.post(
        f"/written-votes/{vote_id}/papers",
        files={"file": ("to-trinh.pdf", a_paper("To trinh so 12"), "application/pdf")},
        data={"title": "Tờ trình số 12/TTr-UBND"},
    )
    assert upload.status_code == 201, upload.text
    junk = await client.post(
        f"/written-votes/{vote_id}/papers",
        files={"file": ("hong.pdf", b"%PDF-1.7 not really", "application/pdf")},
    )
    assert junk.status_code == 422
    database.expire_all()
    papers = database.get(WrittenVote, vote_id).papers
    assert [(p["title"], p["pages"]) for p in papers] == [("Tờ trình số 12/TTr-UBND", 1)]
    chair = await delegate(new_client, "chutich")
    await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()})
    late = await client.post(
        f"/written-votes/{vote_id}/papers",
        files={"file": ("them.pdf", a_paper("Them"), "application/pdf")},
    )
    assert late.status_code == 409 and late.json()["code"] == "already_sent"
    device = await delegate(new_client, "db06")
    paper = await device.get(f"/written-votes/{vote_id}/papers/1")
    assert paper.status_code == 200 and paper.content.startswith(b"%PDF")
    assert "To trinh so 12" in pymupdf.open("pdf", paper.content)[0].get_text()


async def test_the_count_minutes_say_the_result_and_every_reply(
    client, new_client, council, database
):
    vote_id = await sent(client, new_client, council.id)
    answers = {"chutich": "yes", **{f"db{n:02d}": "yes" for n in range(2, 17)}, "db17": "no"}
    answer_directly(database, vote_id, answers)
    past_deadline(database, vote_id)
    response = await client.get(f"/written-votes/{vote_id}/record.pdf")
    assert response.status_code == 200, response.text
    pdf = response.content
    doc = pymupdf.open("pdf", pdf)
    text = " ".join(" ".join(page.get_text().split()) for page in doc)
    assert "BIÊN BẢN" in text
    assert "Kiểm phiếu lấy ý kiến đại biểu Hội đồng nhân dân phường Thử Nghiệm" in text
    assert "Số phiếu phát ra: 30 phiếu" in text
    assert "Số phiếu thu về: 17/30 phiếu" in text
    assert "Kết quả: Thông qua" in text
    assert "được thông qua: 16/30 đại biểu tán thành" in text
    assert "Db17 Không tán thành" in text
    assert "Không gửi phiếu" in text and "Db30" in text
    assert "TM. THƯỜNG TRỰC HĐND" in text and "THƯ KÝ" in text
    # signed-ready: the signing code finds each signer's space over their printed name
    chair_place = find_place(pdf, CHAIR, "CHỦ TỊCH")
    secretary_place = find_place(pdf, SECRETARY, "THƯ KÝ")
    assert chair_place.page == secretary_place.page == doc.page_count - 1
    assert chair_place.box[0] > secretary_place.box[0]
    again = await client.get(f"/written-votes/{vote_id}/record.pdf")
    assert again.content == pdf
    database.expire_all()
    vote = database.get(WrittenVote, vote_id)
    assert vote.record_pdf_sha256 == hashlib.sha256(pdf).hexdigest()


async def test_the_delegates_are_told_when_it_opens_and_reminded_before_the_deadline(
    client, new_client, council, database
):
    vote_id = await sent(client, new_client, council.id)
    told = database.exec(select(Notification).where(Notification.kind == "written_vote.opened"))
    told = list(told)
    assert len(told) == 29  # every delegate asked but the chair who sent it
    assert {n.link for n in told} == {f"/written-votes/{vote_id}"}
    reminder = database.exec(
        select(Reminder).where(Reminder.key == f"written_vote:{vote_id}")
    ).one()
    assert len(reminder.user_ids) == 30 and reminder.params["task"] == "written_vote"
    vote = database.get(WrittenVote, vote_id)
    assert vote.opened_at < reminder.due_at < vote.deadline
    device = await delegate(new_client, "db07")
    answered = await device.post(f"/written-votes/{vote_id}/ballot", data={"choice": "no"})
    assert answered.status_code == 201
    database.rollback()
    reminder = database.exec(
        select(Reminder).where(Reminder.key == f"written_vote:{vote_id}")
    ).one()
    db07 = database.exec(select(User).where(User.username == "db07")).one()
    assert len(reminder.user_ids) == 29 and db07.id not in reminder.user_ids
    past_deadline(database, vote_id)
    assert (await client.get(f"/api/written-votes/{vote_id}")).json()["status"] == "closed"
    database.expire_all()
    assert (
        database.exec(select(Reminder).where(Reminder.key == f"written_vote:{vote_id}")).first()
        is None
    )


async def _race_on(url: str, vote_id: int, chair_id: int, voters: list[int], settings) -> list:
    """On `url`: the chair sends the vote; every voter answers at once, the first twice over;
    then, past the deadline, two servers close it at once."""
    engine = db.make_engine(url)
    sessions = db.session_maker(engine)
    try:
        async with sessions() as session:
            chair = await session.get_one(User, chair_id)
            await send(session, vote_id, chair, datetime.now(UTC) + timedelta(hours=1))

        async def answer(voter_id: int, choice: str) -> str:
            async with sessions() as session:
                user = await session.get_one(User, voter_id)
                try:
                    await cast(session, vote_id, user, choice)
                except AppError as refusal:
                    return refusal.code
                return "kept"

        plan = [(voters[0], "no"), (voters[0], "abstain")] + [(v, "yes") for v in voters]
        answers = await asyncio.gather(*(answer(v, c) for v, c in plan))
        async with sessions() as session:
            vote = await session.get_one(WrittenVote, vote_id)
            vote.deadline = datetime.now(UTC) - timedelta(seconds=1)
            session.add(vote)
            await session.commit()

        async def close_it() -> dict:
            async with sessions() as session:
                return (await close(session, vote_id, None, settings)).result or {}

        return [answers, *(await asyncio.gather(close_it(), close_it()))]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_answers_and_closes_racing_on_postgres_keep_one_each(settings):
    with throwaway_postgres("phonghop_written") as url:
        db.upgrade(url)
        engine = db.make_sync_engine(url)
        with Session(engine, expire_on_commit=False) as database:
            accounts = Accounts(database, replace(settings, database_url=url))
            body = accounts.body()
            body.kind, body.members = "hdnd", 12
            chair = accounts.user("chutich", body=body, title="Chủ tịch HĐND")
            seat(database, body, chair, 1)
            people = [accounts.user(f"db{n:02d}", body=body) for n in range(2, 13)]
            for n, person in enumerate(people, 2):
                seat(database, body, person, n)
            vote = WrittenVote(body_id=body.id, title="Câu hỏi", created_by=chair.id)
            database.add(vote)
            database.commit()
            accounts.passwords.close()
        engine.dispose()
        answers, first, second = await _race_on(
            url, vote.id, chair.id, [p.id for p in people], replace(settings, database_url=url)
        )
        assert sorted(answers).count("kept") == 11
        assert sorted(answers).count("already_answered") == 2
        assert first == second
        assert first["voters"] == 11 and first["base"] == 12 and first["needed"] == 7
        assert first["tally"]["yes"] + first["tally"]["no"] + first["tally"]["abstain"] == 11


@pytest.mark.parametrize(
    ("members", "threshold", "code", "words"),
    [
        (10, "half", "members_exceeded", "Danh sách đại biểu của Hội đồng có 30 đại biểu"),
        (100, "two_thirds", "rule_unreachable", "cần 67/100 đại biểu tán thành"),
    ],
)
async def test_a_rule_the_roster_cannot_meet_is_not_sent(
    client, new_client, council, database, members, threshold, code, words
):
    vote_id = await draft(client, council.id, threshold=threshold)
    council.members = members
    database.add(council)
    database.commit()
    chair = await delegate(new_client, "chutich")
    response = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()})
    assert response.json()["code"] == code
    assert words in response.json()["message"]
    database.expire_all()
    vote = database.get(WrittenVote, vote_id)
    assert (vote.status, vote.voters) == ("draft", [])
    assert list(database.exec(select(Notification))) == []
