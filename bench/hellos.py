"""Cold hellos: a whole hall opens its sockets at once and asks for a snapshot.

The case: the hall's Wi-Fi comes back after a drop, or everyone opens the reader at 8:00. N
tablets (default 500) connect at the same moment and each sends `{"type":"hello","id":1,
"since":null}`; the server must answer every one with `{"type":"snapshot",…}`.

Setup (not timed): `phonghop serve` (SQLite, log level WARNING) on a temporary data dir seeded
with the demo council and N delegates of meeting 1, every one signed in beforehand over HTTP
(bench/hall.py's `prepare_data_dir` and `prepare_phonghop`: one argon2 login each, so no login
happens while measuring). Then `--markers` of them (default 100) share `--marks` ink strokes
(default 2,000) with the meeting over their sockets (`annotation.put`, `visibility: "meeting"`),
each a pen stroke of 50-200 points `[x, y, pressure]` as web/static/js/pen.js records them,
spread over the meeting's documents and pages.

Timed: the tablets live in `--client-processes` child processes (default 1, as bench/fanout.py
does, so the clients do not eat the server's core). At one agreed moment every tablet opens its
websocket and says hello; per tablet: connect start -> socket open, and connect start -> the
snapshot fully received (CLOCK_MONOTONIC, one clock for all processes on Linux). Reported:
snapshots received, errors and unanswered hellos, p50/p99/max, the wall time from the start to
the last snapshot, snapshot bytes (total and mean), the server's loop lag over the burst (its own
`LoopLag`, read from /healthz?window=<seconds since the start>), and the CPU seconds used by the
server, the clients and other programs meanwhile. The snapshot is recognised by its type only:
what is inside it is the server's business.

Anchor, in the same run: a bare `websockets` server (a child process, uncompressed like
`phonghop serve`) that answers each hello with one fixed text message as large as phonghop's
mean snapshot, then an ack; the same number of tablets, the same client code.

Targets (issue 13): all N hellos answered with a snapshot within 3 s, loop lag p99 < 50 ms.

Run from the project root:

    .venv/bin/python bench/hellos.py [--tablets 500] [--marks 2000] [--markers 100]

A quick run: `--tablets 50 --marks 200`. One JSON object goes to stdout, progress to stderr. The
server, the anchor, the client processes and the temporary data dir are removed at the end, also
on errors and on the overall timeout. Exit code 0 when the benchmark ran (even with targets
missed), 1 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx
from hall import (
    DEMO_PASSWORD,
    MEETING,
    SECRETARY,
    Hall,
    documents_of,
    dumps,
    expect,
    in_hall,
    open_socket,
    prepare_phonghop,
    sign_in,
)
from harness import (
    HOST,
    SERVER_START_S,
    BenchFailed,
    Children,
    Deadline,
    Server,
    child_serving,
    children_running,
    loop_name,
    merged,
    percentile_ms,
    progress,
    raise_fd_limit,
    receive,
    run_benchmark,
    run_child,
    run_loop,
    stop_on_sigterm,
)
from machine import CpuMark, family, wait_for_quiet
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

HELLO = '{"type":"hello","id":1,"since":null}'
SNAPSHOT_TYPE = b'"type":"snapshot"'
TARGET_ALL_WITHIN_S = 3.0
TARGET_LOOP_LAG_P99_MS = 50.0
MARKERS_AT_ONCE = 10  # sockets sharing marks during setup at the same time
PUT_ATTEMPTS = 3
PASSING = ("internal", "too_fast")  # refusals of a mark that may pass when sent again
START_DELAY_S = 1.0  # the client processes get the start moment this far ahead
PEN_COLORS = ("#1f5fa8", "#c02020", "#1a7f37", "#111111")
PEN_WIDTH = 0.005


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=500, help="cold hellos at once")
    parser.add_argument("--marks", type=int, default=2000, help="shared ink marks in the meeting")
    parser.add_argument("--markers", type=int, default=100, help="delegates who made them")
    parser.add_argument("--client-processes", type=int, default=1, help="tablet processes")
    parser.add_argument("--hello-timeout", type=float, default=120.0, help="per tablet, seconds")
    parser.add_argument("--port", type=int, default=8777, help="phonghop's port on 127.0.0.1")
    parser.add_argument("--anchor-port", type=int, default=8778, help="the anchor's port")
    parser.add_argument("--max-load", type=float, default=1.5, help="1-minute load to wait out")
    parser.add_argument("--load-wait", type=float, default=120.0, help="longest wait, seconds")
    parser.add_argument("--seed", type=int, default=13, help="for the strokes")
    parser.add_argument("--timeout", type=float, default=1200.0, help="overall limit in seconds")
    args = parser.parse_args()
    if args.tablets < 1 or args.marks < 0 or args.client_processes < 1:
        parser.error("--tablets and --client-processes must be at least 1, --marks at least 0")
    args.markers = max(1, min(args.markers, args.tablets))
    return args


# --- setup: shared ink marks ----------------------------------------------------------------


def ink_stroke(rng: random.Random) -> dict[str, Any]:
    """A pen stroke as the reader records it: 50-200 points along a wandering line, each
    `[x, y, pressure]` rounded to 4 decimals (web/static/js/pen.js)."""
    x, y = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
    heading = rng.uniform(0, 2 * math.pi)
    pressure = rng.uniform(0.3, 0.7)
    points = []
    for _ in range(rng.randint(50, 200)):
        heading += rng.gauss(0, 0.25)
        x = min(1.0, max(0.0, x + 0.004 * math.cos(heading)))
        y = min(1.0, max(0.0, y + 0.004 * math.sin(heading)))
        pressure = min(1.0, max(0.0, pressure + rng.gauss(0, 0.03)))
        points.append([round(x, 4), round(y, 4), round(pressure, 4)])
    return {"points": points, "width": PEN_WIDTH, "color": rng.choice(PEN_COLORS)}


def shared_mark(rng: random.Random, pages: list[tuple[int, int]]) -> dict[str, Any]:
    document_id, page_count = rng.choice(pages)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "document_id": document_id,
        "page": rng.randint(1, page_count),
        "kind": "ink",
        "data": ink_stroke(rng),
        "visibility": "meeting",
    }


async def answers_to(connection: ClientConnection, ids: set[str], within: float) -> list[dict]:
    """Reads the socket until every message id in `ids` has its ack or error."""
    answers = []
    async with asyncio.timeout(within):
        async for text in connection:
            if len(text) > 4096 or '"id"' not in text[:200]:
                continue  # events (the marks of others, snapshots): not answers
            message = json.loads(text)
            if message.get("type") in ("ack", "error") and message.get("id") in ids:
                answers.append(message)
                ids.discard(message["id"])
                if not ids:
                    return answers
    raise BenchFailed("a marker's socket closed before its marks were answered")


async def share_marks(
    hall: Hall, marker_cookies: list[str | None], pages: list[tuple[int, int]], args: Any
) -> dict[str, Any]:
    """`--marks` shared ink strokes from the markers, MARKERS_AT_ONCE sockets at a time."""
    rng = random.Random(args.seed)
    every = [shared_mark(rng, pages) for _ in range(args.marks)]
    batches = [every[n :: len(marker_cookies)] for n in range(len(marker_cookies))]
    gate = asyncio.Semaphore(MARKERS_AT_ONCE)
    outcomes: Counter[str] = Counter()
    sizes: list[int] = []

    async def put_all(connection: ClientConnection, marks: list[dict[str, Any]]) -> None:
        """Sends the marks; the ones refused for a passing reason (a locked database, pacing)
        go again, under the same UUIDs, up to PUT_ATTEMPTS times."""
        waiting = dict(enumerate(marks))
        for attempt in range(1, PUT_ATTEMPTS + 1):
            ids = {f"m{number}.{attempt}": number for number in waiting}
            for message_id, number in ids.items():
                message = {"type": "annotation.put", "id": message_id}
                text = dumps({**message, "annotation": waiting[number]})
                sizes.append(len(text.encode()))
                await connection.send(text)
            for answer in await answers_to(connection, set(ids), 300):
                code = "stored" if answer["type"] == "ack" else str(answer.get("code"))
                if code in PASSING and attempt < PUT_ATTEMPTS:
                    outcomes[f"{code} (sent again)"] += 1
                    continue
                outcomes[code] += 1
                del waiting[ids[answer["id"]]]
            if not waiting:
                return
            await asyncio.sleep(1)

    async def mark(cookie: str | None, marks: list[dict[str, Any]]) -> None:
        if not marks:
            return
        async with gate:
            connection = await open_socket(hall.ws_url, hall.origin, cookie)
            try:
                await put_all(connection, marks)
            finally:
                await connection.close()

    started = time.monotonic()
    await asyncio.gather(*(mark(c, b) for c, b in zip(marker_cookies, batches, strict=True)))
    refused = {code: n for code, n in outcomes.items() if code != "stored"}
    return {
        "requested": args.marks,
        "stored": outcomes["stored"],
        "refused": refused,
        "markers": len(marker_cookies),
        "documents": len({document for document, _ in pages}),
        "put_bytes_mean": round(sum(sizes) / len(sizes)) if sizes else 0,
        "setup_s": round(time.monotonic() - started, 1),
    }


async def meeting_pages(base_url: str) -> list[tuple[int, int]]:
    """(document id, page count) of every document of the meeting."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60) as secretary:
        await sign_in(secretary, SECRETARY, DEMO_PASSWORD)
        got = expect(await secretary.get(f"/api/meetings/{MEETING}"), 200, "GET the meeting")
        meeting = got.json()
    pages = [(int(d["id"]), int(d["page_count"])) for d in documents_of(meeting["items"])]
    if not pages:
        raise BenchFailed(f"meeting {MEETING} has no document to mark")
    return pages


# --- the tablets: a child process that says hello when told ---------------------------------


@dataclass
class BurstSpec:
    url: str
    origin: str
    cookies: list[str | None]
    hello_timeout: float


async def hello_once(spec: BurstSpec, cookie: str | None, start: float) -> dict[str, Any]:
    """One tablet: connect, hello, until the snapshot. Its socket then stays open (read and
    dropped) until the process is told to close, as a tablet stays in the meeting."""
    result: dict[str, Any] = {"outcome": "no_answer"}
    try:
        async with asyncio.timeout(max(0.0, start + spec.hello_timeout - time.monotonic())):
            connection = await connect(
                spec.url,
                additional_headers={"Cookie": cookie} if cookie else None,
                origin=spec.origin,  # type: ignore[arg-type]
                max_size=None,
                open_timeout=None,
                ping_interval=None,
            )
            result["connection"] = connection
            result["open_s"] = time.monotonic() - start
            await connection.send(HELLO)
            while True:
                data = await connection.recv(decode=False)
                if SNAPSHOT_TYPE in data[:64]:
                    result.update(outcome="snapshot", snapshot_s=time.monotonic() - start)
                    result["bytes"] = len(data)
                    return result
                if len(data) < 65536:
                    message = json.loads(data)
                    if message.get("id") == 1 and message.get("type") in ("ack", "error"):
                        # an answer before any snapshot: refused, or no snapshot at all
                        result["outcome"] = str(message.get("code", "ack_without_snapshot"))
                        return result
    except TimeoutError:
        result["outcome"] = "no_answer"
    except ConnectionClosed as exc:
        result["outcome"] = f"closed {exc.rcvd.code if exc.rcvd else 'without a code'}"
    except InvalidStatus as exc:
        result["outcome"] = f"refused {exc.response.status_code}"
    except (OSError, WebSocketException) as exc:
        result["outcome"] = f"connect failed: {type(exc).__name__}"
    return result


async def drop_the_rest(connection: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in connection:
            pass


async def run_burst(spec: BurstSpec, pipe: Pipe) -> None:
    pipe.send({"ready": True})
    order = await receive(pipe, within=300)
    start = order["start"]
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    results = await asyncio.gather(*(hello_once(spec, c, start) for c in spec.cookies))
    connections = [r.pop("connection") for r in results if "connection" in r]
    readers = [asyncio.create_task(drop_the_rest(c)) for c in connections]
    response = connections[0].response if connections else None
    pipe.send(
        {
            "tablets": len(results),
            "outcomes": [r["outcome"] for r in results],
            "open_s": [r["open_s"] for r in results if "open_s" in r],
            "snapshot_s": [r["snapshot_s"] for r in results if "snapshot_s" in r],
            "bytes": [r["bytes"] for r in results if "bytes" in r],
            "extensions": response.headers.get("Sec-WebSocket-Extensions", "") if response else "",
        }
    )
    try:
        await receive(pipe, within=600)  # close
    finally:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
        for reader in readers:
            reader.cancel()


def burst_process(spec: BurstSpec, pipe: Pipe) -> None:
    run_child(run_burst(spec, pipe), pipe)


def tablets_ready(specs: list[BurstSpec]) -> contextlib.AbstractAsyncContextManager[Children]:
    """The tablet processes, started (their imports done) and waiting for the start moment."""
    return children_running("the tablets", burst_process, specs, ready_within=SERVER_START_S)


def burst_specs(url: str, origin: str, cookies: list[str | None], args: Any) -> list[BurstSpec]:
    parts = min(args.client_processes, len(cookies))
    return [BurstSpec(url, origin, cookies[n::parts], args.hello_timeout) for n in range(parts)]


async def loop_lag(base_url: str, window_s: float) -> dict[str, Any]:
    """The server's own loop lag over the last `window_s` seconds (its LoopLag, /healthz)."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as client:
        response = await client.get("/healthz", params={"window": round(window_s, 2)})
    return expect(response, 200, "GET /healthz").json()["loop_lag"]


async def burst(
    label: str, specs: list[BurstSpec], server_pid: int, args: Any, health_url: str | None = None
) -> dict[str, Any]:
    """Every tablet connects and says hello at one moment; what they saw, and the CPU used."""
    await wait_for_quiet(label, args)
    async with tablets_ready(specs) as tablets:
        client_pids = tablets.pids
        mark = CpuMark()
        start = time.monotonic() + START_DELAY_S
        progress(f"{label}: {sum(len(s.cookies) for s in specs)} hellos at once")
        within = args.hello_timeout + START_DELAY_S + 60
        seen = merged(await tablets.ask({"type": "start", "start": start}, within))
        end = CpuMark()
        lag = await loop_lag(health_url, time.monotonic() - start) if health_url else None
    # ours: this process and its children (the server or the anchor, the tablets)
    ours = sum(mark.used_s(end, pid) for pid in family(end.table, os.getpid()))
    elapsed = max(1e-3, end.at - mark.at)
    others = max(0.0, (end.machine - mark.machine) / os.sysconf("SC_CLK_TCK") - ours)
    answered = seen["snapshot_s"]
    report = {
        "tablets": seen["tablets"],
        "answered": len(answered),
        "outcomes": dict(Counter(seen["outcomes"])),
        "open_p50_ms": percentile_ms(seen["open_s"], 0.50),
        "open_p99_ms": percentile_ms(seen["open_s"], 0.99),
        "p50_ms": percentile_ms(answered, 0.50),
        "p99_ms": percentile_ms(answered, 0.99),
        "max_ms": percentile_ms(answered, 1.0),
        "last_snapshot_s": round(max(answered), 3) if answered else None,
        "within_3s": sum(s <= TARGET_ALL_WITHIN_S for s in answered),
        "snapshot_bytes_total": sum(seen["bytes"]),
        "snapshot_bytes_mean": round(sum(seen["bytes"]) / len(seen["bytes"])) if answered else 0,
        "server_cpu_s": round(mark.used_s(end, server_pid), 2),
        "clients_cpu_s": round(sum(mark.used_s(end, pid) for pid in client_pids), 2),
        "others_cpu_cores": round(others / elapsed, 2),
        "ws_extensions": seen["extensions"],
        **({"loop_lag": lag} if lag is not None else {}),
    }
    progress(f"{label}: {report}")
    return report


# --- the anchor: a bare websockets server with a fixed answer (a child process) -------------


def anchor_process(port: int, size: int, ready: Any) -> None:
    run_loop(anchor_serve(port, size, ready))


def fixed_snapshot(size: int) -> bytes:
    """A snapshot-shaped JSON text of `size` bytes."""
    head, tail = '{"type":"snapshot","seq":0,"state":{"pad":"', '"}}'
    return (head + "x" * max(0, size - len(head) - len(tail)) + tail).encode()


async def anchor_serve(port: int, size: int, ready: Any) -> None:
    """hello -> the fixed snapshot, then the ack; nothing else."""
    snapshot = fixed_snapshot(size)

    async def handler(connection: ServerConnection) -> None:
        async for text in connection:
            message = json.loads(text)
            if message.get("type") == "hello":
                await connection.send(snapshot, text=True)
                await connection.send(dumps({"type": "ack", "id": message["id"], "seq": 0}))

    # uncompressed, as `phonghop serve` sends; uvicorn's listen backlog
    async with serve(handler, HOST, port, compression=None, max_size=1 << 20, backlog=2048):
        ready.set()
        await asyncio.Future()


@contextlib.contextmanager
def running_anchor(port: int, size: int) -> Iterator[tuple[str, int]]:
    with child_serving("the anchor server", port, anchor_process, size) as pid:
        yield f"ws://{HOST}:{port}/ws/meetings/{MEETING}", pid


# --- putting it together --------------------------------------------------------------------


def met(ours: dict[str, Any]) -> bool:
    lag = ours.get("loop_lag") or {}
    return bool(
        ours["answered"] == ours["tablets"]
        and ours["within_3s"] == ours["tablets"]
        and lag.get("samples")
        and lag["p99_ms"] < TARGET_LOOP_LAG_P99_MS
    )


async def measure(args: argparse.Namespace, server: Server, usernames: list[str]) -> dict:
    base_url = server.url
    started = time.monotonic()
    hall, _ = await prepare_phonghop(server, usernames)
    signed_in_s = time.monotonic() - started
    pages = await meeting_pages(base_url)
    progress(f"sharing {args.marks} ink marks from {args.markers} delegates")
    marks = await share_marks(hall, hall.tablet_cookies[: args.markers], pages, args)
    progress(f"marks: {marks}")
    await asyncio.sleep(2)  # the markers' departures are done with
    specs = burst_specs(hall.ws_url, hall.origin, hall.tablet_cookies, args)
    ours = await burst("phonghop", specs, server.pid, args, base_url)
    size = ours["snapshot_bytes_mean"] or 1000
    with running_anchor(args.anchor_port, size) as (anchor_url, anchor_pid):
        origin = f"http://{HOST}:{args.anchor_port}"
        anchor_specs = burst_specs(anchor_url, origin, [None] * args.tablets, args)
        anchor = await burst("anchor", anchor_specs, anchor_pid, args)
    return {
        "benchmark": "hellos",
        "cpus": os.cpu_count(),
        "loop": loop_name(),
        "tablets": args.tablets,
        "client_processes": len(specs),
        "participants_signed_in_s": round(signed_in_s, 1),
        "marks": marks,
        "phonghop": ours,
        "anchor": {"message_bytes": size, **anchor},
        "p99_ratio": round(ours["p99_ms"] / anchor["p99_ms"], 1)
        if ours["p99_ms"] and anchor["p99_ms"]
        else None,
        "targets": {
            "all_answered_within_s": TARGET_ALL_WITHIN_S,
            "loop_lag_p99_ms": TARGET_LOOP_LAG_P99_MS,
        },
        "met": met(ours),
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


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    stop_on_sigterm()
    deadline = Deadline(args.timeout)
    return run_benchmark(
        lambda data_dir: run(args, data_dir, deadline), httpx.HTTPError, OSError, ConnectionClosed
    )


if __name__ == "__main__":
    sys.exit(main())
