"""Vote burst benchmark: 500 delegates vote within one second, then the chair closes the vote.

What it measures: `phonghop serve` (SQLite, log level WARNING) on a temporary data dir with the
demo council and N delegates (default 500) of meeting 1, each signed in and connected over a
real websocket from a child process (set up with bench/hall.py). The chair
(`chutoa`, over HTTP) creates and opens a yes/no/abstain vote; every voter waits a random
0..`--spread` s and sends `vote.cast` with a random choice, noting when it sent and when its
ack (or error) came. A second after the last answer the chair closes the vote over HTTP and
every client notes when `vote.closed` arrives. All times are CLOCK_MONOTONIC, one clock for
all processes on Linux.

Reported: cast->ack p50/p99/max, the time from the first send until all are acked, errors by
code, the close request's send time to the last client's `vote.closed` (and p50/p99 across
clients), and the stored result (GET /api/votes/{id}): `voters` must equal the acked ballots
and the tally must equal the choices the clients sent. Targets: cast->ack p99 < 100 ms and
close->all results < 200 ms. Also the server's CPU time per phase and its event-loop lag.

The machine must be quiet: before starting, and again before measuring, the benchmark waits
(polling) until no bench/fanout.py runs and the 1-minute load average is below 1.0.

With `--two-servers`: two `phonghop serve` processes (ports `--port` and `--port`+1) on a
throwaway PostgreSQL database (created on `--postgres`, migrated with `phonghop db upgrade`,
seeded as above, dropped at the end, also on errors) sharing live events through `--redis`
(a unique PHONGHOP_REDIS_PREFIX), one secret key and one data dir. The voters are split evenly
between the two (one client process each), the chair is on the first, and `vote.closed` must
reach every socket on both.

Run from the project root:

    .venv/bin/python bench/votes.py [--voters 500] [--spread 1.0] [--port 8773] [--two-servers]

One JSON object goes to stdout, progress to stderr. The server, the client process and the
temporary data dir are removed at the end, also on errors and on the overall timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster import add_cluster_arguments, shared_environment
from hall import (
    ANSWERS,
    CHAIR,
    CONNECT_CONCURRENCY,
    DEMO_PASSWORD,
    MEETING,
    TabletSpec,
    close_all,
    expect,
    open_socket,
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
    measure_within,
    percentile_ms,
    progress,
    raise_fd_limit,
    receive,
    run_benchmark,
    run_child,
    running_server,
    server_env,
    stop_on_sigterm,
)
from machine import CpuMark
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

CLOSED = '{"type":"vote.closed"'
CAST_ID = "cast"
OPTIONS = ("yes", "no", "abstain")
MAX_LOAD = 1.0
TARGET_ACK_P99_MS = 100
TARGET_CLOSE_MS = 200
TOO_SLOW = 4008  # the server's close code for a socket whose queue overflowed
RESYNC_ATTEMPTS = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=500, help="delegates voting")
    parser.add_argument("--spread", type=float, default=1.0, help="seconds the casts spread over")
    parser.add_argument("--seed", type=int, default=2026, help="for the delays and the choices")
    parser.add_argument("--port", type=int, default=8773, help="phonghop's port on 127.0.0.1")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=900.0,
        help="longest wait for a quiet machine, seconds (again before measuring, 300 at most)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="overall limit in seconds")
    add_cluster_arguments(parser)
    args = parser.parse_args()
    if args.voters < 1 or args.spread < 0:
        parser.error("--voters must be at least 1 and --spread not negative")
    return args


def machine_busy() -> str | None:
    """Why the machine is not quiet enough to measure, or None."""
    others = subprocess.run(["pgrep", "-f", "bench/fanout.py"], capture_output=True, text=True)
    if others.stdout.strip():
        return "bench/fanout.py is running"
    load = os.getloadavg()[0]
    return f"load average {load:.2f}" if load >= MAX_LOAD else None


def wait_for_quiet(seconds: float, every: float = 15) -> None:
    give_up = time.monotonic() + seconds
    while (busy := machine_busy()) and time.monotonic() < give_up:
        progress(f"waiting: {busy}")
        time.sleep(every)
    if busy:
        progress(f"still busy after {seconds:.0f} s ({busy}); measuring anyway")


async def quiet_again(seconds: float, every: float = 5) -> None:
    """As wait_for_quiet, after the setup (signing in 500 tablets raised the load)."""
    give_up = time.monotonic() + seconds
    while (busy := machine_busy()) and time.monotonic() < give_up:
        progress(f"waiting: {busy}")
        await asyncio.sleep(every)


# --- the voters (a child process that takes orders over a pipe) -----------------------------


@dataclass
class Voter:
    socket: ClientConnection
    choice: str = ""
    sent: float = 0.0
    answered: float = 0.0
    answer: str = ""  # "ack" or the error's code
    closed_at: float = 0.0
    closed_text: str = ""
    gone: bool = False
    has_answer: asyncio.Event = field(default_factory=asyncio.Event)
    has_result: asyncio.Event = field(default_factory=asyncio.Event)


async def listen(voter: Voter) -> None:
    """Notes the time of the cast's answer and of vote.closed (before parsing anything)."""
    try:
        async for text in voter.socket:
            now = time.monotonic()
            if not isinstance(text, str):
                continue
            if text.startswith(CLOSED):
                voter.closed_at, voter.closed_text = now, text
                voter.has_result.set()
            elif text.startswith(ANSWERS):
                answer = json.loads(text)
                if answer.get("id") == CAST_ID:
                    voter.answered = now
                    voter.answer = "ack" if answer["type"] == "ack" else str(answer.get("code"))
                    voter.has_answer.set()
    except ConnectionClosed:
        pass
    voter.gone = True
    voter.has_answer.set()
    voter.has_result.set()


async def until(events: list[asyncio.Event], within: float) -> None:
    """Until every event is set, or `within` seconds pass."""
    waiting = [asyncio.create_task(event.wait()) for event in events]
    _, late = await asyncio.wait(waiting, timeout=within)
    for task in late:
        task.cancel()


async def cast_all(voters: list[Voter], order: dict[str, Any]) -> dict[str, Any]:
    """Each voter casts once at a random moment within the spread; waits for the answers."""
    rng = random.Random(order["seed"])
    plan = [(rng.uniform(0, order["spread_s"]), rng.choice(OPTIONS)) for _ in voters]
    start = time.monotonic()

    async def cast(voter: Voter, delay: float, choice: str) -> None:
        await asyncio.sleep(max(0.0, start + delay - time.monotonic()))
        message = {"type": "vote.cast", "id": CAST_ID, "vote_id": order["vote_id"]}
        voter.choice, voter.sent = choice, time.monotonic()
        await voter.socket.send(json.dumps({**message, "option": choice}))

    await asyncio.gather(*(cast(v, *step) for v, step in zip(voters, plan, strict=True)))
    await until([v.has_answer for v in voters], order["within"])
    return {"casts": [(v.choice, v.sent, v.answered, v.answer or "no_answer") for v in voters]}


async def closed_everywhere(voters: list[Voter], order: dict[str, Any]) -> dict[str, Any]:
    """When vote.closed reached each voter, and the result it carried (the same for all?)."""
    await until([v.has_result for v in voters], order["within"])
    texts = Counter(v.closed_text for v in voters if v.closed_text)
    result = json.loads(texts.most_common(1)[0][0])["vote"]["result"] if texts else {}
    return {
        "arrivals": [v.closed_at or None for v in voters],
        "different_texts": len(texts),
        "event_bytes": len(next(iter(texts)).encode()) if texts else 0,
        "result": {"voters": result.get("voters"), "tally": result.get("tally")},
        "disconnects": sum(v.gone for v in voters),
    }


async def open_voters(
    spec: TabletSpec,
) -> tuple[list[Voter], list[asyncio.Task], list[str], int]:
    """Connects every voter and reads its socket from then on. A socket the server drops as too
    slow while connecting (the events held back during its hello overflowed its queue, seen
    with two servers) reconnects, as a tablet resyncs: up to 3 tries, counted in `resyncs`."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    voters: list[Voter] = []
    listeners: list[asyncio.Task] = []
    resyncs = 0

    async def one(cookie: str | None) -> None:
        nonlocal resyncs
        async with gate:
            for attempt in range(RESYNC_ATTEMPTS):
                try:
                    voter = Voter(await open_socket(spec.url, spec.origin, cookie))
                    break
                except ConnectionClosed as exc:
                    # dropped as too slow while connecting: a tablet reconnects (resyncs)
                    if (
                        exc.rcvd is None
                        or exc.rcvd.code != TOO_SLOW
                        or attempt == RESYNC_ATTEMPTS - 1
                    ):
                        raise
                    resyncs += 1
        voters.append(voter)
        listeners.append(asyncio.create_task(listen(voter)))

    opened = await asyncio.gather(*(one(c) for c in spec.cookies), return_exceptions=True)
    failures = [repr(item)[:200] for item in opened if isinstance(item, BaseException)]
    return voters, listeners, failures, resyncs


async def run_voters(spec: TabletSpec, pipe: Pipe) -> None:
    started = time.monotonic()
    voters, listeners, failures, resyncs = await open_voters(spec)
    connect_s = time.monotonic() - started
    ready = {"connected": len(voters), "connect_s": connect_s, "resyncs": resyncs}
    pipe.send({**ready, "failures": failures[:5]})
    try:
        while (order := await receive(pipe, within=900))["type"] != "close":
            work = cast_all if order["type"] == "cast" else closed_everywhere
            pipe.send(await work(voters, order))
    finally:
        await close_all([voter.socket for voter in voters])
        for listener in listeners:
            listener.cancel()


def voters_process(spec: TabletSpec, pipe: Pipe) -> None:
    run_child(run_voters(spec, pipe), pipe)


@dataclass
class Voters:
    """One voters' process as the chair's side sees it."""

    process: Children

    @property
    def pid(self) -> int:
        return self.process.pids[0]

    @property
    def ready(self) -> dict[str, Any]:
        return self.process.ready[0]

    async def ask(self, order: dict[str, Any], within: float) -> dict[str, Any]:
        return (await self.process.ask(order, within + 30))[0]


@contextlib.asynccontextmanager
async def voters_running(spec: TabletSpec) -> AsyncIterator[Voters]:
    async with children_running("the voters", voters_process, [spec], ready_within=300) as process:
        yield Voters(process)


# --- the chair (this process) and the report ------------------------------------------------


def cast_report(casts: list[list[Any]]) -> dict[str, Any]:
    acked = [c for c in casts if c[3] == "ack"]
    latencies = [answered - sent for _, sent, answered, _ in acked]
    all_acked = len(acked) == len(casts) and acked
    first_send = min(sent for _, sent, _, _ in casts)
    return {
        "cast_ack_ms": {
            "p50": percentile_ms(latencies, 0.50),
            "p99": percentile_ms(latencies, 0.99),
            "max": percentile_ms(latencies, 1.0),
        },
        "all_acked_s": round(max(c[2] for c in acked) - first_send, 3) if all_acked else None,
        "errors": dict(Counter(c[3] for c in casts if c[3] != "ack")),
    }


def close_report(closed: dict[str, Any], close_sent: float) -> dict[str, Any]:
    arrivals = [at - close_sent for at in closed["arrivals"] if at is not None]
    everyone = len(arrivals) == len(closed["arrivals"])
    return {
        "close_to_all_results_ms": percentile_ms(arrivals, 1.0) if everyone else None,
        "result_arrival_ms": {
            "p50": percentile_ms(arrivals, 0.50),
            "p99": percentile_ms(arrivals, 0.99),
        },
    }


def stored_report(stored: dict[str, Any], casts: list[list[Any]]) -> dict[str, Any]:
    result = stored.get("result") or {}
    sent = Counter(c[0] for c in casts if c[3] == "ack")
    tally = result.get("tally") or {}
    acked = sum(sent.values())
    matches = result.get("voters") == acked and tally == {key: sent[key] for key in OPTIONS}
    return {"voters": result.get("voters"), "tally": tally, "matches_sent": matches}


def merge_closed(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The voters' processes' vote.closed reports as one (disagreeing if their results do)."""
    results = {json.dumps(part["result"], sort_keys=True) for part in parts if part["result"]}
    return {
        "arrivals": [at for part in parts for at in part["arrivals"]],
        "different_texts": max(part["different_texts"] for part in parts) + len(results) - 1,
        "event_bytes": max(part["event_bytes"] for part in parts),
        "result": parts[0]["result"],
        "disconnects": sum(part["disconnects"] for part in parts),
    }


async def ask_all(groups: list[Voters], order: dict[str, Any], within: float) -> list[dict]:
    return list(await asyncio.gather(*(group.ask(order, within) for group in groups)))


async def vote_burst(
    args: argparse.Namespace, servers: list[Server], usernames: list[str], deadline: Deadline
) -> dict[str, Any]:
    """The chair on the first server; the voters split evenly across all of them."""
    base_urls = [server.url for server in servers]
    for server in servers[1:]:
        await server.healthy()
    hall, _ = await prepare_phonghop(servers[0], usernames)
    cookies = list(hall.tablet_cookies)
    share = math.ceil(len(cookies) / len(servers))
    specs = [
        TabletSpec(
            url.replace("http", "ws", 1) + f"/ws/meetings/{MEETING}",
            url,
            cookies[index * share : (index + 1) * share],
        )
        for index, url in enumerate(base_urls)
    ]
    client = httpx.AsyncClient(base_url=base_urls[0], trust_env=False, timeout=60)
    async with contextlib.AsyncExitStack() as stack:
        groups = [await stack.enter_async_context(voters_running(spec)) for spec in specs]
        chair = await stack.enter_async_context(client)
        connected = sum(group.ready["connected"] for group in groups)
        slowest = max(group.ready["connect_s"] for group in groups)
        progress(f"{connected} voters connected in {slowest:.1f} s ({len(groups)} server(s))")
        if connected != len(usernames):
            failures = [failure for group in groups for failure in group.ready["failures"]]
            raise BenchFailed(f"voters failed to connect: {failures[:5]}")
        csrf = {"X-CSRFToken": await sign_in(chair, CHAIR, DEMO_PASSWORD)}
        created = await chair.post(
            f"/api/meetings/{MEETING}/votes", json={"title": "Biểu quyết thử"}, headers=csrf
        )
        vote_id = expect(created, 201, "creating the vote").json()["id"]
        await quiet_again(min(300.0, args.quiet_wait, deadline.left() / 2))
        load = round(os.getloadavg()[0], 2)
        progress(f"measuring; 1-minute load average {load}")
        expect(await chair.post(f"/api/votes/{vote_id}/open", headers=csrf), 200, "opening")
        await asyncio.sleep(1)  # vote.opened reaches every tablet first
        marks = [CpuMark()]
        order = {"vote_id": vote_id, "spread_s": args.spread, "seed": args.seed, "within": 60}
        parts = await ask_all(groups, {"type": "cast", **order}, within=60)
        casts = [cast for part in parts for cast in part["casts"]]
        marks.append(CpuMark())
        progress(f"casts answered: {Counter(c[3] for c in casts)}")
        await asyncio.sleep(1)  # the chair sees everyone has voted, then closes
        marks.append(CpuMark())
        close_sent = time.monotonic()
        closing = await chair.post(f"/api/votes/{vote_id}/close", headers=csrf)
        close_http_ms = round((time.monotonic() - close_sent) * 1000, 1)
        expect(closing, 200, "closing")
        closed = merge_closed(await ask_all(groups, {"type": "results", "within": 30}, 30))
        marks.append(CpuMark())
        stored = expect(await chair.get(f"/api/votes/{vote_id}"), 200, "reading the vote").json()
        window = math.ceil(time.monotonic() - close_sent + 4)
        lags = []
        for url in base_urls:
            health = await chair.get(f"{url}/healthz", params={"window": window})
            lags.append(health.json().get("loop_lag"))

    def cpu_s(start: int, pids: list[int]) -> float | list[float]:
        used = [round(marks[start].used_s(marks[start + 1], pid), 2) for pid in pids]
        return used[0] if len(used) == 1 else used

    server_pids = [server.pid for server in servers]
    voter_pids = [group.pid for group in groups]
    report_tally = (stored.get("result") or {}).get("tally")
    report = {
        "benchmark": "votes",
        "voters": len(casts),
        "servers": len(servers),
        "cpus": os.cpu_count(),
        **cast_report(casts),
        **close_report(closed, close_sent),
        "stored": stored_report(stored, casts),
        "targets": {"cast_ack_p99_ms": TARGET_ACK_P99_MS, "close_to_all_ms": TARGET_CLOSE_MS},
        "load_at_start": load,
        "detail": {
            "voters_per_server": [len(spec.cookies) for spec in specs],
            "connect_resyncs": sum(group.ready["resyncs"] for group in groups),
            "close_http_ms": close_http_ms,
            "vote_closed_bytes": closed["event_bytes"],
            "clients_disagree": closed["different_texts"] > 1,
            "event_result_matches_stored": closed["result"]["tally"] == report_tally,
            "disconnects": closed["disconnects"],
            "server_cpu_s": {"casting": cpu_s(0, server_pids), "closing": cpu_s(2, server_pids)},
            "clients_cpu_s": {"casting": cpu_s(0, voter_pids), "closing": cpu_s(2, voter_pids)},
            "server_loop_lag": lags[0] if len(lags) == 1 else lags,
            "load_at_end": [round(value, 2) for value in os.getloadavg()],
        },
    }
    return report


def met(report: dict[str, Any], voters: int) -> bool:
    p99, close_ms = report["cast_ack_ms"]["p99"], report["close_to_all_results_ms"]
    stored = report["stored"]
    return bool(
        not report["errors"]
        and p99 is not None
        and p99 < TARGET_ACK_P99_MS
        and close_ms is not None
        and close_ms < TARGET_CLOSE_MS
        and stored["voters"] == voters
        and stored["matches_sent"]
        and not report["detail"]["clients_disagree"]
    )


def measure(
    args: argparse.Namespace,
    envs: list[dict[str, str]],
    logs: list[Path],
    usernames: list[str],
    deadline: Deadline,
) -> dict[str, Any]:
    """Starts one server per environment (ports --port, --port+1, ...) and runs the burst."""
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(args.port + index, env, log))
            for index, (env, log) in enumerate(zip(envs, logs, strict=True))
        ]
        report = measure_within(vote_burst(args, servers, usernames, deadline), deadline)
    report["met"] = met(report, args.voters)
    errors = [logged_errors(path) for path in logs]
    report["detail"]["server_log_errors"] = errors[0] if len(errors) == 1 else errors
    return report


def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    deadline = Deadline(args.timeout)
    usernames = prepare_data_dir(data_dir, args.voters, deadline)
    return measure(args, [server_env(data_dir)], [data_dir / "server.log"], usernames, deadline)


def run_two(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    deadline = Deadline(args.timeout)
    ports = [args.port, args.port + 1]
    with shared_environment(args, data_dir, ports, "votes", deadline) as env:
        usernames = prepare_data_dir(data_dir, args.voters, deadline, env)
        logs = [data_dir / f"server{index + 1}.log" for index in range(len(ports))]
        report = measure(args, [env, env], logs, usernames, deadline)
    report["database"] = "postgresql + redis"
    return report


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    stop_on_sigterm()
    wait_for_quiet(args.quiet_wait)
    return run_benchmark(
        lambda data_dir: (run_two if args.two_servers else run)(args, data_dir),
        httpx.HTTPError,
        OSError,
        ConnectionClosed,
        psycopg.Error,
    )


if __name__ == "__main__":
    sys.exit(main())
