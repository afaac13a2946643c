"""Real sockets for live-meeting tests: the app served by uvicorn in a thread, and signed-in
`websockets` clients that speak the tablet protocol."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pymupdf
import pytest
import uvicorn
import websockets

from server.app import create_app
from server.blobs import BlobStore
from server.conference.standalone import create_bridge_app
from server.models import Document, Meeting
from tests.browser import free_port
from tests.conftest import PASSWORD


@dataclass
class Served:
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def call(self, function: Any, *args: Any) -> None:
        """Runs `function(*args)` on the server's own event loop."""
        self.loop.call_soon_threadsafe(function, *args)


@contextmanager
def serving(settings: Any, host: str = "127.0.0.1") -> Iterator[Served]:
    """The app on `host` and a free port, in a thread of its own, until the block ends."""
    port = free_port()
    url = f"http://{host}:{port}"
    app = create_app(replace(settings, allowed_origins=[url]))
    config = uvicorn.Config(  # the sockets of `phonghop serve`: no per-message compression
        app,
        host=host,
        port=port,
        log_config=None,
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
    )
    with in_a_thread(config, url, "the test server") as served:
        yield served


@contextmanager
def bridge_serving(settings: Any) -> Iterator[Served]:
    """`phonghop bridge`'s app on a free port, in a thread, on the same database."""
    port = free_port()
    config = uvicorn.Config(
        create_bridge_app(settings), host="127.0.0.1", port=port, log_config=None
    )
    with in_a_thread(config, f"http://127.0.0.1:{port}", "the bridge") as served:
        yield served


@contextmanager
def in_a_thread(config: uvicorn.Config, url: str, what: str) -> Iterator[Served]:
    """Uvicorn serving `config` in a thread with its own event loop, until the block ends."""
    server = uvicorn.Server(config)
    loops: list[asyncio.AbstractEventLoop] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        threading.Event().wait(0.05)
    try:
        yield Served(url, config.app, loops[0])
    finally:  # a failed test too: a server left running keeps its render pool's processes
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def served(settings, database) -> Iterator[Served]:
    with serving(settings) as server:
        yield server


class Tablet:
    """A signed-in tablet: an HTTP client for the API and a socket for the meeting."""

    _ids = itertools.count(1)

    def __init__(self, served: Served, username: str) -> None:
        self.served = served
        self.username = username
        self.http = httpx.AsyncClient(base_url=served.url, timeout=30)
        self.socket: Any = None
        self.inbox: list[dict[str, Any]] = []
        self._taken: set[int] = set()  # inbox positions until() has already returned

    async def sign_in(self) -> Tablet:
        await self.http.get("/login")
        response = await self.http.post(
            "/login",
            json={"username": self.username, "password": PASSWORD},
            headers={"X-CSRFToken": self.http.cookies["csrftoken"]},
        )
        assert response.status_code == 200, response.text
        return self

    async def connect(self, meeting_id: int, origin: str | None = None) -> Tablet:
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.socket = await websockets.connect(
            self.served.url.replace("http", "ws") + f"/ws/meetings/{meeting_id}",
            additional_headers={"Cookie": cookies},
            origin=origin or self.served.url,
            max_size=4 << 20,
            max_queue=None,  # a test reads when it wants; unread events must not stall the close
        )
        return self

    async def send(self, type: str, **fields: Any) -> Any:
        message_id = f"m{next(self._ids)}"
        await self.socket.send(json.dumps({"type": type, "id": message_id, **fields}))
        return message_id

    async def receive(self, within: float = 5) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.socket.recv(), within))
        self.inbox.append(message)
        return message

    async def until(self, predicate: Any, within: float = 5) -> dict[str, Any]:
        """The first message matching `predicate` not returned before: one already received
        (say an event that came before an ack), else the next matching one to arrive."""
        for index, message in enumerate(self.inbox):
            if index not in self._taken and predicate(message):
                self._taken.add(index)
                return message
        async with asyncio.timeout(within):
            while True:
                message = await self.receive(within)
                if predicate(message):
                    self._taken.add(len(self.inbox) - 1)
                    return message

    async def answer(self, message_id: Any, within: float = 5) -> dict[str, Any]:
        """The ack or error for `message_id`."""
        return await self.until(
            lambda m: m.get("type") in ("ack", "error") and m.get("id") == message_id, within
        )

    async def request(self, type: str, **fields: Any) -> dict[str, Any]:
        return await self.answer(await self.send(type, **fields))

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds`."""
        got = []
        try:
            while True:
                got.append(await self.receive(seconds))
        except TimeoutError:
            return got

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await self.http.aclose()


async def close_all(*tablets: Tablet) -> None:
    """Hangs up many tablets at once; one by one, each waits for its closing handshake."""
    await asyncio.gather(*(tablet.close() for tablet in tablets))


def ten_pages() -> bytes:
    with pymupdf.open() as pdf:
        for n in range(1, 11):
            pdf.new_page().insert_text((72, 72), f"Trang {n}")
        return pdf.tobytes()


@pytest.fixture
def world(accounts, database, settings):
    """A meeting with a chair, two delegates and a ten-page paper; a stranger; and a
    document of another meeting."""
    body = accounts.body()
    meeting = Meeting(body_id=body.id, title="Kỳ họp", starts_at=datetime(2026, 12, 15, tzinfo=UTC))
    other = Meeting(body_id=body.id, title="Khác", starts_at=datetime(2026, 12, 16, tzinfo=UTC))
    database.add_all([meeting, other])
    database.commit()
    for username, role in (
        ("chutoa", "chair"),
        ("daibieu01", "delegate"),
        ("daibieu02", "delegate"),
    ):
        accounts.join(accounts.user(username), meeting.id, role)
    accounts.user("nguoingoai")
    sha256 = BlobStore(settings.blobs_dir).put(ten_pages())
    paper = Document(meeting_id=meeting.id, title="Tờ trình", sha256=sha256, page_count=10)
    foreign = Document(meeting_id=other.id, title="Khác", sha256="b" * 64, page_count=10)
    database.add_all([paper, foreign])
    database.commit()
    return {"meeting": meeting.id, "paper": paper.id, "foreign": foreign.id}
