"""The hall a benchmark measures: the demo council seeded with N delegates by phonghop's own
commands, everyone signed in over HTTP and added to meeting 1, and the sockets of their tablets
(hello with no `since`, then whatever the server sends)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import (
    BenchFailed,
    Deadline,
    Server,
    logged_errors,
    measure_within,
    phonghop_command,
    progress,
    running_server,
    server_env,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MEETING = 1
CHAIR = "chutoa"
SECRETARY = "thuky"
DEMO_PASSWORD = "demo2026"
BENCH_PASSWORD = "fanout-bench-2026"  # noqa: S105 - throwaway accounts in a temp dir
ANSWERS = ('{"type":"ack"', '{"type":"error"')
SETUP_CONCURRENCY = 16
CONNECT_CONCURRENCY = 20
VOTERS = ("chair", "delegate")


# --- the council and its accounts -----------------------------------------------------------


def write_users_csv(path: Path, count: int) -> list[str]:
    usernames = [f"fanout{number:04d}" for number in range(1, count + 1)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["username", "full_name", "role", "password"])
        for number, username in enumerate(usernames, start=1):
            writer.writerow([username, f"Đại biểu thử {number}", "delegate", BENCH_PASSWORD])
    return usernames


def prepare_data_dir(
    data_dir: Path, accounts: int, deadline: Deadline, env: dict[str, str] | None = None
) -> list[str]:
    """Seeds the demo council and imports the accounts (into `env`'s database if given)."""
    env = env or server_env(data_dir)
    progress("seeding the demo council")
    phonghop_command(["demo", "--seed-only"], env, deadline)
    csv_path = data_dir / "fanout-delegates.csv"
    usernames = write_users_csv(csv_path, accounts)
    progress(f"importing {accounts} delegate accounts")
    phonghop_command(["import-users", str(csv_path)], env, deadline)
    return usernames


def expect(response: httpx.Response, status: int, doing: str) -> httpx.Response:
    if response.status_code != status:
        raise BenchFailed(f"{doing}: HTTP {response.status_code} {response.text[:300]}")
    return response


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    """GET /login for the CSRF cookie, POST /login as JSON; returns the CSRF token."""
    expect(await client.get("/login"), 200, "GET /login")
    token = client.cookies.get("csrftoken")
    if not token:
        raise BenchFailed("GET /login set no csrftoken cookie")
    credentials = {"username": username, "password": password}
    response = await client.post("/login", json=credentials, headers={"X-CSRFToken": token})
    expect(response, 200, f"signing in as {username}")
    return token


async def session_cookie(base_url: str, username: str, password: str, gate: Any) -> str:
    """Signs `username` in with a client of its own; returns its Cookie header."""
    async with gate, httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as client:
        await sign_in(client, username, password)
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def add_participants(
    client: httpx.AsyncClient, token: str, usernames: list[str], role: str = "delegate"
) -> None:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def add(username: str) -> None:
        async with gate:
            response = await client.post(
                f"/api/meetings/{MEETING}/participants",
                json={"username": username, "role": role},
                headers={"X-CSRFToken": token},
            )
        expect(response, 201, f"adding {username} to meeting {MEETING}")

    await asyncio.gather(*(add(username) for username in usernames))


async def seat_the_council(client: httpx.AsyncClient, token: str) -> None:
    """Makes the council as large as the meeting's voters (its chair and delegates): a vote
    in a meeting with more voters than its council has members is refused."""
    got = expect(await client.get(f"/api/meetings/{MEETING}"), 200, "GET the meeting").json()
    voters = sum(p["vote_weight"] for p in got["participants"] if p["role"] in VOTERS)
    response = await client.patch(
        f"/api/bodies/{got['body_id']}", json={"members": voters}, headers={"X-CSRFToken": token}
    )
    expect(response, 200, f"giving the council {voters} members")


def documents_of(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield from item.get("documents", [])
        yield from documents_of(item.get("children", []))


async def pick_document(client: httpx.AsyncClient) -> dict[str, Any]:
    """The meeting's first document with at least two pages."""
    meeting = expect(await client.get(f"/api/meetings/{MEETING}"), 200, "GET the meeting").json()
    for document in documents_of(meeting["items"]):
        if document["page_count"] >= 2:
            return document
    raise BenchFailed(f"meeting {MEETING} has no document with two pages")


@dataclass
class Hall:
    """A server (or servers) to measure: where the chair's socket is, who may open it, where
    the tablets connect (split evenly), and the server processes."""

    kind: str  # "phonghop" or "broadcast"
    ws_url: str
    origin: str
    chair_cookie: str | None
    tablet_cookies: list[str | None]
    document_id: int
    server_pids: list[int]
    tablet_urls: list[tuple[str, str]] = field(default_factory=list)  # (ws url, origin)

    def tablet_specs(self, clients: int) -> list[TabletSpec]:
        """The first `clients` tablets, one spec (one process) per server."""
        urls = self.tablet_urls or [(self.ws_url, self.origin)]
        cookies = self.tablet_cookies[:clients]
        share = math.ceil(len(cookies) / len(urls))
        return [
            TabletSpec(url, origin, cookies[n * share : (n + 1) * share])
            for n, (url, origin) in enumerate(urls)
        ]


async def prepare_phonghop(server: Server, usernames: list[str]) -> tuple[Hall, dict[str, Any]]:
    """Once `server` is up, adds the delegates to the meeting and signs everyone in; returns
    the hall and the document to present."""
    base_url = server.url
    await server.healthy()
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as secretary:
        token = await sign_in(secretary, SECRETARY, DEMO_PASSWORD)
        started = time.monotonic()
        await add_participants(secretary, token, usernames)
        await seat_the_council(secretary, token)
        progress(f"{len(usernames)} participants added in {time.monotonic() - started:.1f} s")
        document = await pick_document(secretary)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    started = time.monotonic()
    chair = await session_cookie(base_url, CHAIR, DEMO_PASSWORD, gate)
    cookies = await asyncio.gather(
        *(session_cookie(base_url, name, BENCH_PASSWORD, gate) for name in usernames)
    )
    progress(f"{len(cookies)} tablets signed in in {time.monotonic() - started:.1f} s")
    ws_url = base_url.replace("http", "ws", 1) + f"/ws/meetings/{MEETING}"
    document_id = int(document["id"])
    hall = Hall("phonghop", ws_url, base_url, chair, list(cookies), document_id, [server.pid])
    return hall, document


@dataclass
class TabletSpec:
    url: str
    origin: str
    cookies: list[str | None]


# --- the tablets' sockets ----------------------------------------------------------------


def dumps(message: dict[str, Any]) -> str:
    """As phonghop writes events: compact, UTF-8 text kept as is."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


async def say_hello(connection: ClientConnection, within: float = 120) -> None:
    """hello with no `since`, then read (the snapshot, presence...) until its answer."""
    await connection.send(json.dumps({"type": "hello", "id": "h1", "since": None}))
    async with asyncio.timeout(within):
        async for text in connection:
            if isinstance(text, str) and text.startswith(ANSWERS):
                answer = json.loads(text)
                if answer.get("id") == "h1":
                    if answer["type"] != "ack":
                        raise BenchFailed(f"hello refused: {answer}")
                    return
    raise BenchFailed("the socket closed before hello was answered")


async def open_socket(url: str, origin: str, cookie: str | None) -> ClientConnection:
    connection = await connect(
        url,
        additional_headers={"Cookie": cookie} if cookie else None,
        origin=origin,  # type: ignore[arg-type]
        max_size=16 << 20,
        open_timeout=60,
        ping_interval=None,
    )
    await say_hello(connection)
    return connection


async def close_all(sockets: list[ClientConnection]) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(20):
            await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


class Chair:
    """The chair's socket: sends page.present and matches each answer to its message id."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                if isinstance(text, str) and text.startswith(ANSWERS):
                    answer = json.loads(text)
                    future = self._answers.pop(str(answer.get("id")), None)
                    if future is not None and not future.done():
                        future.set_result(answer)
        except ConnectionClosed:
            pass
        for future in self._answers.values():
            if not future.done():
                future.set_exception(BenchFailed("the chair's socket closed"))

    async def present(
        self, number: int, document_id: int, page: int
    ) -> tuple[float, asyncio.Future[dict[str, Any]]]:
        """Sends one turn; returns the time it was sent and the future of its answer."""
        message_id = f"t{number}"
        future = asyncio.get_running_loop().create_future()
        self._answers[message_id] = future
        message = {"type": "page.present", "id": message_id, "document_id": document_id}
        text = json.dumps({**message, "page": page})
        sent = time.monotonic()
        await self.connection.send(text)
        return sent, future

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()


def acked_seq(answer: dict[str, Any]) -> int:
    if answer.get("type") != "ack":
        raise BenchFailed(f"page.present was refused: {answer}")
    return int(answer["seq"])


def in_hall(
    data_dir: Path,
    accounts: int,
    port: int,
    deadline: Deadline,
    measure: Callable[[Server, list[str]], Coroutine[Any, Any, dict[str, Any]]],
) -> dict[str, Any]:
    """The hall seeded with `accounts` delegates, one server on `port`, `measure` run within the
    deadline; the report says which errors the server logged meanwhile."""
    usernames = prepare_data_dir(data_dir, accounts, deadline)
    log_path = data_dir / "server.log"
    with running_server(port, server_env(data_dir), log_path) as server:
        report = measure_within(measure(server, usernames), deadline)
    report["server_log_errors"] = logged_errors(log_path)
    return report
