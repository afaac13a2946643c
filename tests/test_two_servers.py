"""Two real `phonghop serve` processes on one PostgreSQL database and one Redis: a meeting
followed across both, ballots counted once, a tablet that moves between them misses nothing,
and the journal's `seq` stays gapless and in order under writers on both."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from server import db
from server.models import (
    Ballot,
    BallotCast,
    Document,
    JournalEvent,
    Meeting,
    MeetingStatus,
    Vote,
)
from server.settings import Settings
from tests.browser import free_port
from tests.conftest import Accounts, need
from tests.live import Tablet, close_all

pytestmark = pytest.mark.postgres

POSTGRES_URL = os.environ.get("PHONGHOP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PHONGHOP_TEST_REDIS", "redis://127.0.0.1:6379/0")
DELEGATES = 24


@dataclass
class Server:
    """One `phonghop serve` process, as `Tablet` needs it."""

    url: str
    process: subprocess.Popen[bytes]


@dataclass
class Cluster:
    a: Server
    b: Server
    engine: sa.Engine
    accounts: Accounts


def _listening(url: str) -> bool:
    host, port = sa.engine.make_url(url).host or "127.0.0.1", sa.engine.make_url(url).port
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _phonghop(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "phonghop"), *args]


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated by `phonghop db upgrade`."""
    need(_listening(POSTGRES_URL), "PostgreSQL is not running on 127.0.0.1:5432")
    name = f"phonghop_two_{secrets.token_hex(4)}"
    admin = sa.create_engine(
        db.driver_url(POSTGRES_URL, asynchronous=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _start(port: int, env: dict[str, str]) -> Server:
    command = _phonghop("serve", "--host", "127.0.0.1", "--port", str(port))
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    return Server(url, process)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"phonghop serve exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.url} did not come up")


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="module")
def cluster(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need(_listening(REDIS_URL), "Redis is not running on 127.0.0.1:6379")
    data_dir = tmp_path_factory.mktemp("shared-data")
    ports = free_port(), free_port()
    origins = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    env = {
        **os.environ,
        "PHONGHOP_DATA_DIR": str(data_dir),
        "PHONGHOP_DATABASE_URL": database_url,
        "PHONGHOP_REDIS_URL": REDIS_URL,
        "PHONGHOP_REDIS_PREFIX": f"test-{secrets.token_hex(4)}",  # Redis pub/sub ignores DB numbers
        "PHONGHOP_SECRET_KEY": secrets.token_urlsafe(32),
        "PHONGHOP_ALLOWED_ORIGINS": origins,
        "PHONGHOP_RENDER_WORKERS": "1",
        "PHONGHOP_LOG_LEVEL": "WARNING",
    }
    subprocess.run(_phonghop("db", "upgrade"), env=env, check=True)
    engine = db.make_sync_engine(database_url)
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key="seed")
    servers = [_start(port, env) for port in ports]
    try:
        for server in servers:
            _wait_until_up(server)
        with Session(engine, expire_on_commit=False) as session:
            accounts = Accounts(session, settings)
            yield Cluster(servers[0], servers[1], engine, accounts)
            accounts.passwords.close()
    finally:
        for server in servers:
            _stop(server)
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
