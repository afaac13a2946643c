"""Fan-out benchmark: how fast the chair's page turn reaches every tablet in the hall.

What it measures, for N tablets (default 100 and 500):

1. phonghop: `phonghop serve` (SQLite, log level WARNING) on a temporary data dir seeded with
   the demo council (`phonghop demo --seed-only`) and N extra delegates, imported with
   `phonghop import-users` and added to meeting 1 with POST /api/meetings/1/participants as
   the secretary. Every tablet signs in over HTTP (its own session cookie), opens
   ws://…/ws/meetings/1 and says hello. The tablets live in a child process; the chair
   (`chutoa`, in this process) presents `--turns` page turns, one every `--interval-ms`,
   alternating pages 1 and 2 of a real document. Delivery latency is the time a tablet got
   `page.presented` minus the time the chair sent that turn, both on CLOCK_MONOTONIC, which
   is one clock for all processes on Linux. Reported: p50, p99 and max over all
   (tablet, turn) pairs, and the pairs that never arrived ("missed").
2. broadcast, the anchor: a minimal server on websockets' own asyncio server that answers
   hello with an ack and turns each `page.present` into a `page.presented` of the same size
   (the same JSON with the same title), sent to every socket with `websockets.broadcast`.
   Same tablets, same chair, same turns, same event loop (uvloop when installed, as uvicorn
   picks it), so the difference is what phonghop adds on top of Python and websockets.
3. sustained: with `--sustain-clients` phonghop tablets, the chair presents turns back to
   back, each as soon as the previous one is acked, for `--sustain-seconds`. Reported: turns
   acked per second, turns some tablet never got, the largest backlog (newest seq acked minus
   the furthest-behind tablet's newest seq, sampled every second) and closed sockets.

Each round also reports the CPU time the server and the tablets used per turn (from
/proc/PID/stat, steadier than latencies on a shared machine) and how many cores other programs
used meanwhile. Targets: at 500 tablets, p99 at most 1.5x the anchor's and at most 50 ms; at
least 50 turns/s sustained; nothing missed, nobody disconnected.

The machine must be quiet. Before each round the 1-minute load average is read; above
`--max-load` the benchmark waits (at most `--load-wait` s) until it drops, or until the CPUs
are idle right now (the average still remembering the previous round). A round during which
other programs used more than a quarter of a core is measured again (`--retries`, on the same
connected tablets) and the quietest attempt is kept. Server errors logged meanwhile are counted.

With `--two-servers`: the same rounds against two `phonghop serve` processes (ports `--port`
and `--second-port`) on a throwaway PostgreSQL database and Redis (bench/cluster.py, as in
bench/votes.py). The chair is on the first server; the tablets are split evenly between the two,
one tablet process each (the anchor's tablets are split over two processes as well). Server CPU
is the sum over both processes.

Run from the project root:

    .venv/bin/python bench/fanout.py [--clients 100,500] [--turns 200] [--sustain-seconds 60]
        [--two-servers]

One JSON object goes to stdout, progress to stderr. The servers, the tablet processes and
the temporary data dir are removed at the end, also on errors and on the overall timeout.
Exit code 0 when the benchmark ran (even with targets missed), 1 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster import add_cluster_arguments, shared_environment
from hall import (
    CONNECT_CONCURRENCY,
    MEETING,
    Chair,
    Hall,
    TabletSpec,
    acked_seq,
    close_all,
    dumps,
    in_hall,
    open_socket,
    prepare_data_dir,
    prepare_phonghop,
)
from harness import (
    HOST,
    Children,
    Deadline,
    Server,
    child_serving,
    children_running,
    logged_errors,
    loop_name,
    measure_within,
    merged,
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
from machine import CLOCK_TICKS, NOISE_CORES, CpuMark, family, wait_for_quiet
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

PRESENTED = '{"type":"page.presented","seq":'
TARGET_RATIO = 1.5
TARGET_P99_MS = 50
TARGET_EVENTS_PER_S = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,500", help="tablet counts, comma-separated")
    parser.add_argument("--turns", type=int, default=200, help="page turns per measurement")
    parser.add_argument("--interval-ms", type=float, default=25.0, help="time between turns")
    parser.add_argument("--sustain-seconds", type=float, default=60.0, help="0 to skip")
    parser.add_argument("--sustain-clients", type=int, default=500)
    parser.add_argument("--port", type=int, default=8771, help="phonghop's port on 127.0.0.1")
    parser.add_argument("--anchor-port", type=int, default=8772, help="the anchor's port")
    parser.add_argument("--max-load", type=float, default=1.5, help="1-minute load to wait out")
    parser.add_argument("--load-wait", type=float, default=120.0, help="longest wait, seconds")
    parser.add_argument("--retries", type=int, default=2, help="new attempts of a noisy round")
    parser.add_argument("--timeout", type=float, default=900.0, help="overall limit in seconds")
    add_cluster_arguments(parser)
    parser.add_argument("--second-port", type=int, default=8770, help="with --two-servers")
    args = parser.parse_args()
    try:
        args.clients = sorted({int(part) for part in args.clients.split(",") if part.strip()})
    except ValueError:
        parser.error("--clients takes numbers separated by commas, like 100,500")
    if not args.clients or min(args.clients) < 1 or args.turns < 2:
        parser.error("--clients must be at least 1 and --turns at least 2")
    return args


# --- who used the CPU, and a quiet round -----------------------------------------------------


def cpu_report(start: CpuMark, server_pids: list[int], tablets_pids: list[int], turns: int) -> dict:
    """CPU per turn of the server(s) and of the tablets (summed over their processes), and the
    cores others used meanwhile."""
    end = CpuMark()
    ours = sum(start.used_s(end, pid) for pid in family(end.table, os.getpid()))
    others = (end.machine - start.machine) / CLOCK_TICKS - ours
    servers = sum(start.used_s(end, pid) for pid in server_pids)
    tablets = sum(start.used_s(end, pid) for pid in tablets_pids)
    return {
        "server_cpu_ms_per_turn": round(servers * 1000 / turns, 2),
        "tablets_cpu_ms_per_turn": round(tablets * 1000 / turns, 2),
        "others_cpu_cores": round(max(0.0, others) / max(1e-3, end.at - start.at), 2),
    }


async def quietest(
    label: str, args: argparse.Namespace, attempt: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Runs `attempt` again (up to --retries) while other programs disturb it; the quietest."""
    best: dict[str, Any] | None = None
    for number in range(1, args.retries + 2):
        machine = await wait_for_quiet(label, args)
        report = {**(await attempt()), **machine, "attempts": number}
        if best is None or report["others_cpu_cores"] < best["others_cpu_cores"]:
            best = report
        if report["others_cpu_cores"] <= NOISE_CORES:
            break
        progress(f"{label}: others used {report['others_cpu_cores']} cores meanwhile")
    assert best is not None
    best["attempts"] = number
    best["quiet"] = best["others_cpu_cores"] <= NOISE_CORES
    return best


# --- the anchor: websockets' own server and broadcast (a child process) ---------------------


def anchor_process(port: int, document: dict[str, Any], ready: Any) -> None:
    run_loop(anchor_serve(port, document, ready))


async def anchor_serve(port: int, document: dict[str, Any], ready: Any) -> None:
    """hello -> ack; page.present -> page.presented to every socket (broadcast), then ack."""
    room: set[ServerConnection] = set()
    numbers = itertools.count(1)

    def presented(message: dict[str, Any]) -> tuple[int, str]:
        seq = next(numbers)
        event = {
            "type": "page.presented",
            "seq": seq,
            "document_id": message["document_id"],
            "page": message["page"],
            "by": 3,
            "item_id": document["item_id"],
            "title": document["title"],
        }
        return seq, dumps(event)

    async def handler(connection: ServerConnection) -> None:
        try:
            async for text in connection:
                message = json.loads(text)
                if message.get("type") == "hello":
                    room.add(connection)
                    await connection.send(dumps({"type": "ack", "id": message["id"], "seq": 0}))
                elif message.get("type") == "page.present":
                    seq, event = presented(message)
                    broadcast(room, event)
                    await connection.send(dumps({"type": "ack", "id": message["id"], "seq": seq}))
        finally:
            room.discard(connection)

    async with serve(handler, HOST, port, max_size=1 << 20):
        ready.set()
        await asyncio.Future()


@contextlib.contextmanager
def running_anchor(port: int, document: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """The anchor server in a child process for the block; yields its ws:// URL and pid."""
    with child_serving("the anchor server", port, anchor_process, document) as pid:
        yield f"ws://{HOST}:{port}/ws/meetings/{MEETING}", pid


# --- the tablets (a child process that takes orders over a pipe) ----------------------------


@dataclass
class Tablet:
    socket: ClientConnection
    times: dict[int, float] = field(default_factory=dict)
    last_seq: int = 0
    received: int = 0
    gaps: int = 0
    closed: bool = False


@dataclass
class Round:
    """What this round of turns records: a time per turn (paced) or counts only (sustained)."""

    keep_times: bool = True
    max_backlog: int = 0


async def open_tablets(spec: TabletSpec) -> tuple[list[Tablet], list[str]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(cookie: str | None) -> ClientConnection:
        async with gate:
            return await open_socket(spec.url, spec.origin, cookie)

    opened = await asyncio.gather(*(one(c) for c in spec.cookies), return_exceptions=True)
    tablets = [Tablet(item) for item in opened if isinstance(item, ClientConnection)]
    failures = [repr(item)[:200] for item in opened if not isinstance(item, ClientConnection)]
    return tablets, failures


async def listen(tablet: Tablet, now_round: Round) -> None:
    """Notes when each page.presented arrives: the time first, then the seq from the text."""
    start = len(PRESENTED)
    try:
        async for text in tablet.socket:
            now = time.monotonic()
            if not isinstance(text, str) or not text.startswith(PRESENTED):
                continue
            seq = int(text[start : text.index(",", start)])
            if now_round.keep_times:
                tablet.times[seq] = now
            if tablet.received and seq != tablet.last_seq + 1:
                tablet.gaps += 1
            tablet.last_seq = seq
            tablet.received += 1
    except ConnectionClosed:
        pass
    tablet.closed = True


async def sample_backlog(tablets: list[Tablet], shared: Any, now_round: Round) -> None:
    """Every second: newest seq acked to the chair minus the furthest-behind tablet's seq."""
    while True:
        await asyncio.sleep(1)
        first, newest = shared[0], shared[1]
        if not newest:
            continue
        behind = max((newest - max(t.last_seq, first - 1) for t in tablets), default=0)
        now_round.max_backlog = max(now_round.max_backlog, behind)


async def drain(tablets: list[Tablet], last_seq: int, seconds: float) -> None:
    """Waits until every open tablet has `last_seq`, or `seconds` pass."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if all(t.closed or t.last_seq >= last_seq for t in tablets):
            return
        await asyncio.sleep(0.02)


def latencies_of(tablets: list[Tablet], send_times: dict[int, float]) -> tuple[list[float], int]:
    latencies = []
    for tablet in tablets:
        for seq, sent in send_times.items():
            got = tablet.times.get(seq)
            if got is not None:
                latencies.append(got - sent)
    return latencies, len(tablets) * len(send_times) - len(latencies)


async def collect(tablets: list[Tablet], order: dict[str, Any], now_round: Round) -> dict:
    await drain(tablets, order["last_seq"], order["drain_s"])
    result = {
        "tablets": len(tablets),
        "disconnects": sum(t.closed for t in tablets),
        "close_codes": [t.socket.close_code for t in tablets if t.closed],
        "received": sum(t.received for t in tablets),
        "gaps": sum(t.gaps for t in tablets),
        "max_backlog": now_round.max_backlog,
    }
    if order.get("send_times"):
        result["latencies"], result["missed"] = latencies_of(tablets, order["send_times"])
    return result


def start_round(tablets: list[Tablet], now_round: Round, keep_times: bool) -> None:
    for tablet in tablets:
        tablet.times.clear()
        tablet.received = tablet.gaps = 0
    now_round.keep_times = keep_times
    now_round.max_backlog = 0


async def take_orders(pipe: Pipe, tablets: list[Tablet], now_round: Round) -> None:
    """Orders from the chair's side: a new round, collect the round's counts, or close."""
    while True:
        order = await receive(pipe, within=900)
        if order["type"] == "close":
            return
        if order["type"] == "round":
            start_round(tablets, now_round, order["keep_times"])
            pipe.send({"ok": True})
        elif order["type"] == "collect":
            pipe.send(await collect(tablets, order, now_round))


def extensions(tablets: list[Tablet]) -> str:
    """The extensions the server agreed to (permessage-deflate or none)."""
    response = tablets[0].socket.response if tablets else None
    return response.headers.get("Sec-WebSocket-Extensions", "") if response else ""


async def run_tablets(spec: TabletSpec, pipe: Pipe, shared: Any) -> None:
    started = time.monotonic()
    tablets, failures = await open_tablets(spec)
    now_round = Round()
    listeners = [asyncio.create_task(listen(t, now_round)) for t in tablets]
    sampler = asyncio.create_task(sample_backlog(tablets, shared, now_round))
    ready = {
        "connected": len(tablets),
        "connect_s": round(time.monotonic() - started, 1),
        "failures": failures[:5],
        "extensions": extensions(tablets),
    }
    pipe.send(ready)
    try:
        await take_orders(pipe, tablets, now_round)
    finally:
        sampler.cancel()
        await close_all([t.socket for t in tablets])
        for listener in listeners:
            listener.cancel()


def tablets_process(spec: TabletSpec, pipe: Pipe, shared: Any) -> None:
    run_child(run_tablets(spec, pipe, shared), pipe)


@dataclass
class Tablets:
    """The tablet processes (one per server) as the chair's side sees them."""

    processes: Children
    shared: Any  # [first seq acked, newest seq acked] of the current round, for all processes

    @property
    def pids(self) -> list[int]:
        return self.processes.pids

    @property
    def ready(self) -> dict[str, Any]:
        return merged(self.processes.ready)

    async def ask(self, order: dict[str, Any], within: float = 120) -> dict[str, Any]:
        return merged(await self.processes.ask(order, within))

    async def new_round(self, keep_times: bool) -> None:
        self.shared[0] = self.shared[1] = 0
        await self.ask({"type": "round", "keep_times": keep_times})


@contextlib.asynccontextmanager
async def tablets_running(specs: list[TabletSpec]) -> AsyncIterator[Tablets]:
    """The tablets in child processes (one per spec), connected and greeted, for the block."""
    shared = multiprocessing.get_context("spawn").Array("q", 2)
    async with children_running(
        "the tablets", tablets_process, specs, shared, ready_within=300
    ) as processes:
        yield Tablets(processes, shared)


# --- the chair (this process) ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def chair_of(hall: Hall) -> AsyncIterator[Chair]:
    chair = Chair(await open_socket(hall.ws_url, hall.origin, hall.chair_cookie))
    try:
        await asyncio.sleep(1)  # the chair's own presence.changed reaches everyone first
        yield chair
    finally:
        await chair.close()


def note_acked(shared: Any, future: asyncio.Future[dict[str, Any]]) -> None:
    if not future.cancelled() and future.exception() is None:
        seq = int(future.result().get("seq", 0))
        shared[0] = shared[0] or seq
        shared[1] = max(shared[1], seq)


async def paced_turns(chair: Chair, hall: Hall, args: argparse.Namespace, shared: Any) -> dict:
    """`--turns` turns, one every `--interval-ms`; returns seq -> the time it was sent."""
    interval = args.interval_ms / 1000
    sent_turns = []
    start = time.monotonic()
    for number in range(args.turns):
        await asyncio.sleep(max(0.0, start + number * interval - time.monotonic()))
        sent, future = await chair.present(number, hall.document_id, 1 + number % 2)
        future.add_done_callback(functools.partial(note_acked, shared))
        sent_turns.append((sent, future))
    answers = await asyncio.wait_for(asyncio.gather(*(f for _, f in sent_turns)), 60)
    return {acked_seq(a): sent for (sent, _), a in zip(sent_turns, answers, strict=True)}


async def back_to_back(chair: Chair, hall: Hall, seconds: float, shared: Any) -> dict:
    """Turns for `seconds`, each sent when the previous one is acked."""
    number = 0
    first = last = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        _, future = await chair.present(number, hall.document_id, 1 + number % 2)
        last = acked_seq(await asyncio.wait_for(future, 30))
        first = first or last
        shared[0], shared[1] = first, last
        number += 1
    return {"turns": number, "seconds": time.monotonic() - start, "first": first, "last": last}


# --- rounds ---------------------------------------------------------------------------------


async def paced_round(hall: Hall, tablets: Tablets, args: argparse.Namespace) -> dict:
    """One round of paced turns on connected tablets: latencies, misses, CPU."""
    await tablets.new_round(keep_times=True)
    async with chair_of(hall) as chair:
        mark = CpuMark()
        send_times = await paced_turns(chair, hall, args, tablets.shared)
    order = {"type": "collect", "last_seq": max(send_times), "send_times": send_times}
    result = await tablets.ask({**order, "drain_s": 10})
    latencies = result["latencies"]
    return {
        "p50_ms": percentile_ms(latencies, 0.50),
        "p99_ms": percentile_ms(latencies, 0.99),
        "max_ms": percentile_ms(latencies, 1.0),
        "missed": result["missed"],
        "disconnects": result["disconnects"],
        "close_codes": dict(Counter(str(code) for code in result["close_codes"])),
        **cpu_report(mark, hall.server_pids, tablets.pids, args.turns),
    }


async def sustained_round(hall: Hall, tablets: Tablets, args: argparse.Namespace) -> dict:
    """Back-to-back turns for `--sustain-seconds` on connected phonghop tablets."""
    machine = await wait_for_quiet("sustained", args)
    await tablets.new_round(keep_times=False)
    progress(f"sustained: presenting back to back for {args.sustain_seconds:.0f} s")
    async with chair_of(hall) as chair:
        mark = CpuMark()
        run = await back_to_back(chair, hall, args.sustain_seconds, tablets.shared)
    order = {"type": "collect", "last_seq": run["last"], "drain_s": 30}
    result = await tablets.ask(order)
    cpu = cpu_report(mark, hall.server_pids, tablets.pids, max(1, run["turns"]))
    report = {
        "clients": tablets.ready["connected"],
        "seconds": round(run["seconds"], 1),
        "turns": run["turns"],
        "events_per_s": round(run["turns"] / run["seconds"], 1),
        "deliveries_per_s": round(result["received"] / run["seconds"]),
        "missed": run["turns"] * result["tablets"] - result["received"],
        "gaps": result["gaps"],
        "max_backlog": result["max_backlog"],
        "disconnects": result["disconnects"],
        "close_codes": dict(Counter(str(code) for code in result["close_codes"])),
        **cpu,
        **machine,
    }
    progress(f"sustained: {report}")
    return report


async def measure_hall(
    hall: Hall, clients: int, args: argparse.Namespace, sustain: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Connects `clients` tablets to `hall`, runs the paced round and maybe the sustained one."""
    label = f"{hall.kind}, {clients} tablets"
    await wait_for_quiet(f"{label}, connecting", args)
    async with tablets_running(hall.tablet_specs(clients)) as tablets:
        ready = tablets.ready
        progress(f"{label}: {ready['connected']} connected in {ready['connect_s']} s")
        paced = await quietest(label, args, lambda: paced_round(hall, tablets, args))
        report = {
            **paced,
            "connected": ready["connected"],
            "connect_failures": clients - ready["connected"],
            "connect_errors": ready["failures"][:5],
            "connect_s": ready["connect_s"],
            "ws_extensions": ready["extensions"],
        }
        progress(f"{label}: {report}")
        sustained = await sustained_round(hall, tablets, args) if sustain else None
    return report, sustained


# --- putting it together --------------------------------------------------------------------


def p99_ratio(ours: dict[str, Any], bare: dict[str, Any]) -> float | None:
    if not ours["p99_ms"] or not bare["p99_ms"]:
        return None
    return round(ours["p99_ms"] / bare["p99_ms"], 2)


async def measure_all(
    phonghop: Hall, anchor: Hall, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    results = []
    sustained = None
    wants_sustained = args.sustain_seconds > 0
    for clients in args.clients:
        sustain_here = wants_sustained and clients == args.sustain_clients
        ours, held = await measure_hall(phonghop, clients, args, sustain_here)
        sustained = sustained or held
        bare, _ = await measure_hall(anchor, clients, args, sustain=False)
        results.append(
            {
                "clients": clients,
                "phonghop": ours,
                "broadcast": bare,
                "p99_ratio": p99_ratio(ours, bare),
            }
        )
    if wants_sustained and sustained is None:
        _, sustained = await measure_hall(phonghop, args.sustain_clients, args, sustain=True)
    return results, sustained


def met(results: list[dict[str, Any]], sustained: dict[str, Any] | None) -> bool:
    largest = results[-1]
    ours = largest["phonghop"]
    clean = all(
        r[kind]["missed"] == 0 and r[kind]["disconnects"] == 0 and r[kind]["connect_failures"] == 0
        for r in results
        for kind in ("phonghop", "broadcast")
    )
    steady = sustained is not None and (
        sustained["events_per_s"] >= TARGET_EVENTS_PER_S
        and sustained["missed"] == 0
        and sustained["disconnects"] == 0
    )
    return bool(
        clean
        and steady
        and largest["p99_ratio"] is not None
        and largest["p99_ratio"] <= TARGET_RATIO
        and ours["p99_ms"] <= TARGET_P99_MS
    )


def build_report(
    args: argparse.Namespace, results: list[dict[str, Any]], sustained: dict[str, Any] | None
) -> dict[str, Any]:
    largest = args.clients[-1]
    return {
        "benchmark": "fanout",
        "cpus": os.cpu_count(),
        "turns": args.turns,
        "interval_ms": args.interval_ms,
        "loop": loop_name(),
        "results": results,
        "sustained": sustained,
        "targets": {
            f"p99_ratio_{largest}": TARGET_RATIO,
            f"p99_ms_{largest}": TARGET_P99_MS,
            "events_per_s": TARGET_EVENTS_PER_S,
        },
        "met": met(results, sustained),
        "load_avg_at_end": [round(value, 2) for value in os.getloadavg()],
    }


async def prepare_and_measure(
    args: argparse.Namespace, servers: list[Server], usernames: list[str]
) -> dict[str, Any]:
    """Signs everyone in on the first server; the chair stays there, the tablets split evenly
    over all of them (and over as many processes for the anchor)."""
    for server in servers[1:]:
        await server.healthy()
    phonghop, document = await prepare_phonghop(servers[0], usernames)
    phonghop.server_pids = [server.pid for server in servers]
    phonghop.tablet_urls = [
        (f"{server.ws_url}/ws/meetings/{MEETING}", server.url) for server in servers
    ]
    progress(f"presenting document {document['id']} ({document['title']})")
    with running_anchor(args.anchor_port, document) as (anchor_url, anchor_pid):
        origin = f"http://{HOST}:{args.anchor_port}"
        cookies: list[str | None] = [None] * max(args.clients)
        anchor = Hall(
            "broadcast",
            anchor_url,
            origin,
            None,
            cookies,
            phonghop.document_id,
            [anchor_pid],
            [(anchor_url, origin)] * len(servers),
        )
        results, sustained = await measure_all(phonghop, anchor, args)
    return build_report(args, results, sustained)


def accounts_needed(args: argparse.Namespace) -> int:
    return max([*args.clients, args.sustain_clients if args.sustain_seconds > 0 else 0])


def run(args: argparse.Namespace, data_dir: Path, deadline: Deadline) -> dict[str, Any]:
    return in_hall(
        data_dir,
        accounts_needed(args),
        args.port,
        deadline,
        lambda server, names: prepare_and_measure(args, [server], names),
    )


def run_two(args: argparse.Namespace, data_dir: Path, deadline: Deadline) -> dict[str, Any]:
    """Two servers (--port, --second-port) on a throwaway PostgreSQL database and Redis."""
    ports = [args.port, args.second_port]
    logs = [data_dir / f"server{number}.log" for number in (1, 2)]
    with shared_environment(args, data_dir, ports, "fanout", deadline) as env:
        usernames = prepare_data_dir(data_dir, accounts_needed(args), deadline, env)
        with running_servers(ports, env, logs) as servers:
            report = measure_within(prepare_and_measure(args, servers, usernames), deadline)
    report["servers"] = len(ports)
    report["database"] = "postgresql + redis"
    report["server_log_errors"] = [logged_errors(path) for path in logs]
    return report


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    stop_on_sigterm()
    deadline = Deadline(args.timeout)
    return run_benchmark(
        lambda data_dir: (run_two if args.two_servers else run)(args, data_dir, deadline),
        httpx.HTTPError,
        OSError,
        ConnectionClosed,
        psycopg.Error,
    )


if __name__ == "__main__":
    sys.exit(main())
