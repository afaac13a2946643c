"""Soak: 500 tablets on two servers for ten minutes, one server restarted midway; afterwards
every annotation, ballot and journaled event is accounted for.

Two `phonghop serve` processes (ports `--port` and `--port`+1) share a throwaway PostgreSQL
database and Redis (bench/cluster.py). `--clients` delegates of meeting 1 (bench/hall.py's
setup: demo council plus imported accounts, all signed in) are real websocket tablets in two
client processes, half homed on each server. A tablet speaks the app's protocol: hello with
`since` (null the first time), an id on every message, waiting for its ack. When its socket
drops it reconnects to either server (random, with a jittered back-off), says hello with the
last `seq` it saw, and sends again whatever was still waiting for an answer (same message,
same annotation UUID: the server must not double it).

Every minute, for `--minutes`: the chair (`chutoa`, socket and HTTP on the first server) turns
three pages; a tenth of the tablets put an annotation (`annotation.put`, ink or note, private
or shared with the meeting); the chair creates and opens a yes/no/abstain vote over HTTP, every
tablet casts `vote.cast` at a random moment within 5 s while the chair turns six more pages (one
a second), the chair closes the vote once every cast is answered; three more pages. In the middle
minute, 1.5 s into the casting, the second server is stopped with SIGTERM and started again on
the same port, so its tablets miss page turns and catch up with `since` when they are back.
At the end the chair turns one last page and every tablet must reach it.

Checked afterwards, from the database and from what each tablet saw:
- every acked annotation is stored once, owned by its tablet's user, journaled once;
- per vote: the ballots stored are exactly the voters whose cast was acked (or refused as
  `already_voted` on a resend, i.e. stored before the socket dropped), the result's `voters`
  equals that count, and each stored choice is the one sent;
- every tablet got each journaled event it may see (public, or private to its user) after its
  first snapshot exactly once, in `seq` order, with no gap, and none it may not see;
- every tablet ends on the chair's last presented page.
Also reported: reconnect times, page.presented latency (arrival minus the chair's send, live
deliveries only, one CLOCK_MONOTONIC for all processes), cast->ack and vote.closed latency,
server CPU, the load average and what the servers logged.

Run from the project root:

    .venv/bin/python bench/soak.py [--clients 500] [--minutes 10] [--port 8775]

One JSON object goes to stdout (`"verdict": "pass"` or `"fail"`, with the reasons), progress to
stderr. Servers, client processes, the throwaway database and the temporary data dir are removed
at the end, also on errors, Ctrl-C and the overall timeout (`--timeout`, default the run's
length plus 15 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster import add_database_arguments, shared_environment
from hall import (
    CHAIR,
    CONNECT_CONCURRENCY,
    DEMO_PASSWORD,
    MEETING,
    expect,
    prepare_data_dir,
    prepare_phonghop,
    sign_in,
)
from harness import (
    BenchFailed,
    Children,
    Deadline,
    Server,
    children_running,
    logged_errors,
    percentile_ms,
    progress,
    raise_fd_limit,
    receive,
    run_benchmark,
    run_child,
    run_loop,
    running_servers,
    stop_on_sigterm,
)
from machine import CpuMark
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

OPTIONS = ("yes", "no", "abstain")
TURNS_PER_HALF = 3
TURNS_WHILE_VOTING = 6
TURN_GAP_S = 1.0
ANNOTATING_SHARE = 0.1
CAST_SPREAD_S = 5.0
RESTART_AFTER_S = 1.5  # into the middle minute's casting
RESTART_GRACE_S = 30  # for the SIGTERM'd server to stop by itself, then SIGKILL
ANSWER_WITHIN_S = 90  # a message still unanswered after this (reconnects included) is lost
GIVE_UP_RECONNECTING_S = 120
SETTLE_WITHIN_S = 60


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500, help="tablets (delegates)")
    parser.add_argument("--minutes", type=int, default=10, help="how long the meeting runs")
    parser.add_argument("--port", type=int, default=8775, help="first server; the second is +1")
    parser.add_argument("--seed", type=int, default=2026, help="for who annotates, choices, delays")
    parser.add_argument("--timeout", type=float, default=None, help="overall limit in seconds")
    add_database_arguments(parser)
    args = parser.parse_args()
    if args.clients < 2 or args.minutes < 1:
        parser.error("--clients must be at least 2 and --minutes at least 1")
    args.timeout = args.timeout or args.minutes * 60 + 900
    return args


# --- a tablet (in a client process) ---------------------------------------------------------


class Tablet:
    """One delegate's tablet: a socket that reconnects and resumes with `since`, and what it saw."""

    def __init__(self, username: str, cookie: str, servers: list[list[str]], home: int) -> None:
        self.username = username
        self.cookie = cookie
        self.servers = servers  # [ws url, origin] of each server
        self.home = home
        self.rng = random.Random(username)
        self.numbers = itertools.count(1)
        self.socket: ClientConnection | None = None
        self.up = asyncio.Event()  # hello answered on the current socket
        self.lost: asyncio.Future[None] | None = None  # done when the current socket ends
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.hello_id = ""
        self.refused = False  # the current socket's hello was answered with an error
        self.catching_up: list[int] = []  # seqs received before the hello's answer
        self.last_seq = 0
        self.seqs: list[int] = []  # every journaled event received, in arrival order
        self.snapshots: list[int] = []
        self.presented: list[int] | None = None  # [document_id, page]
        self.arrivals: dict[int, float] = {}  # live page.presented and vote.closed: seq -> time
        self.reconnects: list[dict[str, Any]] = []
        self.closes: Counter[str] = Counter()
        self.hello_errors: Counter[str] = Counter()  # hello answered with an error: try again
        self.failure = ""
        self.stopping = False

    async def run(self, first_connect: asyncio.Semaphore) -> None:
        """Connects, and reconnects whenever the socket drops, until stopped."""
        down_since: float | None = None
        tries = 0
        while not self.stopping:
            index = self.home if down_since is None else self.rng.randrange(len(self.servers))
            try:
                if down_since is None and not self.seqs and not self.snapshots:
                    async with first_connect:
                        socket = await self.open(index)
                else:
                    socket = await self.open(index)
            except (OSError, TimeoutError, WebSocketException) as exc:
                tries += 1
                down_for = time.monotonic() - (down_since or time.monotonic())
                if down_for > GIVE_UP_RECONNECTING_S:
                    self.failure = f"could not reconnect: {exc!r}"[:200]
                    return
                await asyncio.sleep(min(2.0, 0.2 * tries) * self.rng.uniform(0.5, 1.5))
                continue
            tries = 0
            greeted = await self.converse(socket, index, down_since)
            down_since = down_since if not greeted and down_since else time.monotonic()
            if not greeted:
                await asyncio.sleep(self.rng.uniform(0.5, 1.5))

    async def open(self, index: int) -> ClientConnection:
        url, origin = self.servers[index]
        return await connect(
            url,
            additional_headers={"Cookie": self.cookie},
            origin=origin,  # type: ignore[arg-type]
            max_size=16 << 20,
            open_timeout=30,
            ping_interval=None,
        )

    async def converse(
        self, socket: ClientConnection, index: int, down_since: float | None
    ) -> bool:
        """hello (with `since` after the first time), then reads until the socket ends;
        whether the hello was answered. A hello answered with an error ends the socket."""
        self.socket, self.lost = socket, asyncio.get_running_loop().create_future()
        self.hello_id, self.catching_up = f"h{next(self.numbers)}", []
        since = self.last_seq if (self.seqs or self.snapshots) else None
        greeted = False
        try:
            await socket.send(json.dumps({"type": "hello", "id": self.hello_id, "since": since}))
            async for text in socket:
                self.on_message(json.loads(text), index, down_since)
                greeted = greeted or self.up.is_set()
                if not greeted and self.refused:
                    await socket.close()
        except ConnectionClosed:
            pass
        self.closes[str(socket.close_code)] += 1
        self.up.clear()
        self.socket, self.refused = None, False
        self.lost.set_result(None)
        return greeted

    def on_message(self, message: dict[str, Any], index: int, down_since: float | None) -> None:
        now = time.monotonic()
        kind = message.get("type")
        if kind in ("ack", "error"):
            self.on_answer(message, index, down_since, now)
        elif kind == "snapshot":
            self.snapshots.append(message["seq"])
            self.last_seq = max(self.last_seq, message["seq"])
            presented = message["state"].get("presented")
            if presented:
                self.presented = [presented["document_id"], presented["page"]]
        elif "seq" in message:  # journaled; presence and vote progress are not
            self.seqs.append(message["seq"])
            self.last_seq = max(self.last_seq, message["seq"])
            if not self.up.is_set():
                self.catching_up.append(message["seq"])
            if kind == "page.presented":
                self.presented = [message["document_id"], message["page"]]
            if kind in ("page.presented", "vote.closed"):
                self.arrivals[message["seq"]] = now

    def on_answer(
        self, answer: dict[str, Any], index: int, down_since: float | None, now: float
    ) -> None:
        if answer.get("id") != self.hello_id:
            future = self.pending.pop(str(answer.get("id")), None)
            if future is not None and not future.done():
                future.set_result(answer)
            return
        if answer["type"] != "ack":
            self.hello_errors[str(answer.get("code"))] += 1
            self.refused = True
            return
        for seq in self.catching_up:  # replayed, not live: no latency for them
            if seq <= answer["seq"]:
                self.arrivals.pop(seq, None)
        if down_since is not None:
            seconds = now - down_since
            replayed = answer.get("replayed")
            self.reconnects.append({"s": seconds, "to": index, "replayed": replayed})
        self.up.set()

    async def request(self, message: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        """Sends `message` until answered, again on the next socket if this one drops first;
        its answer (None if none came in time) and how many times it was sent."""
        message_id = f"m{next(self.numbers)}"
        text = json.dumps({**message, "id": message_id})
        sends = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ANSWER_WITHIN_S):
                while True:
                    await self.up.wait()
                    socket, lost = self.socket, self.lost
                    assert socket is not None and lost is not None
                    answer = asyncio.get_running_loop().create_future()
                    self.pending[message_id] = answer
                    sends += 1
                    with contextlib.suppress(ConnectionClosed):
                        await socket.send(text)
                    await asyncio.wait([answer, lost], return_when=asyncio.FIRST_COMPLETED)
                    if answer.done():
                        return answer.result(), sends
                    self.pending.pop(message_id, None)
        return None, sends

    async def stop(self) -> None:
        self.stopping = True
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)

    def seen(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "seqs": self.seqs,
            "snapshots": self.snapshots,
            "presented": self.presented,
            "reconnects": self.reconnects,
            "closes": dict(self.closes),
            "hello_errors": dict(self.hello_errors),
            "failure": self.failure,
        }


# --- what a client process is told to do ---------------------------------------------------


def outcome_of(answer: dict[str, Any] | None) -> str:
    if answer is None:
        return "no_answer"
    return "ack" if answer["type"] == "ack" else str(answer.get("code"))


def annotation_for(tablet: Tablet, order: dict[str, Any]) -> dict[str, Any]:
    rng = tablet.rng
    shared = rng.random() < 0.5
    if rng.random() < 0.5:
        points = [[round(rng.random(), 4), round(rng.random(), 4)] for _ in range(8)]
        kind, data = "ink", {"points": points, "width": 0.004, "color": "#c02020"}
    else:
        text = f"Ghi chú phút {order['minute'] + 1} của {tablet.username}"
        kind, data = (
            "note",
            {"x": round(rng.random(), 4), "y": round(rng.random(), 4), "text": text},
        )
    return {
        "id": str(uuid.uuid4()),
        "document_id": order["document_id"],
        "page": rng.randint(1, order["page_count"]),
        "kind": kind,
        "data": data,
        "visibility": "meeting" if shared else "private",
    }


async def annotate(tablets: dict[str, Tablet], order: dict[str, Any]) -> list[dict[str, Any]]:
    async def one(tablet: Tablet) -> dict[str, Any]:
        annotation = annotation_for(tablet, order)
        message = {"type": "annotation.put", "annotation": annotation}
        answer, sends = await tablet.request(message)
        return {
            "username": tablet.username,
            "id": annotation["id"],
            "visibility": annotation["visibility"],
            "outcome": outcome_of(answer),
            "sends": sends,
        }

    mine = [tablets[name] for name in order["usernames"] if name in tablets]
    return list(await asyncio.gather(*(one(tablet) for tablet in mine)))


async def cast(tablets: dict[str, Tablet], order: dict[str, Any]) -> list[dict[str, Any]]:
    async def one(tablet: Tablet) -> dict[str, Any]:
        rng = random.Random(f"{order['vote_id']}/{tablet.username}")
        await asyncio.sleep(rng.uniform(0, order["spread_s"]))
        choice = rng.choice(OPTIONS)
        message = {"type": "vote.cast", "vote_id": order["vote_id"], "option": choice}
        sent = time.monotonic()
        answer, sends = await tablet.request(message)
        return {
            "username": tablet.username,
            "choice": choice,
            "outcome": outcome_of(answer),
            "sends": sends,
            "s": time.monotonic() - sent,
        }

    return list(await asyncio.gather(*(one(tablet) for tablet in tablets.values())))


async def settle(tablets: dict[str, Tablet], order: dict[str, Any]) -> dict[str, Any]:
    """Waits until every tablet has the event `seq` (or gave up reconnecting)."""
    give_up = time.monotonic() + order["within"]
    while time.monotonic() < give_up:
        behind = [t for t in tablets.values() if t.last_seq < order["seq"] and not t.failure]
        if not behind:
            break
        await asyncio.sleep(0.1)
    return {"behind": sum(t.last_seq < order["seq"] for t in tablets.values())}


async def report(tablets: dict[str, Tablet], order: dict[str, Any]) -> dict[str, Any]:
    """What each tablet saw, and the live delivery latencies of the chair's page turns and
    vote closes (seq -> when the chair sent it)."""
    return {
        "tablets": [t.seen() for t in tablets.values()],
        "page_latencies": latencies(tablets, order["pages"]),
        "closed_latencies": latencies(tablets, order["closes"]),
    }


def latencies(tablets: dict[str, Tablet], sent: dict[int, float]) -> list[tuple[int, float]]:
    """(seq, seconds from sent to a live arrival) for each tablet and event."""
    return [
        (seq, tablet.arrivals[seq] - at)
        for tablet in tablets.values()
        for seq, at in sent.items()
        if seq in tablet.arrivals
    ]


ORDERS = {"annotate": annotate, "cast": cast, "settle": settle, "report": report}


@dataclass
class GroupSpec:
    """The tablets of one client process: who, their cookies, the servers, the home server."""

    usernames: list[str]
    cookies: list[str]
    servers: list[list[str]]
    home: int


async def run_group(spec: GroupSpec, pipe: Pipe) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tablets = {
        name: Tablet(name, cookie, spec.servers, spec.home)
        for name, cookie in zip(spec.usernames, spec.cookies, strict=True)
    }
    runners = [asyncio.create_task(t.run(gate)) for t in tablets.values()]
    started = time.monotonic()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(300):
                await asyncio.gather(*(t.up.wait() for t in tablets.values()))
        connected = sum(t.up.is_set() for t in tablets.values())
        pipe.send({"connected": connected, "connect_s": round(time.monotonic() - started, 1)})
        while (order := await receive(pipe, within=3600))["type"] != "close":
            pipe.send(await ORDERS[order["type"]](tablets, order))
    finally:
        await asyncio.gather(*(t.stop() for t in tablets.values()))
        for runner in runners:
            runner.cancel()


def group_process(spec: GroupSpec, pipe: Pipe) -> None:
    run_child(run_group(spec, pipe), pipe)


def groups_running(specs: list[GroupSpec]) -> contextlib.AbstractAsyncContextManager[Children]:
    """The client processes (one per spec), their tablets connected, for the block."""
    return children_running("a client process", group_process, specs, ready_within=400)


# --- the chair and the meeting (this process) -----------------------------------------------


@dataclass
class Log:
    """What the chair did and what the tablets answered, for the checks."""

    sent: dict[int, float] = field(default_factory=dict)  # page.presented seq -> sent at
    turns: int = 0
    turns_resent: int = 0  # sent again on a new socket: no latency for those
    last_page: list[int] = field(default_factory=list)
    last_seq: int = 0
    annotations: list[dict[str, Any]] = field(default_factory=list)
    casts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # vote id -> casts
    close_sent: dict[int, float] = field(default_factory=dict)
    restart: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    restart_minute: int = -1
    before_restart: CpuMark | None = None
    restarted_pid: int = 0


@dataclass
class Meeting:
    chair: Tablet
    http: httpx.AsyncClient
    csrf: dict[str, str]
    document: dict[str, Any]
    groups: Children
    usernames: list[str]
    log: Log = field(default_factory=Log)
    turns: itertools.count = field(default_factory=itertools.count)

    async def turn_pages(self, count: int) -> None:
        for _ in range(count):
            number = next(self.turns)
            page = 1 + number % self.document["page_count"]
            message = {"type": "page.present", "document_id": self.document["id"], "page": page}
            sent = time.monotonic()
            reply, sends = await self.chair.request(message)
            if reply is None or reply["type"] != "ack":
                raise BenchFailed(f"page.present was not acked: {reply}")
            if sends == 1:
                self.log.sent[int(reply["seq"])] = sent
            self.log.turns += 1
            self.log.turns_resent += sends > 1
            self.log.last_page = [self.document["id"], page]
            self.log.last_seq = int(reply["seq"])
            await asyncio.sleep(TURN_GAP_S)

    async def annotate(self, minute: int, rng: random.Random) -> None:
        who = rng.sample(self.usernames, max(1, round(len(self.usernames) * ANNOTATING_SHARE)))
        order = {
            "type": "annotate",
            "usernames": who,
            "minute": minute,
            "document_id": self.document["id"],
            "page_count": self.document["page_count"],
        }
        parts = await self.groups.ask(order, ANSWER_WITHIN_S + 30)
        self.log.annotations += [record for part in parts for record in part]

    async def vote(self, minute: int, *during_casting: Coroutine[Any, Any, None]) -> None:
        """Create, open, every tablet casts, close; `during_casting` runs meanwhile."""
        title = {"title": f"Biểu quyết phút {minute + 1}"}
        made = await self.http.post(f"/api/meetings/{MEETING}/votes", json=title, headers=self.csrf)
        vote_id = expect(made, 201, "creating a vote").json()["id"]
        opened = await self.http.post(f"/api/votes/{vote_id}/open", headers=self.csrf)
        expect(opened, 200, "opening the vote")
        await asyncio.sleep(0.5)  # vote.opened reaches the tablets first
        order = {"type": "cast", "vote_id": vote_id, "spread_s": CAST_SPREAD_S}
        casting = self.groups.ask(order, CAST_SPREAD_S + ANSWER_WITHIN_S + 30)
        parts, *_ = await asyncio.gather(casting, *during_casting)
        self.log.casts[vote_id] = [record for part in parts for record in part]
        self.log.close_sent[vote_id] = time.monotonic()
        closed = await self.http.post(f"/api/votes/{vote_id}/close", headers=self.csrf)
        expect(closed, 200, "closing the vote")


async def restart_later(server: Server, log: Log, started: float) -> None:
    """SIGTERM to `server` after RESTART_AFTER_S, then it starts again on the same port."""
    await asyncio.sleep(RESTART_AFTER_S)
    progress(f"restarting the server on port {server.port} (SIGTERM)")
    log.before_restart, log.restarted_pid = CpuMark(), server.process.pid
    at = time.monotonic()
    stop_s, killed = await asyncio.to_thread(server.restart, RESTART_GRACE_S)
    await server.healthy()
    down_s = time.monotonic() - at
    log.restart = {
        "port": server.port,
        "at_s": round(at - started, 1),
        "stop_s": round(stop_s, 2),
        "killed_after_s": RESTART_GRACE_S if killed else None,
        "down_s": round(down_s, 2),
    }
    progress(f"the server on port {server.port} is back after {down_s:.1f} s")


async def run_meeting(meeting: Meeting, servers: list[Server], minutes: int, seed: int) -> None:
    rng = random.Random(seed)
    started = meeting.log.started = time.monotonic()
    meeting.log.restart_minute = minutes // 2
    for minute in range(minutes):
        await asyncio.sleep(max(0.0, started + minute * 60 - time.monotonic()))
        progress(f"minute {minute + 1}/{minutes}")
        during_casting = [meeting.turn_pages(TURNS_WHILE_VOTING)]
        if minute == minutes // 2:
            during_casting.append(restart_later(servers[1], meeting.log, started))
        await meeting.turn_pages(TURNS_PER_HALF)
        await meeting.annotate(minute, rng)
        await meeting.vote(minute, *during_casting)
        await meeting.turn_pages(TURNS_PER_HALF)
    await asyncio.sleep(max(0.0, started + minutes * 60 - time.monotonic()))


# --- the checks -----------------------------------------------------------------------------


def read_database(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as db:
        users = dict(db.execute('SELECT username, id FROM "user"').fetchall())
        journal = db.execute(
            "SELECT seq, type, private_to, payload FROM journalevent"
            " WHERE meeting_id = %s ORDER BY seq",
            (MEETING,),
        ).fetchall()
        annotations = db.execute("SELECT id::text, owner_id, deleted FROM annotation").fetchall()
        casts = db.execute("SELECT vote_id, voter_id FROM ballotcast").fetchall()
        ballots = db.execute(
            "SELECT b.vote_id, b.voter_id, o.key FROM ballot b"
            " JOIN voteoption o ON o.id = b.option_id"
        ).fetchall()
        results = db.execute("SELECT id, status, result FROM vote").fetchall()
    return {
        "users": users,
        "journal": journal,
        "annotations": annotations,
        "casts": casts,
        "ballots": ballots,
        "votes": {vote_id: (status, result) for vote_id, status, result in results},
    }


def check_sequences(seen: list[dict[str, Any]], stored: dict[str, Any], last: int) -> dict:
    """Each tablet: every event it may see after its first snapshot, once, in order."""
    totals: Counter[str] = Counter()
    examples = []
    for tablet in seen:
        user_id = stored["users"][tablet["username"]]
        first = tablet["snapshots"][0] if tablet["snapshots"] else 0
        visible = [
            seq
            for seq, _, private_to, _ in stored["journal"]
            if first < seq <= last and private_to in (None, user_id)
        ]
        got = [seq for seq in tablet["seqs"] if seq <= last]
        resynced = max(tablet["snapshots"][1:], default=0)  # a later snapshot covers what it had
        missing = [seq for seq in set(visible) - set(got) if seq > resynced]
        problems = {
            "missing": len(missing),
            "doubled": len(got) - len(set(got)),
            "out_of_order": sum(b <= a for a, b in itertools.pairwise(got)),
            "not_theirs": len(set(got) - set(visible)),
        }
        totals.update(problems)
        totals["events"] += len(got)
        totals["resynced_by_snapshot"] += bool(tablet["snapshots"][1:])
        if any(problems.values()) and len(examples) < 5:
            examples.append({"username": tablet["username"], **problems, "some": missing[:5]})
    return {**totals, "examples": examples}


def check_annotations(records: list[dict[str, Any]], stored: dict[str, Any]) -> dict[str, Any]:
    """Every acked annotation stored once, by its owner, and journaled once."""
    rows = Counter(annotation_id for annotation_id, _, _ in stored["annotations"])
    owners = {annotation_id: owner for annotation_id, owner, _ in stored["annotations"]}
    journaled = Counter(
        payload["annotation"]["id"]
        for _, kind, _, payload in stored["journal"]
        if kind == "annotation.changed"
    )
    acked = [r for r in records if r["outcome"] == "ack"]
    users = stored["users"]
    unanswered = [r for r in records if r["outcome"] != "ack"]
    return {
        "sent": len(records),
        "acked": len(acked),
        "acked_after_resend": sum(r["sends"] > 1 for r in acked),
        "not_acked": dict(Counter(r["outcome"] for r in unanswered)),
        "lost": sum(rows[r["id"]] == 0 for r in acked),
        "doubled": sum(rows[r["id"]] > 1 or journaled[r["id"]] > 1 for r in acked),
        "wrong_owner": sum(
            owners.get(r["id"], users[r["username"]]) != users[r["username"]] for r in acked
        ),
        "stored_without_ack": sum(rows[r["id"]] > 0 for r in unanswered),
    }


def check_ballots(casts: dict[int, list[dict[str, Any]]], stored: dict[str, Any]) -> dict:
    """Per vote: the stored voters are exactly the confirmed casts, with the choices sent."""
    users = stored["users"]
    voters: dict[int, Counter[int]] = {}
    for vote_id, voter in stored["casts"]:
        voters.setdefault(vote_id, Counter())[voter] += 1
    choices: dict[tuple[int, int], list[str]] = {}
    for vote_id, voter, key in stored["ballots"]:
        choices.setdefault((vote_id, voter), []).append(key)
    totals: Counter[str] = Counter()
    votes = []
    for vote_id, records in casts.items():
        acked = {users[r["username"]]: r["choice"] for r in records if r["outcome"] == "ack"}
        # refused as already voted on a resend: the first send was stored before the drop
        earlier = {
            users[r["username"]]: r["choice"]
            for r in records
            if r["outcome"] == "already_voted" and r["sends"] > 1
        }
        confirmed = {**acked, **earlier}
        counted = voters.get(vote_id, Counter())
        status, result = stored["votes"][vote_id]
        problems = {
            "lost": len(set(confirmed) - set(counted)),
            "unconfirmed_stored": len(set(counted) - set(confirmed)),
            "doubled": sum(n > 1 for n in counted.values()),
            "wrong_choice": sum(choices.get((vote_id, v)) != [c] for v, c in confirmed.items()),
            "result_mismatch": int(
                status != "closed" or (result or {}).get("voters") != len(confirmed)
            ),
        }
        totals.update(problems)
        totals["acked"] += len(acked)
        totals["resent"] += sum(r["sends"] > 1 for r in records)
        totals["stored_before_resend"] += len(earlier)
        totals["refused"] += sum(r["outcome"] not in ("ack", "already_voted") for r in records)
        votes.append({"vote_id": vote_id, "stored": sum(counted.values()), **problems})
    return {"votes": len(casts), **totals, "per_vote": votes}


def check_presented(seen: list[dict[str, Any]], last_page: list[int]) -> dict[str, Any]:
    elsewhere = [t["username"] for t in seen if t["presented"] != last_page]
    return {"chair_last": last_page, "elsewhere": len(elsewhere), "examples": elsewhere[:5]}


def spread_ms(seconds: list[float]) -> dict[str, Any]:
    return {
        "count": len(seconds),
        "p50": percentile_ms(seconds, 0.50),
        "p99": percentile_ms(seconds, 0.99),
        "max": percentile_ms(seconds, 1.0),
    }


def reconnect_report(seen: list[dict[str, Any]]) -> dict[str, Any]:
    reconnects = [r for t in seen for r in t["reconnects"]]
    closes: Counter[str] = Counter()
    for tablet in seen:
        closes.update(tablet["closes"])
    hello_errors: Counter[str] = Counter()
    for tablet in seen:
        hello_errors.update(tablet["hello_errors"])
    return {
        "count": len(reconnects),
        "tablets": sum(bool(t["reconnects"]) for t in seen),
        "ms": spread_ms([r["s"] for r in reconnects]),
        "to_server": dict(Counter(str(r["to"] + 1) for r in reconnects)),
        "replayed_events": sum(r["replayed"] or 0 for r in reconnects),
        "close_codes": dict(closes),
        "hello_errors": dict(hello_errors),
        "gave_up": [t["failure"] for t in seen if t["failure"]][:5],
    }


def verdict(checks: dict[str, Any], seen: list[dict[str, Any]], clients: int) -> list[str]:
    """Why the soak failed (empty when it passed)."""
    why = []
    sequences, annotations, ballots = checks["sequences"], checks["annotations"], checks["ballots"]
    for name in ("missing", "doubled", "out_of_order", "not_theirs"):
        if sequences.get(name):
            why.append(f"events {name}: {sequences[name]}")
    for name in ("lost", "doubled", "wrong_owner"):
        if annotations[name]:
            why.append(f"annotations {name}: {annotations[name]}")
    if annotations["not_acked"]:
        why.append(f"annotations not acked: {annotations['not_acked']}")
    for name in ("lost", "unconfirmed_stored", "doubled", "wrong_choice", "result_mismatch"):
        if ballots.get(name):
            why.append(f"ballots {name}: {ballots[name]}")
    if checks["presented"]["elsewhere"]:
        why.append(f"tablets not on the chair's page: {checks['presented']['elsewhere']}")
    if len(seen) != clients or any(t["failure"] for t in seen):
        why.append("some tablets failed or gave up reconnecting")
    return why


# --- putting it together --------------------------------------------------------------------


def group_specs(servers: list[Server], usernames: list[str], cookies: list[str]) -> list:
    urls = [[f"{s.ws_url}/ws/meetings/{MEETING}", s.url] for s in servers]
    return [
        GroupSpec(usernames[home :: len(servers)], cookies[home :: len(servers)], urls, home)
        for home in range(len(servers))
    ]


async def soak(
    args: argparse.Namespace, servers: list[Server], usernames: list[str], database_url: str
) -> dict[str, Any]:
    await servers[1].healthy()
    hall, document = await prepare_phonghop(servers[0], usernames)
    cookies = [str(cookie) for cookie in hall.tablet_cookies]
    async with contextlib.AsyncExitStack() as stack:
        groups = await stack.enter_async_context(
            groups_running(group_specs(servers, usernames, cookies))
        )
        progress(f"tablets connected: {groups.ready}")
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=servers[0].url, trust_env=False, timeout=60)
        )
        csrf = {"X-CSRFToken": await sign_in(http, CHAIR, DEMO_PASSWORD)}
        chair = await stack.enter_async_context(chair_connected(hall))
        watch = await stack.enter_async_context(loop_watched())
        meeting = Meeting(chair, http, csrf, document, groups, usernames)
        load_at_start = [round(value, 2) for value in os.getloadavg()]
        progress(f"the meeting starts; load average {load_at_start}")
        start_mark = CpuMark()
        await run_meeting(meeting, servers, args.minutes, args.seed)
        end_mark = CpuMark()
        await meeting.turn_pages(1)
        last_seq = meeting.log.last_seq
        behind = await groups.ask(
            {"type": "settle", "seq": last_seq, "within": SETTLE_WITHIN_S}, 90
        )
        progress(f"settled: {behind}")
        stored = read_database(database_url)
        closes = closes_sent(meeting.log, stored)
        order = {"type": "report", "pages": meeting.log.sent, "closes": closes}
        parts = await groups.ask(order, 120)
        parts.append({"tablets": [chair.seen()], "page_latencies": [], "closed_latencies": []})
    return build_report(args, meeting, parts, stored, last_seq) | {
        "bench_loop_lag_max_ms": round(watch.worst_s * 1000, 1),
        "chair": {"close_codes": dict(chair.closes), "reconnects": len(chair.reconnects)},
        "load_at_start": load_at_start,
        "server_cpu_s": servers_cpu_s(servers, meeting.log, start_mark, end_mark),
        "clients_cpu_s": [round(start_mark.used_s(end_mark, pid), 1) for pid in groups.pids],
        "connect": groups.ready,
    }


@contextlib.asynccontextmanager
async def chair_connected(hall: Any) -> AsyncIterator[Tablet]:
    """The chair's tablet on the first server; it reconnects as any tablet does."""
    chair = Tablet(CHAIR, str(hall.chair_cookie), [[hall.ws_url, hall.origin]], 0)
    runner = asyncio.create_task(chair.run(asyncio.Semaphore(1)))
    try:
        await asyncio.wait_for(chair.up.wait(), 60)
        yield chair
    finally:
        await chair.stop()
        runner.cancel()


@dataclass
class LoopWatch:
    """The longest this process's event loop was late (the chair's readings depend on it)."""

    worst_s: float = 0.0

    async def run(self, every: float = 0.05) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(every)
            self.worst_s = max(self.worst_s, time.monotonic() - before - every)


@contextlib.asynccontextmanager
async def loop_watched() -> AsyncIterator[LoopWatch]:
    watch = LoopWatch()
    task = asyncio.create_task(watch.run())
    try:
        yield watch
    finally:
        task.cancel()


def servers_cpu_s(servers: list[Server], log: Log, start: CpuMark, end: CpuMark) -> list:
    """CPU seconds each server used during the meeting (both lives of the restarted one)."""
    used = [start.used_s(end, server.process.pid) for server in servers]
    if log.before_restart is not None:
        used[1] += start.used_s(log.before_restart, log.restarted_pid)
    return [round(seconds, 1) for seconds in used]


def closes_sent(log: Log, stored: dict[str, Any]) -> dict[int, float]:
    """vote.closed's seq -> when the chair sent the close request."""
    return {
        seq: log.close_sent[payload["vote"]["id"]]
        for seq, kind, _, payload in stored["journal"]
        if kind == "vote.closed"
    }


def minute_of(log: Log, seq: int) -> int:
    return int((log.sent[seq] - log.started) // 60)


def slowest_turns(log: Log, pages: list[tuple[int, float]], count: int = 5) -> list[dict]:
    """The page turns whose slowest live delivery took longest, and when they were sent."""
    by_turn: dict[int, list[float]] = {}
    for seq, seconds in pages:
        by_turn.setdefault(seq, []).append(seconds)
    worst = sorted(by_turn, key=lambda seq: -max(by_turn[seq]))[:count]
    return [
        {"seq": seq, "at_s": round(log.sent[seq] - log.started, 1), **spread_ms(by_turn[seq])}
        for seq in worst
    ]


def build_report(
    args: argparse.Namespace,
    meeting: Meeting,
    parts: list[dict[str, Any]],
    stored: dict[str, Any],
    last_seq: int,
) -> dict[str, Any]:
    log = meeting.log
    seen = [tablet for part in parts for tablet in part["tablets"]]
    pages = [pair for part in parts for pair in part["page_latencies"]]
    closes = [seconds for part in parts for _, seconds in part["closed_latencies"]]
    checks = {
        "sequences": check_sequences(seen, stored, last_seq),
        "annotations": check_annotations(log.annotations, stored),
        "ballots": check_ballots(log.casts, stored),
        "presented": check_presented(seen, log.last_page),
    }
    casts = [r for records in log.casts.values() for r in records]
    failures = verdict(checks, seen, args.clients + 1)  # and the chair
    return {
        "benchmark": "soak",
        "verdict": "fail" if failures else "pass",
        "failures": failures,
        "clients": args.clients,
        "minutes": args.minutes,
        "servers": 2,
        "database": "postgresql + redis",
        "cpus": os.cpu_count(),
        "counts": {
            "page_turns": log.turns,
            "page_turns_resent": log.turns_resent,
            "annotations_sent": len(log.annotations),
            "votes": len(log.casts),
            "casts": len(casts),
            "journal_events": len(stored["journal"]),
            "events_received": checks["sequences"].get("events", 0),
        },
        "restart": log.restart,
        "reconnects": reconnect_report(seen),
        "page_latency_ms": spread_ms([seconds for _, seconds in pages]),
        "page_latency_ms_outside_restart_minute": spread_ms(
            [seconds for seq, seconds in pages if minute_of(log, seq) != log.restart_minute]
        ),
        "slowest_turns": slowest_turns(log, pages),
        "vote_closed_latency_ms": spread_ms(closes),
        "cast_answer_ms": spread_ms([r["s"] for r in casts if r["outcome"] == "ack"]),
        "checks": checks,
        "load_at_end": [round(value, 2) for value in os.getloadavg()],
    }


async def cancelled_by_signals(work: Coroutine[Any, Any, dict], within: float) -> dict:
    """Ctrl-C and SIGTERM cancel `work`, so the client processes and sockets it opened are
    closed on the way out (a signal handler's exception does not reach the coroutine)."""
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    return await asyncio.wait_for(work, timeout=within)


def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    deadline = Deadline(args.timeout)
    ports = [args.port, args.port + 1]
    logs = [data_dir / f"server{number}.log" for number in (1, 2)]
    with shared_environment(args, data_dir, ports, "soak", deadline) as env:
        usernames = prepare_data_dir(data_dir, args.clients, deadline, env)
        with running_servers(ports, env, logs) as servers:
            work = soak(args, servers, usernames, env["PHONGHOP_DATABASE_URL"])
            try:
                report = run_loop(cancelled_by_signals(work, deadline.left()))
            except TimeoutError as exc:
                raise BenchFailed("the overall timeout ran out") from exc
            except asyncio.CancelledError as exc:
                raise BenchFailed("interrupted") from exc
    report["server_log_errors"] = [logged_errors(path) for path in logs]
    return report


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    stop_on_sigterm()
    return run_benchmark(
        lambda data_dir: run(args, data_dir),
        httpx.HTTPError,
        OSError,
        ConnectionClosed,
        psycopg.Error,
    )


if __name__ == "__main__":
    sys.exit(main())
