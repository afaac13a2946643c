"""Rights follow the roster on open sockets: a removed participant, a changed role, a
deactivated account, a reset password and a signed-out session take effect at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
import websockets
from sqlmodel import select

from server.live.hub import CLOSE_REPLACED, SOCKETS_PER_USER
from server.models import Annotation, Document, Meeting, MeetingStatus, Participant, User
from tests.conftest import PASSWORD
from tests.live import Tablet, close_all


@pytest.fixture
def hall(accounts, database):
    body = accounts.body()
    meeting = Meeting(
        body_id=body.id,
        title="Kỳ họp",
        starts_at=datetime(2026, 12, 15, tzinfo=UTC),
        status=MeetingStatus.live,
    )
    database.add(meeting)
    database.commit()
    accounts.user("thuky", role="secretary", body=body)
    for username, role in (
        ("chutoa", "chair"),
        ("daibieu01", "delegate"),
        ("daibieu02", "delegate"),
    ):
        accounts.join(accounts.user(username), meeting.id, role)
    paper = Document(meeting_id=meeting.id, title="Tờ trình", sha256="a" * 64, page_count=10)
    database.add(paper)
    database.commit()
    return {"meeting": meeting.id, "paper": paper.id}


async def tablet(served, username, meeting_id):
    device = await (await Tablet(served, username).sign_in()).connect(meeting_id)
    await device.request("hello", since=None)
    return device


async def closed_with(device: Tablet, within: float = 3) -> tuple[int, float]:
    """The close code the server ended the socket with, and how long it took."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        try:
            while True:
                await device.receive(within)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006, time.monotonic() - start


def user_id(database, username: str) -> int:
    return database.exec(select(User.id).where(User.username == username)).one()


def shared_mark(document_id: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "document_id": document_id,
        "page": 1,
        "kind": "ink",
        "data": {"points": [[0.1, 0.1], [0.2, 0.2]]},
        "visibility": "meeting",
    }


async def test_a_removed_delegate_is_cut_off_at_once_and_can_do_nothing_more(
    served, hall, database
):
    secretary = await Tablet(served, "thuky").sign_in()
    chair = await tablet(served, "chutoa", hall["meeting"])
    delegate = await tablet(served, "daibieu01", hall["meeting"])
    removed = await secretary.http.delete(
        f"/api/meetings/{hall['meeting']}/participants/{user_id(database, 'daibieu01')}",
        headers={"X-CSRFToken": secretary.http.cookies["csrftoken"]},
    )
    assert removed.status_code == 204
    code, _ = await closed_with(delegate)
    assert code == 4403
    await chair.request("page.present", document_id=hall["paper"], page=4)
    again = await delegate.http.get(f"/api/documents/{hall['paper']}")
    assert again.status_code == 404
    with pytest.raises(websockets.ConnectionClosed):
        await tablet(served, "daibieu01", hall["meeting"])  # a new socket is refused as well
    await close_all(chair, delegate, secretary)


async def test_what_a_removed_delegate_sends_before_the_close_is_refused(served, hall, database):
    """The socket is closed within the check; anything it sends meanwhile changes nothing."""
    delegate = await tablet(served, "daibieu01", hall["meeting"])
    participant = database.exec(
        select(Participant).where(Participant.user_id == user_id(database, "daibieu01"))
    ).one()
    database.delete(participant)
    database.commit()
    answers = []
    try:
        while True:  # until the server closes it
            answers.append(
                await delegate.request("annotation.put", annotation=shared_mark(hall["paper"]))
            )
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd.code == 4403
    stored = database.exec(select(Annotation)).all()
    accepted = [a for a in answers if a["type"] == "ack"]
    # every acked mark is kept; at most the one running when the check came also is (its
    # ack goes with the close), and nothing sent after it
    assert len(accepted) <= len(stored) <= len(accepted) + 1
    await delegate.close()


async def test_a_chair_made_observer_loses_the_chair_at_once_and_is_told(served, hall, database):
    chair = await tablet(served, "chutoa", hall["meeting"])
    delegate = await tablet(served, "daibieu01", hall["meeting"])
    assert (await chair.request("page.present", document_id=hall["paper"], page=2))["type"] == "ack"
    row = database.exec(
        select(Participant).where(Participant.user_id == user_id(database, "chutoa"))
    ).one()
    row.role = "observer"
    database.add(row)
    database.commit()
    told = await chair.until(lambda m: m["type"] == "access.changed")
    assert told["role"] == "observer" and told["can"]["preside"] is False
    refused = await chair.request("page.present", document_id=hall["paper"], page=3)
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert not [m for m in await delegate.quiet(0.3) if m.get("page") == 3]
    await close_all(chair, delegate)


async def test_a_chair_removed_and_added_back_as_observer_cannot_present(served, hall, database):
    """The reproduction: DELETE then POST with role observer while the chair's socket is open."""
    secretary = await Tablet(served, "thuky").sign_in()
    chair = await tablet(served, "chutoa", hall["meeting"])
    csrf = {"X-CSRFToken": secretary.http.cookies["csrftoken"]}
    base = f"/api/meetings/{hall['meeting']}/participants"
    gone = await secretary.http.delete(f"{base}/{user_id(database, 'chutoa')}", headers=csrf)
    assert gone.status_code == 204
    back = await secretary.http.post(
        base, json={"username": "chutoa", "role": "observer"}, headers=csrf
    )
    assert back.status_code == 201
    try:
        answer = await chair.request("page.present", document_id=hall["paper"], page=5)
        assert answer["type"] == "error"
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd.code == 4403
    await close_all(chair, secretary)


async def test_a_deactivated_account_is_cut_off(served, hall, database):
    delegate = await tablet(served, "daibieu01", hall["meeting"])
    account = database.get(User, user_id(database, "daibieu01"))
    account.active = False
    database.add(account)
    database.commit()
    code, _ = await closed_with(delegate)
    assert code == 4403
    assert (await delegate.http.get(f"/api/meetings/{hall['meeting']}")).status_code == 401
    await delegate.close()


async def test_a_password_reset_ends_the_open_sockets(served, hall, database, accounts):
    delegate = await tablet(served, "daibieu01", hall["meeting"])
    account = database.get(User, user_id(database, "daibieu01"))
    account.password_hash = accounts.passwords.hash_now("mat-khau-moi-2026")
    database.add(account)
    database.commit()
    code, _ = await closed_with(delegate)
    assert code == 4403
    await delegate.close()


async def test_signing_out_ends_that_sessions_sockets_only(served, hall):
    phone = await tablet(served, "daibieu01", hall["meeting"])
    desk = await tablet(served, "daibieu01", hall["meeting"])  # another sign-in of the same person
    out = await phone.http.post(
        "/logout", json={}, headers={"X-CSRFToken": phone.http.cookies["csrftoken"]}
    )
    assert out.status_code == 200
    code, _ = await closed_with(phone)
    assert code == 4403
    assert (await desk.request("follow", on=True))["type"] == "ack"
    await close_all(phone, desk)


async def test_a_sixth_socket_of_one_account_closes_the_oldest(served, hall):
    devices = [await tablet(served, "daibieu01", hall["meeting"]) for _ in range(SOCKETS_PER_USER)]
    newest = await tablet(served, "daibieu01", hall["meeting"])
    code, _ = await closed_with(devices[0])
    assert code == CLOSE_REPLACED
    for device in [*devices[1:], newest]:
        assert (await device.request("follow", on=True))["type"] == "ack"
    await close_all(*devices, newest)


async def test_signing_in_again_ends_the_old_sessions_sockets(served, hall):
    device = await tablet(served, "daibieu01", hall["meeting"])
    again = await device.http.post(  # the old session cookie goes with it
        "/login",
        json={"username": "daibieu01", "password": PASSWORD},
        headers={"X-CSRFToken": device.http.cookies["csrftoken"]},
    )
    assert again.status_code == 200
    code, _ = await closed_with(device)
    assert code == 4403
    await device.close()


async def test_sockets_opened_at_once_into_an_empty_meeting_are_counted_too(served, hall):
    signed_in = await Tablet(served, "daibieu01").sign_in()
    devices = []
    for _ in range(SOCKETS_PER_USER + 3):
        device = Tablet(served, "daibieu01")
        device.http.cookies.update(signed_in.http.cookies)
        devices.append(device)
    await asyncio.gather(*(d.connect(hall["meeting"]) for d in devices))
    answers = await asyncio.gather(
        *(d.request("hello", since=None) for d in devices), return_exceptions=True
    )
    alive = [a for a in answers if isinstance(a, dict) and a["type"] == "ack"]
    assert len(alive) == SOCKETS_PER_USER
    await close_all(signed_in, *devices)
