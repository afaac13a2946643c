"""Followed page turn: what the chair's page turn costs the server when the hall follows it,
with each tablet fetching the page on show, or holding the whole book already (issue 17 item 4).

The hall: `phonghop serve` (SQLite, log level WARNING) on a temporary data dir seeded with the
demo council (`phonghop demo --seed-only`) and N extra delegates (bench/hall.py), meeting 1's
agenda book published by the secretary (POST /api/meetings/1/publish: a real PDF book built
from the demo papers), every tablet signed in over HTTP with its own session cookie. The
chair's socket (`chutoa`) opens first, then the N tablets' sockets (hello with no `since`), in
child processes. Each tablet has its own HTTP connection pool of at most 6 keep-alive
connections, as a browser has per host. The page width is the first of the document's
`widths` at least `--width` pixels, as reader.js's bucketFor picks it.

Before the modes, one client downloads the whole book (every page image at that width, and
every page's word boxes): the renders are warm for both modes, and its bytes are the book.

Mode A, "fetch on show" (what the reader does today): the chair sends `page.present` (the
socket command of server/presenting.py) for a page not shown before; each tablet, on its
`page.presented`, GETs `/api/documents/{id}/pages/{n}?w=W` and `/pages/{n}/words` at once (as
reader.js loadImage and presented.js pageWords). "New page ready" is the image's last byte.
Mode B, "book on the tablet": every tablet first downloads the whole book (the setup, before
the session, at most `--book-parallel` tablets at a time per process); on a turn it fetches
nothing, and the new page is ready when the event arrives.

Per turn and mode: the bytes the tablets received (websocket frames as read from their
sockets, plus HTTP responses with status lines and headers, counted under the HTTP client),
the server's bytes written as /proc/PID/io `wchar` says (a cross-check: it also counts the
server's own file writes, such as the journal's), the server's CPU time (/proc/PID/stat), and
the time from the chair sending its command to each tablet's page being ready: p50, p95 and
max over all (tablet, turn) pairs. Times are CLOCK_MONOTONIC, one clock for all processes on
Linux. Each turn starts on new HTTP connections: uvicorn closes a connection idle for 5 s, and
a chair's turns are further apart than that.

Run from the project root:

    .venv/bin/python bench/pageturn.py [--tablets 500] [--turns 5] [--width 1024]
    .venv/bin/python bench/pageturn.py --tablets 50 --turns 3      # a quick check

One JSON object goes to stdout, progress to stderr. The server, the tablet processes and the
temporary data dir are removed at the end, also on errors and on the overall timeout. Exit
code 0 when the benchmark ran, 1 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpcore
import httpx
from hall import (
    CONNECT_CONCURRENCY,
    DEMO_PASSWORD,
    MEETING,
    SECRETARY,
    Chair,
    acked_seq,
    expect,
    in_hall,
    prepare_phonghop,
    say_hello,
    sign_in,
)
from harness import (
    BenchFailed,
    Children,
    Deadline,
    Server,
    children_running,
    loop_name,
    percentile_ms,
    progress,
    raise_fd_limit,
    receive,
    run_benchmark,
    run_child,
    stop_on_sigterm,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PRESENTED = '{"type":"page.presented"'
BROWSER_CONNECTIONS = 6  # a browser's connections per host
PUBLISH_WITHIN_S = 300
TURN_WITHIN_S = 120
MODES = {"fetch": "A: fetch on show", "book": "B: book on the tablet"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=500, help="tablets following the chair")
    parser.add_argument("--turns", type=int, default=5, help="followed page turns per mode")
    parser.add_argument("--width", type=int, default=1024, help="pixels a tablet's page needs")
    parser.add_argument("--processes", type=int, default=2, help="tablet processes")
    parser.add_argument("--book-parallel", type=int, default=25, help="book downloads at once")
    parser.add_argument("--port", type=int, default=8781, help="phonghop's port on 127.0.0.1")
    parser.add_argument("--timeout", type=float, default=600.0, help="overall limit in seconds")
    args = parser.parse_args(argv)
    if args.tablets < 1 or args.turns < 1 or args.processes < 1 or args.book_parallel < 1:
        parser.error("--tablets, --turns, --processes and --book-parallel must be at least 1")
    return args


# --- counting what a tablet receives ---------------------------------------------------------


class Meter:
    """Bytes one tablet read from its sockets: HTTP (all its connections) and websocket."""

    def __init__(self) -> None:
        self.http = 0


class CountingStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream, meter: Meter) -> None:
        self.stream = stream
        self.meter = meter

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        data = await self.stream.read(max_bytes, timeout)
        self.meter.http += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.stream.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise BenchFailed("the benchmark runs on plain loopback HTTP")

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class CountingBackend(httpcore.AsyncNetworkBackend):
    """Every connection of one tablet's pool, counted into its meter."""

    def __init__(self, meter: Meter) -> None:
        self.backend = httpcore.AnyIOBackend()
        self.meter = meter

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return CountingStream(stream, self.meter)

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


class CountingConnection(ClientConnection):
    """A websocket client that counts the bytes its socket delivers (frames and all)."""

    received_bytes = 0

    def data_received(self, data: bytes) -> None:
        self.received_bytes += len(data)
        super().data_received(data)


# --- a tablet -------------------------------------------------------------------------------


@dataclass
class Book:
    """The document the chair presents and how a tablet asks for its pages."""

    base_url: str
    document_id: int
    page_count: int
    width: int

    def image(self, page: int) -> str:
        return f"{self.base_url}/api/documents/{self.document_id}/pages/{page}?w={self.width}"

    def words(self, page: int) -> str:
        return f"{self.base_url}/api/documents/{self.document_id}/pages/{page}/words"


class Reader:
    """One tablet's HTTP side: a pool of at most 6 keep-alive connections, counted."""

    def __init__(self, book: Book, cookie: str | None) -> None:
        self.book = book
        self.meter = Meter()
        self.headers = [(b"Cookie", cookie.encode())] if cookie else []
        self.retries = 0
        self.pool = self.new_pool()

    def new_pool(self) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            max_connections=BROWSER_CONNECTIONS, network_backend=CountingBackend(self.meter)
        )

    async def renew(self) -> None:
        """New connections: the server closes a connection idle for 5 s (uvicorn's keep-alive),
        and in a meeting the chair's turns are further apart than that."""
        await self.pool.aclose()
        self.pool = self.new_pool()

    async def get(self, url: str) -> int:
        """GETs `url` to its last byte; the body's size. A connection the server closed as it
        was reused is tried once more on a new one, as browsers do for a GET."""
        try:
            response = await self.pool.request("GET", url, headers=self.headers)
        except (httpcore.ReadError, httpcore.WriteError, httpcore.RemoteProtocolError):
            self.retries += 1
            response = await self.pool.request("GET", url, headers=self.headers)
        if response.status != 200:
            raise BenchFailed(f"GET {url}: HTTP {response.status} {response.content[:200]!r}")
        return len(response.content)

    async def page(self, page: int) -> float:
        """The page's image and words at once, as the reader shows a page; when the image's
        last byte arrived."""

        async def image() -> float:
            await self.get(self.book.image(page))
            return time.monotonic()

        ready, _ = await asyncio.gather(image(), self.get(self.book.words(page)))
        return ready

    async def whole_book(self) -> tuple[int, float]:
        """Every page image and every page's words, 6 at a time; bytes read and seconds."""
        before, started = self.meter.http, time.monotonic()
        urls = [self.book.image(n) for n in range(1, self.book.page_count + 1)]
        urls += [self.book.words(n) for n in range(1, self.book.page_count + 1)]
        gate = asyncio.Semaphore(BROWSER_CONNECTIONS)

        async def one(url: str) -> None:
            async with gate:
                await self.get(url)

        await asyncio.gather(*(one(url) for url in urls))
        return self.meter.http - before, time.monotonic() - started

    async def close(self) -> None:
        await self.pool.aclose()


@dataclass
class Tablet:
    socket: CountingConnection
    reader: Reader
    mode: str = "fetch"
    events: dict[int, float] = field(default_factory=dict)  # seq -> event received
    fetches: dict[int, asyncio.Task[float]] = field(default_factory=dict)  # seq -> image ready
    closed: bool = False

    def bytes_read(self) -> tuple[int, int]:
        return self.socket.received_bytes, self.reader.meter.http


async def listen(tablet: Tablet) -> None:
    """On each page.presented: note when it came and, fetching on show, fetch the page."""
    try:
        async for text in tablet.socket:
            now = time.monotonic()
            if not isinstance(text, str) or not text.startswith(PRESENTED):
                continue
            event = json.loads(text)
            tablet.events[event["seq"]] = now
            if tablet.mode == "fetch":
                fetch = asyncio.create_task(tablet.reader.page(event["page"]))
                tablet.fetches[event["seq"]] = fetch
    except ConnectionClosed:
        pass
    tablet.closed = True


@dataclass
class TabletSpec:
    ws_url: str
    origin: str
    book: Book
    cookies: list[str | None]
    book_parallel: int


async def open_tablet(spec: TabletSpec, cookie: str | None, gate: asyncio.Semaphore) -> Tablet:
    async with gate:
        connection = await connect(
            spec.ws_url,
            additional_headers={"Cookie": cookie} if cookie else None,
            origin=spec.origin,  # type: ignore[arg-type]
            max_size=16 << 20,
            open_timeout=60,
            ping_interval=None,
            create_connection=CountingConnection,
        )
        await say_hello(connection)
    assert isinstance(connection, CountingConnection)
    return Tablet(connection, Reader(spec.book, cookie))


async def turn_result(tablets: list[Tablet], order: dict[str, Any]) -> dict[str, Any]:
    """Waits until every tablet's page of turn `seq` is ready (or `within` s pass); its times
    since `sent` and the bytes read since the turn began."""
    seq, sent, marks = order["seq"], order["sent"], order["marks"]
    give_up = time.monotonic() + order["within"]
    while time.monotonic() < give_up:
        if all(t.closed or seq in t.events for t in tablets):
            break
        await asyncio.sleep(0.01)
    fetches = [t.fetches[seq] for t in tablets if seq in t.fetches]
    if fetches:
        await asyncio.wait(fetches, timeout=max(0.1, give_up - time.monotonic()))
    ready: list[float] = []
    errors: list[str] = []
    for tablet in tablets:
        if seq not in tablet.events:
            continue
        if tablet.mode == "book":
            ready.append(tablet.events[seq] - sent)
            continue
        fetch = tablet.fetches[seq]
        if not fetch.done():
            continue
        if fetch.exception() is not None:
            errors.append(repr(fetch.exception())[:200])
            continue
        ready.append(fetch.result() - sent)
    read = [t.bytes_read() for t in tablets]
    return {
        "ready_s": ready,
        "event_s": [t.events[seq] - sent for t in tablets if seq in t.events],
        "missed": len(tablets) - len(ready),
        "errors": errors[:5],
        "ws_bytes": sum(now[0] - then[0] for now, then in zip(read, marks, strict=True)),
        "http_bytes": sum(now[1] - then[1] for now, then in zip(read, marks, strict=True)),
        "disconnects": sum(t.closed for t in tablets),
        "retries": sum(t.reader.retries for t in tablets),
    }


async def download_books(tablets: list[Tablet], parallel: int) -> dict[str, Any]:
    """Every tablet downloads the whole book, `parallel` tablets at a time."""
    gate = asyncio.Semaphore(parallel)
    started = time.monotonic()

    async def one(tablet: Tablet) -> tuple[int, float]:
        async with gate:
            await tablet.reader.renew()
            return await tablet.reader.whole_book()

    done = await asyncio.gather(*(one(t) for t in tablets), return_exceptions=True)
    books = [d for d in done if isinstance(d, tuple)]
    return {
        "book_bytes": [size for size, _ in books],
        "book_s": [seconds for _, seconds in books],
        "book_errors": [repr(d)[:200] for d in done if not isinstance(d, tuple)][:5],
        "book_failed": len(done) - len(books),
        "all_s": time.monotonic() - started,
    }


async def take_orders(pipe: Pipe, spec: TabletSpec, tablets: list[Tablet]) -> None:
    marks: list[tuple[int, int]] = []
    while True:
        order = await receive(pipe, within=900)
        kind = order["type"]
        if kind == "close":
            return
        if kind == "mode":
            for tablet in tablets:
                tablet.mode = order["mode"]
            pipe.send({"ok": True})
        elif kind == "book":
            pipe.send(await download_books(tablets, spec.book_parallel))
        elif kind == "mark":
            await asyncio.gather(*(t.reader.renew() for t in tablets))
            for tablet in tablets:
                tablet.reader.retries = 0
            marks = [t.bytes_read() for t in tablets]
            pipe.send({"ok": True})
        elif kind == "collect":
            pipe.send(await turn_result(tablets, {**order, "marks": marks}))


async def run_tablets(spec: TabletSpec, pipe: Pipe) -> None:
    started = time.monotonic()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    opened = await asyncio.gather(*(open_tablet(spec, c, gate) for c in spec.cookies))
    tablets = list(opened)
    listeners = [asyncio.create_task(listen(t)) for t in tablets]
    response = tablets[0].socket.response if tablets else None
    pipe.send(
        {
            "connected": len(tablets),
            "connect_s": round(time.monotonic() - started, 1),
            "ws_extensions": response.headers.get("Sec-WebSocket-Extensions", "")
            if response
            else "",
        }
    )
    try:
        await take_orders(pipe, spec, tablets)
    finally:
        for tablet in tablets:
            for fetch in tablet.fetches.values():
                fetch.cancel()
        async with asyncio.timeout(20):
            await asyncio.gather(
                *(t.socket.close() for t in tablets),
                *(t.reader.close() for t in tablets),
                return_exceptions=True,
            )
        for listener in listeners:
            listener.cancel()


def tablets_process(spec: TabletSpec, pipe: Pipe) -> None:
    run_child(run_tablets(spec, pipe), pipe)


# --- the chair and the server (this process) -----------------------------------------------


def written_bytes(pid: int) -> int:
    """The server's bytes written so far (/proc/PID/io wchar: sockets and files alike)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise BenchFailed(f"/proc/{pid}/io has no wchar")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def publish_book(client: httpx.AsyncClient, token: str) -> int:
    """Publishes meeting 1's agenda book as the secretary; its document id."""
    headers = {"X-CSRFToken": token}
    path = f"/api/meetings/{MEETING}/publish"
    expect(await client.post(path, headers=headers), 202, "publishing the book")
    give_up = time.monotonic() + PUBLISH_WITHIN_S
    while time.monotonic() < give_up:
        job = expect(await client.get(path), 200, "asking how publishing goes").json()
        if job["state"] == "done":
            break
        if job["state"] == "failed":
            raise BenchFailed(f"publishing failed: {job}")
        await asyncio.sleep(0.2)
    else:
        raise BenchFailed(f"the book was not built within {PUBLISH_WITHIN_S} s")
    books = expect(await client.get(f"/api/meetings/{MEETING}/books"), 200, "GET books").json()
    return int(books[0]["document_id"])


async def the_book(server: Server, args: argparse.Namespace) -> Book:
    """Publishes the book; the document and the width a tablet asks for."""
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=60) as client:
        token = await sign_in(client, SECRETARY, DEMO_PASSWORD)
        started = time.monotonic()
        document_id = await publish_book(client, token)
        info = expect(await client.get(f"/api/documents/{document_id}"), 200, "GET the book")
        facts = info.json()
    widths = sorted(facts["widths"])
    width = next((w for w in widths if w >= args.width), widths[-1])  # as reader.js bucketFor
    progress(
        f"book {document_id} published in {time.monotonic() - started:.1f} s: "
        f"{facts['page_count']} pages, images {width} px wide"
    )
    return Book(server.url, document_id, int(facts["page_count"]), width)


async def warm_up(book: Book, cookie: str) -> dict[str, Any]:
    """One client downloads the whole book: the server renders every page once."""
    reader = Reader(book, cookie)
    try:
        size, seconds = await reader.whole_book()
    finally:
        await reader.close()
    progress(f"warm-up: the whole book is {size} bytes, read in {seconds:.1f} s")
    return {"bytes": size, "seconds": round(seconds, 2)}


@contextlib.asynccontextmanager
async def chair_socket(ws_url: str, origin: str, cookie: str) -> AsyncIterator[Chair]:
    connection = await connect(
        ws_url,
        additional_headers={"Cookie": cookie},
        origin=origin,  # type: ignore[arg-type]
        ping_interval=None,
    )
    await say_hello(connection)
    chair = Chair(connection)
    try:
        yield chair
    finally:
        await chair.close()


def split(cookies: list[str | None], parts: int) -> list[list[str | None]]:
    share = math.ceil(len(cookies) / parts)
    return [cookies[n : n + share] for n in range(0, len(cookies), share)]


def merged_turn(answers: list[dict[str, Any]]) -> dict[str, Any]:
    whole: dict[str, Any] = {}
    for answer in answers:
        for key, value in answer.items():
            whole[key] = whole.get(key, 0 if not isinstance(value, list) else []) + value
    return whole


async def one_turn(
    chair: Chair, tablets: Children, book: Book, page: int, server_pid: int
) -> dict[str, Any]:
    """The chair presents `page`; what the tablets read and how long their page took."""
    await tablets.ask({"type": "mark"}, within=60)
    written, cpu = written_bytes(server_pid), cpu_seconds(server_pid)
    sent, answer = await chair.present(page, book.document_id, page)
    seq = acked_seq(await asyncio.wait_for(answer, 60))
    order = {"type": "collect", "seq": seq, "sent": sent, "within": TURN_WITHIN_S}
    result = merged_turn(await tablets.ask(order, within=TURN_WITHIN_S + 30))
    result["server_wchar_bytes"] = written_bytes(server_pid) - written
    result["server_cpu_s"] = cpu_seconds(server_pid) - cpu
    result["page"] = page
    return result


def summary(turns: list[dict[str, Any]], tablets: int) -> dict[str, Any]:
    """Per followed turn (mean over the turns) and the latencies over all (tablet, turn)."""
    ready = [s for turn in turns for s in turn["ready_s"]]
    events = [s for turn in turns for s in turn["event_s"]]
    count = len(turns)
    per_turn = {
        key: round(sum(turn[key] for turn in turns) / count)
        for key in ("ws_bytes", "http_bytes", "server_wchar_bytes")
    }
    received = per_turn["ws_bytes"] + per_turn["http_bytes"]
    return {
        "turns": count,
        "pages": [turn["page"] for turn in turns],
        "bytes_per_turn": received,
        "bytes_per_turn_per_tablet": round(received / tablets),
        "ws_bytes_per_turn": per_turn["ws_bytes"],
        "http_bytes_per_turn": per_turn["http_bytes"],
        "server_wchar_bytes_per_turn": per_turn["server_wchar_bytes"],
        "bytes_per_turn_each": [turn["ws_bytes"] + turn["http_bytes"] for turn in turns],
        "ready_p50_ms": percentile_ms(ready, 0.50),
        "ready_p95_ms": percentile_ms(ready, 0.95),
        "ready_max_ms": percentile_ms(ready, 1.0),
        "event_p50_ms": percentile_ms(events, 0.50),
        "event_p95_ms": percentile_ms(events, 0.95),
        "event_max_ms": percentile_ms(events, 1.0),
        "missed": sum(turn["missed"] for turn in turns),
        "errors": [e for turn in turns for e in turn["errors"]][:5],
        "disconnects": max(turn["disconnects"] for turn in turns),
        "http_retries": sum(turn["retries"] for turn in turns),
        "server_cpu_ms_per_turn": round(sum(t["server_cpu_s"] for t in turns) * 1000 / count),
    }


async def run_mode(
    mode: str, chair: Chair, tablets: Children, book: Book, pages: list[int], server_pid: int
) -> list[dict[str, Any]]:
    await tablets.ask({"type": "mode", "mode": mode}, within=60)
    turns = []
    for page in pages:
        turn = await one_turn(chair, tablets, book, page, server_pid)
        progress(
            f"{MODES[mode]}: page {page}: {turn['ws_bytes'] + turn['http_bytes']} bytes, "
            f"{len(turn['ready_s'])} ready, p95 {percentile_ms(turn['ready_s'], 0.95)} ms"
        )
        turns.append(turn)
    return turns


def turn_pages(book: Book, turns: int) -> tuple[list[int], list[int]]:
    """Pages after page 1, each shown for the first time while there are pages: the first
    `turns` for mode A, the next for mode B."""
    if book.page_count < 2:
        return [1] * turns, [1] * turns
    pages = [2 + n % (book.page_count - 1) for n in range(2 * turns)]
    return pages[:turns], pages[turns:]


async def measure(args: argparse.Namespace, server: Server, usernames: list[str]) -> dict:
    await server.healthy()
    book = await the_book(server, args)
    hall, _ = await prepare_phonghop(server, usernames)
    chair_cookie = hall.chair_cookie or ""
    warm = await warm_up(book, chair_cookie)
    specs = [
        TabletSpec(hall.ws_url, hall.origin, book, part, args.book_parallel)
        for part in split(hall.tablet_cookies[: args.tablets], args.processes)
    ]
    fetch_pages, book_pages = turn_pages(book, args.turns)
    # The chair's socket opens first, so its arrival is in the tablets' snapshots, not a turn.
    async with chair_socket(hall.ws_url, hall.origin, chair_cookie) as chair:
        async with children_running(
            "the tablets", tablets_process, specs, ready_within=300
        ) as tablets:
            connected = sum(r["connected"] for r in tablets.ready)
            progress(f"{connected} tablets connected")
            fetching = await run_mode("fetch", chair, tablets, book, fetch_pages, server.pid)
            progress(f"every tablet downloads the book, {args.book_parallel} at a time each")
            written, cpu = written_bytes(server.pid), cpu_seconds(server.pid)
            downloads = await tablets.ask({"type": "book"}, within=600)
            books = merged_turn(downloads)
            books["all_s"] = max(d["all_s"] for d in downloads)
            book_written = written_bytes(server.pid) - written
            book_cpu = cpu_seconds(server.pid) - cpu
            holding = await run_mode("book", chair, tablets, book, book_pages, server.pid)
    a, b = summary(fetching, connected), summary(holding, connected)
    sizes, times = books["book_bytes"], books["book_s"]
    return {
        "benchmark": "pageturn",
        "cpus": os.cpu_count(),
        "loop": loop_name(),
        "load_avg_at_start": args.load_at_start,
        "tablets": connected,
        "tablet_processes": len(specs),
        "book": {
            "document_id": book.document_id,
            "pages": book.page_count,
            "image_width": book.width,
            "bytes_per_tablet": warm["bytes"],
            "bytes_per_tablet_min_max": [min(sizes, default=0), max(sizes, default=0)],
            "all_tablets_bytes": sum(sizes),
            "all_tablets_s": round(books["all_s"], 1),
            "per_tablet_p50_s": round(sorted(times)[len(times) // 2], 2) if times else None,
            "server_wchar_bytes": book_written,
            "server_cpu_s": round(book_cpu, 1),
            "failed_downloads": books["book_failed"],
            "download_errors": books["book_errors"],
            "warm_up_s": warm["seconds"],
        },
        "fetch_on_show": a,
        "book_on_tablet": b,
        "bytes_ratio": round(a["bytes_per_turn"] / max(1, b["bytes_per_turn"]), 1),
        "load_avg_at_end": [round(value, 2) for value in os.getloadavg()],
    }


def run(args: argparse.Namespace, data_dir: Path, deadline: Deadline) -> dict[str, Any]:
    return in_hall(
        data_dir,
        args.tablets,
        args.port,
        deadline,
        lambda server, names: measure(args, server, names),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_at_start = [round(value, 2) for value in os.getloadavg()]
    progress(f"load average {args.load_at_start}")
    raise_fd_limit()
    stop_on_sigterm()
    deadline = Deadline(args.timeout)
    return run_benchmark(
        lambda data_dir: run(args, data_dir, deadline),
        httpx.HTTPError,
        httpcore.NetworkError,
        OSError,
        ConnectionClosed,
    )


if __name__ == "__main__":
    sys.exit(main())
