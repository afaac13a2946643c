"""Two real `phonghop serve` processes and a `phonghop bridge` on one PostgreSQL database and
one Redis: a meeting followed across both, ballots counted once, a tablet that moves between
them misses nothing, the journal's `seq` stays gapless and in order under writers on both,
and one conference in the bridge process for points joined through either server."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
import pymupdf
import pytest
import sqlalchemy as sa
import websockets
from sqlmodel import Session, select

from bench.harness import (
    Deadline,
    Server,
    free_port,
    phonghop_command,
    phonghop_executable,
    running_server,
    running_servers,
    server_env,
)
from recorder import files
from server import db
from server.models import (
    Ballot,
    BallotCast,
    Document,
    JournalEvent,
    Meeting,
    MeetingStatus,
    Recording,
    User,
    Vote,
)
from server.settings import Settings
from tests.conftest import PASSWORD, Accounts, listening, need, throwaway_postgres
from tests.live import Tablet, close_all
from tests.points import Point, PointError, mean_rgb

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("PHONGHOP_TEST_REDIS", "redis://127.0.0.1:6379/0")
DELEGATES = 24
RED, GREEN = (220, 30, 30), (30, 200, 40)


@dataclass
class Cluster:
    a: Server
    b: Server
    bridge: Server
    env: dict[str, str]
    engine: sa.Engine
    accounts: Accounts


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated by `phonghop db upgrade`."""
    with throwaway_postgres("phonghop_two") as url:
        yield url


@pytest.fixture(scope="module")
def cluster(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need(listening(REDIS_URL), "Redis is not running on 127.0.0.1:6379")
    data_dir = tmp_path_factory.mktemp("shared-data")
    ports, bridge_port = [free_port(), free_port()], free_port()
    origins = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    env = {
        **server_env(data_dir),
        "PHONGHOP_DATABASE_URL": database_url,
        "PHONGHOP_REDIS_URL": REDIS_URL,
        "PHONGHOP_REDIS_PREFIX": f"test-{secrets.token_hex(4)}",  # Redis pub/sub ignores DB numbers
        "PHONGHOP_SECRET_KEY": secrets.token_urlsafe(32),
        "PHONGHOP_ALLOWED_ORIGINS": origins,
        "PHONGHOP_RENDER_WORKERS": "1",
        "PHONGHOP_BRIDGE_URLS": f"http://127.0.0.1:{bridge_port}",
    }
    phonghop_command(["db", "upgrade"], env, Deadline(60))
    engine = db.make_sync_engine(database_url)
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key="seed")
    try:
        with (
            running_servers(ports, env) as (a, b),
            running_server(bridge_port, env, command="bridge") as bridge,
        ):
            for server in (a, b, bridge):
                server.wait_healthy()
            with Session(engine, expire_on_commit=False) as session:
                accounts = Accounts(session, settings)
                yield Cluster(a, b, bridge, env, engine, accounts)
                accounts.passwords.close()
    finally:
        engine.dispose()


def _meeting(cluster: Cluster) -> dict[str, Any]:
    """A live meeting with a chair, a secretary and the delegates, and a ten-page paper."""
    accounts = cluster.accounts
    body = accounts.body()
    meeting = Meeting(
        body_id=body.id,
        title="Kỳ họp chung",
        starts_at=datetime(2026, 12, 15, tzinfo=UTC),
        status=MeetingStatus.live,
    )
    accounts.session.add(meeting)
    accounts.session.commit()
    tag = f"m{meeting.id}"
    chair, secretary = f"{tag}chair", f"{tag}thuky"
    accounts.join(accounts.user(chair), meeting.id, "chair")
    accounts.join(accounts.user(secretary), meeting.id, "secretary")
    delegates = [f"{tag}db{n:02}" for n in range(DELEGATES)]
    for username in delegates:
        accounts.join(accounts.user(username), meeting.id, "delegate")
    paper = Document(meeting_id=meeting.id, title="Tờ trình", sha256="a" * 64, page_count=10)
    accounts.session.add(paper)
    accounts.session.commit()
    return {
        "id": meeting.id,
        "paper": paper.id,
        "chair": chair,
        "secretary": secretary,
        "delegates": delegates,
    }


async def _tablet(server: Server, username: str, meeting_id: int, since: Any = None) -> Tablet:
    device = await (await Tablet(server, username).sign_in()).connect(meeting_id)
    await device.request("hello", since=since)
    return device


async def _moved(device: Tablet, server: Server, meeting_id: int) -> Tablet:
    """The same signed-in tablet (same session cookie) on another server."""
    moved = Tablet(server, device.username)
    moved.http.cookies.update(device.http.cookies)
    await moved.connect(meeting_id)
    return moved


def _journal(cluster: Cluster, meeting_id: int) -> list[JournalEvent]:
    with Session(cluster.engine) as session:
        rows = session.exec(
            select(JournalEvent)
            .where(JournalEvent.meeting_id == meeting_id)
            .order_by(JournalEvent.seq)  # type: ignore[arg-type]
        )
        return list(rows.all())


def _journaled_seqs(device: Tablet) -> list[int]:
    return [m["seq"] for m in device.inbox if m.get("type") != "ack" and "seq" in m]


def _event(seq: int) -> Any:
    """Matches the journaled event `seq` (not an ack that carries it)."""
    return lambda m: m.get("seq") == seq and m["type"] != "ack"


async def _settled(devices: list[Tablet], last_seq: int, within: float = 10) -> None:
    """Waits until every tablet has been sent the event `last_seq`."""
    await asyncio.gather(*(d.until(_event(last_seq), within) for d in devices))


async def test_delegates_on_the_other_server_follow_the_chair(cluster):
    meeting = _meeting(cluster)
    chair = await _tablet(cluster.a, meeting["chair"], meeting["id"])
    followers = await asyncio.gather(
        *(_tablet(cluster.b, name, meeting["id"]) for name in meeting["delegates"][:3])
    )
    ack = await chair.request("page.present", document_id=meeting["paper"], page=4)
    assert ack["type"] == "ack", ack
    for delegate in followers:
        event = await delegate.until(lambda m: m["type"] == "page.presented")
        assert (event["seq"], event["page"], event["document_id"]) == (
            ack["seq"],
            4,
            meeting["paper"],
        )
    await close_all(chair, *followers)


async def test_ballots_through_both_servers_are_counted_once_each(cluster):
    meeting = _meeting(cluster)
    chair = await (await Tablet(cluster.a, meeting["chair"]).sign_in()).connect(meeting["id"])
    csrf = {"X-CSRFToken": chair.http.cookies["csrftoken"]}
    made = await chair.http.post(
        f"/api/meetings/{meeting['id']}/votes", json={"title": "Thông qua"}, headers=csrf
    )
    vote_id = made.json()["id"]
    opened = await chair.http.post(f"/api/votes/{vote_id}/open", headers=csrf)
    assert opened.status_code == 200, opened.text
    servers = (cluster.a, cluster.b)
    delegates = await asyncio.gather(
        *(
            _tablet(servers[n % 2], name, meeting["id"])
            for n, name in enumerate(meeting["delegates"])
        )
    )

    async def cast_twice(n: int, device: Tablet) -> list[bool]:
        """Over the socket on one server and over HTTP on the other, at the same time."""
        other = servers[(n + 1) % 2].url
        over_socket = device.request("vote.cast", vote_id=vote_id, option="yes")
        over_http = device.http.post(
            f"{other}/api/votes/{vote_id}/ballots",
            json={"option": "yes"},
            headers={"X-CSRFToken": device.http.cookies["csrftoken"]},
        )
        answer, response = await asyncio.gather(over_socket, over_http)
        assert response.status_code in (201, 409), response.text
        return [answer["type"] == "ack", response.status_code == 201]

    outcomes = await asyncio.gather(*(cast_twice(n, d) for n, d in enumerate(delegates)))
    assert all(sum(taken) == 1 for taken in outcomes), outcomes
    closes = await asyncio.gather(  # the chair closes on both servers at once: one close
        *(chair.http.post(f"{s.url}/api/votes/{vote_id}/close", headers=csrf) for s in servers)
    )
    assert closes[0].json()["result"] == closes[1].json()["result"]
    result = closes[0].json()["result"]
    assert result["voters"] == DELEGATES and result["tally"]["yes"] == DELEGATES
    with Session(cluster.engine) as session:
        casts = session.exec(select(BallotCast).where(BallotCast.vote_id == vote_id)).all()
        ballots = session.exec(select(Ballot).where(Ballot.vote_id == vote_id)).all()
        assert len(casts) == len({c.voter_id for c in casts}) == DELEGATES
        assert sum(b.weight for b in ballots) == DELEGATES
        assert session.get(Vote, vote_id).status == "closed"
    closes = [e for e in _journal(cluster, meeting["id"]) if e.type == "vote.closed"]
    assert len(closes) == 1
    await close_all(chair, *delegates)


async def test_one_delegate_casting_forty_times_on_both_servers_at_once_gets_one(cluster):
    """Each server writes two batches of a vote at once on PostgreSQL: one delegate's ballots
    from six tablets (three on each server) and HTTP on both, all at once, while the other
    delegates vote too: one ballot is kept, the rest are refused as already cast."""
    meeting = _meeting(cluster)
    chair = await (await Tablet(cluster.a, meeting["chair"]).sign_in()).connect(meeting["id"])
    csrf = {"X-CSRFToken": chair.http.cookies["csrftoken"]}
    made = await chair.http.post(
        f"/api/meetings/{meeting['id']}/votes", json={"title": "Một phiếu"}, headers=csrf
    )
    vote_id = made.json()["id"]
    assert (await chair.http.post(f"/api/votes/{vote_id}/open", headers=csrf)).status_code == 200
    servers = (cluster.a, cluster.b)
    keen, *others = meeting["delegates"]
    tablets = [await _tablet(servers[n % 2], keen, meeting["id"]) for n in range(6)]
    voters = await asyncio.gather(
        *(_tablet(servers[n % 2], name, meeting["id"]) for n, name in enumerate(others))
    )
    options = ("yes", "no", "abstain")

    async def by_http(n: int) -> str:
        device = tablets[n % 6]
        answer = await device.http.post(
            f"{servers[n % 2].url}/api/votes/{vote_id}/ballots",
            json={"option": options[n % 3]},
            headers={"X-CSRFToken": device.http.cookies["csrftoken"]},
        )
        return "ack" if answer.status_code == 201 else answer.json()["code"]

    def answered(answer: dict[str, Any]) -> str:
        return "ack" if answer["type"] == "ack" else answer["code"]

    casts = [(tablets[n % 6], options[n % 3]) for n in range(30)]
    casts += [(device, "yes") for device in voters]
    sent, over_http = await asyncio.gather(
        asyncio.gather(
            *(device.send("vote.cast", vote_id=vote_id, option=o) for device, o in casts)
        ),
        asyncio.gather(*(by_http(n) for n in range(10))),
    )
    answers = [
        answered(await device.answer(i, within=30))
        for (device, _), i in zip(casts, sent, strict=True)
    ]
    keen_answers, other_answers = answers[:30] + over_http, answers[30:]
    assert sorted(keen_answers) == ["ack"] + ["already_voted"] * 39
    assert set(other_answers) == {"ack"}
    with Session(cluster.engine) as session:
        stored = session.exec(select(BallotCast).where(BallotCast.vote_id == vote_id)).all()
        ballots = session.exec(select(Ballot).where(Ballot.vote_id == vote_id)).all()
        assert len(stored) == len({c.voter_id for c in stored}) == DELEGATES
        assert len(ballots) == len({b.voter_id for b in ballots}) == DELEGATES
    await close_all(chair, *tablets, *voters)


async def test_a_tablet_moving_to_the_other_server_resumes_without_a_gap(cluster):
    meeting = _meeting(cluster)
    chair_a = await _tablet(cluster.a, meeting["chair"], meeting["id"])
    chair_b = await _tablet(cluster.b, meeting["chair"], meeting["id"])
    delegate = await _tablet(cluster.a, meeting["delegates"][0], meeting["id"])
    for page in (1, 2, 3):
        await chair_b.request("page.present", document_id=meeting["paper"], page=page)
    seen = _journal(cluster, meeting["id"])[-1].seq
    await _settled([delegate], seen)
    await delegate.close()

    missed = []
    for page in (4, 5, 6, 7, 8):
        chair = chair_a if page % 2 else chair_b
        missed.append(
            (await chair.request("page.present", document_id=meeting["paper"], page=page))["seq"]
        )
    moved = await _moved(delegate, cluster.b, meeting["id"])
    ack = await moved.request("hello", since=seen)
    expected = [e for e in _journal(cluster, meeting["id"]) if e.seq > seen]
    assert (
        ack["type"] == "ack" and ack["replayed"] == len(expected) and ack["seq"] == expected[-1].seq
    )
    replayed = [m for m in moved.inbox if m["type"] != "ack" and "seq" in m]
    assert [(m["seq"], m["type"]) for m in replayed] == [(e.seq, e.type) for e in expected]
    assert [m["page"] for m in replayed if m["type"] == "page.presented"] == [4, 5, 6, 7, 8]
    assert set(missed) <= {m["seq"] for m in replayed}

    live = await chair_a.request("page.present", document_id=meeting["paper"], page=9)
    event = await moved.until(lambda m: m["type"] == "page.presented" and m["page"] == 9)
    assert event["seq"] == live["seq"] == expected[-1].seq + 1
    await close_all(chair_a, chair_b, moved)


async def test_concurrent_writers_on_both_servers_keep_seq_gapless_and_in_order(cluster):
    meeting = _meeting(cluster)
    writers = await asyncio.gather(
        *(
            _tablet(server, name, meeting["id"])
            for server in (cluster.a, cluster.b)
            for name in (meeting["chair"], meeting["secretary"])
        )
    )
    readers = await asyncio.gather(
        *(
            _tablet((cluster.a, cluster.b)[n % 2], name, meeting["id"], since=0)
            for n, name in enumerate(meeting["delegates"][:6])
        )
    )

    async def turn_pages(device: Tablet) -> list[int]:
        seqs = []
        for page in range(1, 11):
            ack = await device.request("page.present", document_id=meeting["paper"], page=page)
            assert ack["type"] == "ack", ack
            seqs.append(ack["seq"])
        return seqs

    acked = [s for seqs in await asyncio.gather(*(turn_pages(w) for w in writers)) for s in seqs]
    journal = _journal(cluster, meeting["id"])
    assert [e.seq for e in journal] == list(range(1, len(journal) + 1))
    assert len(acked) == len(set(acked)) == 40
    await _settled(readers, journal[-1].seq)
    for reader in readers:
        got = _journaled_seqs(reader)
        # every event once, in seq order, whichever server wrote it (after the catch-up)
        assert got == list(range(got[0], journal[-1].seq + 1)), got
    await close_all(*writers, *readers)


async def test_an_event_journaled_but_never_published_is_read_from_the_journal(cluster):
    """As if a server died between its commit and its publish: the tablets still get it."""
    meeting = _meeting(cluster)
    chair = await _tablet(cluster.a, meeting["chair"], meeting["id"])
    delegate = await _tablet(cluster.b, meeting["delegates"][0], meeting["id"])
    with Session(cluster.engine) as session:
        bump = (
            sa.update(Meeting)
            .where(Meeting.id == meeting["id"])  # type: ignore[arg-type]
            .values(last_seq=Meeting.last_seq + 1)
            .returning(Meeting.last_seq)
        )
        lost = session.exec(bump).scalar_one()  # type: ignore[call-overload]
        session.add(JournalEvent(meeting_id=meeting["id"], seq=lost, type="lost.event"))
        session.commit()
    ack = await chair.request("page.present", document_id=meeting["paper"], page=2)
    assert ack["seq"] == lost + 1
    got = [await delegate.until(_event(seq)) for seq in (lost, lost + 1)]
    assert [m["type"] for m in got] == ["lost.event", "page.presented"]
    assert delegate.inbox.index(got[0]) < delegate.inbox.index(got[1])
    await close_all(chair, delegate)


def _conference_meeting(cluster: Cluster) -> dict[str, Any]:
    """A live meeting with a chair, a secretary and two ward points."""
    accounts = cluster.accounts
    meeting = Meeting(
        body_id=accounts.body().id,
        title="Kỳ họp trực tuyến",
        starts_at=datetime(2026, 12, 15, tzinfo=UTC),
        status=MeetingStatus.live,
    )
    accounts.session.add(meeting)
    accounts.session.commit()
    people: dict[str, Any] = {"id": meeting.id}
    for who, role in [("chair", "chair"), ("thuky", "secretary"), ("p1", "ward_point")]:
        user = accounts.user(f"m{meeting.id}{who}")
        accounts.join(user, meeting.id, role)
        people[who] = user
    people["p2"] = accounts.user(f"m{meeting.id}p2")
    accounts.join(people["p2"], meeting.id, "ward_point")
    return people


async def _snapshot(server: Server, username: str, meeting_id: int) -> dict[str, Any]:
    device = await _tablet(server, username, meeting_id)
    snapshot = await device.until(lambda m: m["type"] == "snapshot")
    await device.close()
    return snapshot["state"]


async def test_one_conference_in_the_bridge_process_for_points_on_both_servers(cluster):
    people = _conference_meeting(cluster)
    meeting_id, p1, p2 = people["id"], people["p1"], people["p2"]
    chair = await _tablet(cluster.a, people["chair"].username, meeting_id)
    first = await Point(cluster.a.url, p1.username, meeting_id, RED, 440.0).join()
    second = await Point(cluster.b.url, p2.username, meeting_id, GREEN, 700.0).join()
    await asyncio.gather(first.wait_for_colour(RED), second.wait_for_colour(RED))
    # the bridge tells the point on server B, through Redis, to send thumbnails
    assert (await second.wait_for_event("rtc.send"))["quality"] == "thumb"

    seen = len(second.events)
    picked = await chair.request("rtc.pick", point=p2.id)  # the chair is on A
    assert picked["type"] == "ack", picked
    await asyncio.gather(first.wait_for_colour(GREEN), second.wait_for_colour(GREEN))
    assert (await second.wait_for_event("rtc.send", after=seen))["quality"] == "full"
    await asyncio.sleep(1)
    assert min(first.received_fps(1.0), second.received_fps(1.0)) >= 12

    # the console's snapshot on B shows the bridge's conference; a refusal comes through it
    console = (await _snapshot(cluster.b, people["thuky"].username, meeting_id))["conference"]
    assert sorted(point["user_id"] for point in console["points"]) == sorted([p1.id, p2.id])
    assert console["program"] == {"source": p2.id, "auto": False}
    refused = await chair.request("rtc.pick", point=people["thuky"].id)
    assert (refused["type"], refused["code"]) == ("error", "no_point")
    assert refused["message"].startswith("Điểm cầu")  # translated by the server, not the bridge

    await _record_a_segment(cluster, meeting_id)  # the recorder's own process, through B

    await asyncio.gather(first.leave(), second.leave())
    changes = await _journaled(cluster, meeting_id, "conference.changed")
    assert [c["change"] for c in changes] == ["joined", "joined", "picked", "left", "left"]
    assert (await _snapshot(cluster.a, people["chair"].username, meeting_id))["conference"] is None
    await chair.close()


async def _record_a_segment(cluster: Cluster, meeting_id: int) -> None:
    command = ["recorder", "--meeting", str(meeting_id), "--server", cluster.b.url]
    recorder = await asyncio.create_subprocess_exec(
        phonghop_executable(), *command, env=cluster.env
    )
    data_dir = Path(cluster.env["PHONGHOP_DATA_DIR"])
    try:
        async with asyncio.timeout(30):
            pattern = f"recordings/{meeting_id}/*/{files.SEGMENTS}/*.ts"
            while not await asyncio.to_thread(lambda: list(data_dir.glob(pattern))):
                assert recorder.returncode is None, "the recorder stopped"
                await asyncio.sleep(0.2)
        recorder.terminate()
        assert await asyncio.wait_for(recorder.wait(), 20) == 0
    finally:
        if recorder.returncode is None:
            recorder.kill()
    with Session(cluster.engine) as session:
        recording = session.exec(select(Recording).where(Recording.meeting_id == meeting_id)).one()
    assert recording.status == "done" and recording.duration_s >= 4
    with av.open(str(data_dir / recording.path / files.JOINED)) as joined:
        picture = next(joined.decode(video=0))
    assert max(abs(a - b) for a, b in zip(mean_rgb(picture), GREEN, strict=True)) <= 25


async def test_servers_without_their_bridge_refuse_calls_clearly_and_keep_serving(cluster):
    people = _conference_meeting(cluster)
    meeting_id = people["id"]
    cluster.bridge.stop()
    try:
        point = Point(cluster.b.url, people["p1"].username, meeting_id)
        with pytest.raises(PointError, match="HTTP 503.*bridge_unavailable"):
            await point.join()
        await point.leave()
        state = await _snapshot(cluster.a, people["chair"].username, meeting_id)
        assert state["conference"] is None  # a hello still works
    finally:
        cluster.bridge.start()
        await cluster.bridge.healthy()
    again = await Point(cluster.b.url, people["p1"].username, meeting_id).join()
    await again.leave()


async def test_the_bridge_takes_calls_from_the_servers_only(cluster):
    async with httpx.AsyncClient(base_url=cluster.bridge.url) as http:
        assert (await http.get("/bridge/meetings/1/view?console=true")).status_code == 401
        forged = {"Authorization": "Bearer guess"}
        answer = await http.post("/bridge/meetings/1/points", headers=forged, json={})
        assert (answer.status_code, answer.json()["code"]) == (401, "not_server")


async def _journaled(cluster: Cluster, meeting_id: int, type: str) -> list[dict[str, Any]]:
    with Session(cluster.engine) as session:
        query = (
            select(JournalEvent)
            .where(JournalEvent.meeting_id == meeting_id, JournalEvent.type == type)
            .order_by(JournalEvent.seq)  # type: ignore[arg-type]
        )
        return [event.payload for event in session.exec(query)]


async def test_failed_logins_on_both_servers_count_together(cluster):
    username = cluster.accounts.user(f"thu{secrets.token_hex(3)}").username
    clients = [httpx.AsyncClient(base_url=s.url) for s in (cluster.a, cluster.b)]
    try:
        for client in clients:
            await client.get("/login")

        async def log_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
            csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
            credentials = {"username": username, "password": password}
            return await client.post("/login", json=credentials, headers=csrf)

        limit = Settings.from_env().login_max_failures
        for n in range(limit):
            assert (await log_in(clients[n % 2], "sai")).status_code == 401
        refused = await log_in(clients[limit % 2], PASSWORD)
        assert (refused.status_code, refused.json()["code"]) == (429, "login_throttled")
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def test_a_timed_vote_closes_on_time_when_the_server_that_opened_it_stops(cluster):
    meeting = _meeting(cluster)
    chair = await (await Tablet(cluster.a, meeting["chair"]).sign_in()).connect(meeting["id"])
    delegate = await _tablet(cluster.b, meeting["delegates"][0], meeting["id"])
    csrf = {"X-CSRFToken": chair.http.cookies["csrftoken"]}
    order = {"title": "Biểu quyết có thời hạn", "duration_s": 5}
    made = await chair.http.post(f"/api/meetings/{meeting['id']}/votes", json=order, headers=csrf)
    vote_id = made.json()["id"]
    assert (await chair.http.post(f"/api/votes/{vote_id}/open", headers=csrf)).status_code == 200
    await chair.close()
    cluster.a.stop()
    try:
        closed = await delegate.until(lambda m: m["type"] == "vote.closed", within=15)
        assert closed["vote"]["id"] == vote_id
    finally:
        cluster.a.start()
        await cluster.a.healthy()
    with Session(cluster.engine) as session:
        vote = session.get(Vote, vote_id)
        late = (vote.closed_at - vote.opened_at).total_seconds() - 5
    assert 0 <= late < 1.5, late
    assert len([e for e in _journal(cluster, meeting["id"]) if e.type == "vote.closed"]) == 1
    await delegate.close()


async def test_who_is_online_is_seen_from_both_servers(cluster):
    meeting = _meeting(cluster)
    delegate = meeting["delegates"][0]
    secretary = await _tablet(cluster.a, meeting["secretary"], meeting["id"])
    on_b = await _tablet(cluster.b, delegate, meeting["id"])
    await asyncio.sleep(1.2)  # servers share who came twice a second
    people = (await _snapshot(cluster.a, meeting["secretary"], meeting["id"]))["attendance"]
    online = {p["name"]: p["online"] for p in people["people"]}
    assert sum(online.values()) == 2, online  # the secretary on A, the delegate on B
    delegate_id = next(
        p["user_id"] for p in people["people"] if p["online"] and p["role"] == "delegate"
    )

    def offline(message: dict[str, Any]) -> bool:
        return message["type"] == "presence.changed" and message == {
            "type": "presence.changed",
            "user_id": delegate_id,
            "online": False,
        }

    on_a = await _tablet(cluster.a, delegate, meeting["id"])  # a second device, on A
    await on_b.close()
    assert not [m for m in await secretary.quiet(1.0) if offline(m)]  # still there, on A
    await on_a.close()
    await secretary.until(offline)
    await secretary.close()


async def test_a_book_built_on_one_server_shows_its_progress_on_the_other(cluster):
    meeting = _meeting(cluster)
    secretary = await Tablet(cluster.a, meeting["secretary"]).sign_in()
    csrf = {"X-CSRFToken": secretary.http.cookies["csrftoken"]}
    made = await secretary.http.post(
        f"/api/meetings/{meeting['id']}/items", json={"title": "Ngân sách"}, headers=csrf
    )
    with pymupdf.open() as pdf:
        for n in range(3):
            pdf.new_page().insert_text((72, 72), f"Trang {n + 1}")
        paper = pdf.tobytes()
    uploaded = await secretary.http.post(
        f"/api/items/{made.json()['id']}/documents",
        files={"file": ("du-toan.pdf", paper, "application/pdf")},
        headers=csrf,
    )
    assert uploaded.status_code == 201, uploaded.text
    started = await secretary.http.post(f"/api/meetings/{meeting['id']}/publish", headers=csrf)
    assert started.status_code == 202, started.text
    on_b = f"{cluster.b.url}/api/meetings/{meeting['id']}/publish"
    for _ in range(300):  # polled on B, as the editor's page behind a load balancer may
        status = (await secretary.http.get(on_b)).json()
        if status["state"] != "running":
            break
        await asyncio.sleep(0.1)
    assert (status["state"], status["version"]) == ("done", 1), status
    await secretary.close()


async def _closed_with(device: Tablet, within: float = 5) -> int:
    async with asyncio.timeout(within):
        try:
            while True:
                await device.receive(within)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


async def test_rights_changed_on_one_server_reach_sockets_on_the_other(cluster):
    meeting = _meeting(cluster)
    removed, signed_out = meeting["delegates"][:2]
    secretary = await Tablet(cluster.a, meeting["secretary"]).sign_in()
    on_b = await _tablet(cluster.b, removed, meeting["id"])
    with Session(cluster.engine) as session:
        removed_id = session.exec(select(User.id).where(User.username == removed)).one()
    started = time.monotonic()
    gone = await secretary.http.delete(
        f"/api/meetings/{meeting['id']}/participants/{removed_id}",
        headers={"X-CSRFToken": secretary.http.cookies["csrftoken"]},
    )
    assert gone.status_code == 204
    assert await _closed_with(on_b) == 4403
    assert time.monotonic() - started < 2  # within a second, with room for a busy machine

    on_a = await _tablet(cluster.a, signed_out, meeting["id"])
    moved = await _moved(on_a, cluster.b, meeting["id"])  # the same session, on server B
    await moved.request("hello", since=None)
    out = await on_a.http.post(
        "/logout", json={}, headers={"X-CSRFToken": on_a.http.cookies["csrftoken"]}
    )
    assert out.status_code == 200
    assert await _closed_with(moved) == 4403
    assert await _closed_with(on_a) == 4403
    await close_all(secretary, on_b, on_a, moved)
