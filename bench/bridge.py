"""Video bridge benchmark: the server's CPU and the frame rate delivered for K ward points.

What it measures: `phonghop serve` (SQLite, log level WARNING) on a temporary data dir with
the demo council and an account per point (role `ward`, imported with `phonghop import-users`)
made ward points (`ward_point`) of meeting 1 by the secretary over HTTP. The points are
aiortc clients (bench/points.py) in a child process: received video is counted, not decoded,
and received sound is not decoded; each reports a clean line (`LINE_BPS` in its REMB, with
aiortc's receiver reports and NACKs). Each sends a moving VP8 picture and a tone, all of them
different: the program source 1280x720 at 25 fps (about 1.5 Mbit/s), the others 160x90
thumbnails as the bridge tells them. They join K = 5, 10, 20, 40 (the set grows; the first
point is the program, picked by the chair `chutoa`, whose socket stays open as the console's
and reads `rtc.points`). After each step the benchmark lets `--settle` s pass, waits (at most
`--hd-wait` s) until the console says every point receives HD (each starts at SD and the
bridge moves it up after a calm spell), then over `--window` s reads the server's and the
points' process's CPU time from /proc/PID/stat, each point's received program frames, and
how many points were at each level in the console's reports.

The whole run is done twice: with the server as it is (the program encoded once per level,
HD 1280x720 at 25 fps) and with PHONGHOP_BRIDGE_ENCODING=naive (raw HD frames to every point
and an encoder per point, as aiortc's MediaRelay fan-out gives), the anchor. Reported per K
and mode: server CPU seconds per second, received fps per point (min and median), whether
every point got at least 24 fps, points connected, the levels, the points' process's CPU and
what other programs used meanwhile; per mode the added server CPU per point (least-squares
slope over K), and the anchor's slope over ours. The slopes are also given over only the K
at which a mode (or both) still delivered 24 fps to every point: a saturated server's CPU
stops growing with K, which would flatter the anchor.

The machine must be quiet: before each mode, with no point connected, the benchmark waits
(at most `--load-wait` s) until the load average or the CPUs say so. A window during which
other programs used more than a quarter of a core is measured again (`--retries`); the
quietest is kept. HTTP is on 127.0.0.1; the media go over this machine's own addresses (ICE
leaves out loopback) and never leave it.

Run from the project root:

    .venv/bin/python bench/bridge.py [--points 5,10,20,40] [--window 15] [--hd-wait 90]

One JSON object goes to stdout, progress to stderr. The server, the points' process and the
temporary data dir are removed at the end, also on errors and on the overall timeout.
Exit code 0 when the benchmark ran, 1 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import colorsys
import contextlib
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx
from hall import (
    CHAIR,
    DEMO_PASSWORD,
    MEETING,
    SECRETARY,
    add_participants,
    expect,
    open_socket,
    session_cookie,
    sign_in,
)
from harness import (
    HOST,
    BenchFailed,
    Children,
    Deadline,
    Server,
    children_running,
    logged_errors,
    loop_name,
    phonghop_command,
    progress,
    raise_fd_limit,
    receive,
    run_benchmark,
    run_child,
    run_loop,
    running_server,
    server_env,
    stop_on_sigterm,
)
from machine import CLOCK_TICKS, NOISE_CORES, CpuMark, family, wait_for_quiet
from points import Point
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from server.conference.program import FPS
from server.conference.synthetic import FULL

BENCH_PASSWORD = "bridge-bench-2026"  # noqa: S105 - throwaway accounts in a temp dir
MODES = ("shared", "naive")
JOIN_CONCURRENCY = 4
# As in a session: two points talk, the others' microphones are quiet and their packets say so
# (the RTP audio level browsers send), so the bridge decodes only the two.
TALKERS = 2
PROGRAM_FPS = FPS  # the program's HD level: 1280x720 at 25 fps
HELD_FPS = 24.0  # every point got at least this: the bridge kept up
LINE_BPS = 4_000_000  # what each point's REMB says: a clean line with room for HD
ORDER_S = 300  # longest a step of the points' process may take


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="5,10,20,40", help="point counts, comma-separated")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per step")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the joins")
    parser.add_argument(
        "--hd-wait", type=float, default=90.0, help="longest wait for every point to get HD"
    )
    parser.add_argument("--port", type=int, default=8774, help="phonghop's port on 127.0.0.1")
    parser.add_argument("--max-load", type=float, default=1.5, help="1-minute load to wait out")
    parser.add_argument("--load-wait", type=float, default=300.0, help="longest wait, seconds")
    parser.add_argument("--retries", type=int, default=1, help="new windows if one is noisy")
    parser.add_argument("--timeout", type=float, default=1800.0, help="overall limit in seconds")
    args = parser.parse_args()
    try:
        args.points = sorted({int(part) for part in args.points.split(",") if part.strip()})
    except ValueError:
        parser.error("--points takes numbers separated by commas, like 5,10,20,40")
    if not args.points or min(args.points) < 1 or args.window <= 0:
        parser.error("--points must be at least 1 and --window positive")
    return args


# --- the data dir and the meeting -----------------------------------------------------------


def usernames_for(count: int) -> list[str]:
    return [f"diemcauthu{number:02d}" for number in range(1, count + 1)]


def prepare_data_dir(data_dir: Path, count: int, deadline: Deadline) -> list[str]:
    """The demo council and `count` ward accounts, made with phonghop's own commands."""
    env = server_env(data_dir)
    progress("seeding the demo council")
    phonghop_command(["demo", "--seed-only"], env, deadline)
    csv_path = data_dir / "bridge-points.csv"
    usernames = usernames_for(count)
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["username", "full_name", "role", "password"])
        for number, username in enumerate(usernames, start=1):
            writer.writerow([username, f"Điểm cầu thử {number}", "ward", BENCH_PASSWORD])
    progress(f"importing {count} ward accounts")
    phonghop_command(["import-users", str(csv_path)], env, deadline)
    return usernames


async def enrol(server: Server, usernames: list[str]) -> dict[str, int]:
    """Makes the accounts ward points of the meeting; returns username -> user id."""
    await server.healthy()
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=60) as secretary:
        token = await sign_in(secretary, SECRETARY, DEMO_PASSWORD)
        await add_participants(secretary, token, usernames, "ward_point")
        meeting = expect(await secretary.get(f"/api/meetings/{MEETING}"), 200, "the meeting")
    ids = {p["username"]: int(p["user_id"]) for p in meeting.json()["participants"]}
    return {username: ids[username] for username in usernames}


class Console:
    """The chair's socket: picks the program and keeps what the bridge says each point
    receives (`rtc.points`, about once a second), as the console shows it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.reports: list[tuple[float, dict[int, str | None]]] = []
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._news = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.connection:
                if isinstance(text, str):
                    self._take(json.loads(text))

    def _take(self, message: dict[str, Any]) -> None:
        if message.get("type") == "rtc.points":
            receives = {int(p["user_id"]): p.get("receives") for p in message["points"]}
            self.reports.append((time.monotonic(), receives))
            self._news.set()
        elif waiting := self._answers.pop(str(message.get("id")), None):
            if not waiting.done() and message.get("type") in ("ack", "error"):
                waiting.set_result(message)

    async def pick(self, user_id: int) -> None:
        """Puts `user_id` on the program, so it does not follow the loudest tone."""
        answer = asyncio.get_running_loop().create_future()
        self._answers["pick"] = answer
        await self.connection.send(json.dumps({"type": "rtc.pick", "id": "pick", "point": user_id}))
        async with asyncio.timeout(30):
            found = await answer
        if found["type"] != "ack":
            raise BenchFailed(f"the chair could not pick the program: {found}")

    def latest(self) -> dict[int, str | None]:
        return self.reports[-1][1] if self.reports else {}

    async def until_level(self, level: str, count: int, within: float) -> float | None:
        """Seconds until `count` points receive `level`; None if not within `within`."""
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while sum(got == level for got in self.latest().values()) < count:
                    self._news.clear()
                    await self._news.wait()
                return time.monotonic() - started
        return None

    def levels_between(self, start: float, end: float) -> dict[str, Any]:
        """How many points were at each level in the reports between the marks: the fewest
        and the most at each, and how many points were ever below HD."""
        seen = [receives for at, receives in self.reports if start <= at <= end]
        if not seen:
            return {"reports": 0}
        names = sorted({str(got) for receives in seen for got in receives.values()})
        counts = {
            name: [sum(str(got) == name for got in r.values()) for r in seen] for name in names
        }
        below = {who for r in seen for who, got in r.items() if got != "hd"}
        return {
            "reports": len(seen),
            "levels_at_end": dict(collections.Counter(str(g) for g in seen[-1].values())),
            "levels_min_max": {name: [min(c), max(c)] for name, c in counts.items()},
            "points_ever_below_hd": len(below),
        }

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()


@contextlib.asynccontextmanager
async def console_open(base_url: str) -> AsyncIterator[Console]:
    cookie = await session_cookie(base_url, CHAIR, DEMO_PASSWORD, asyncio.Semaphore(1))
    ws_url = base_url.replace("http", "ws", 1) + f"/ws/meetings/{MEETING}"
    console = Console(await open_socket(ws_url, base_url, cookie))
    try:
        yield console
    finally:
        await console.close()


# --- the points (a child process that takes orders over a pipe) -----------------------------


@dataclass
class PointsSpec:
    url: str
    usernames: list[str]


def colour_of(index: int) -> tuple[int, int, int]:
    """Distinct saturated colours around the hue circle."""
    red, green, blue = colorsys.hsv_to_rgb((index * 0.618034) % 1, 0.8, 0.85)
    return (round(red * 255), round(green * 255), round(blue * 255))


def tone_of(index: int) -> float:
    return 300.0 + 50.0 * index  # whole hertz: each loop is a whole number of periods


def warm_up(count: int) -> None:
    """Encodes every point's picture loops (HD and thumbnail, 3 s each) before the first join,
    on every CPU: not while others are measured, nor while points join."""
    from server.conference.synthetic import THUMB, vp8_loop

    loops = [(colour_of(i), True, quality) for i in range(count) for quality in (FULL, THUMB)]
    with ThreadPoolExecutor(os.cpu_count()) as workers:  # libvpx lets go of the GIL
        list(workers.map(lambda loop: vp8_loop(*loop), loops))


async def grow(points: list[Any], spec: PointsSpec, order: dict[str, Any]) -> dict[str, Any]:
    """Joins points until `order["to"]` are in; returns how that went."""
    started, LOOP_LAG.longest_s = time.monotonic(), 0.0
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def join(index: int) -> Any:
        made = Point(
            spec.url,
            spec.usernames[index],
            MEETING,
            colour_of(index),
            tone_of(index),
            password=BENCH_PASSWORD,
            moving=True,
            decode=False,
            listen=False,
            line_bps=LINE_BPS,
            talking=index < TALKERS,
            connect_within=60,  # a busy 2-core machine is slow to finish 40 handshakes
        )
        async with gate:
            try:
                return await made.join()
            except Exception:
                await made.leave()
                raise

    wanted = range(len(points), order["to"])
    joined = await asyncio.gather(*(join(i) for i in wanted), return_exceptions=True)
    failures = [repr(item)[:300] for item in joined if isinstance(item, BaseException)]
    points += [item for item in joined if not isinstance(item, BaseException)]
    return {
        "joined": len(points),
        "join_s": time.monotonic() - started,
        "failures": failures,
        "states": dict(collections.Counter(p.pc.connectionState for p in points)),
        "loop_lag_s": round(LOOP_LAG.longest_s, 3),  # over a few seconds, lines already up close
    }


async def count(points: list[Any], spec: PointsSpec, order: dict[str, Any]) -> dict[str, Any]:
    lag, LOOP_LAG.longest_s = LOOP_LAG.longest_s, 0.0
    return {
        "at": time.monotonic(),
        "frames": [p.frames_received for p in points],
        "connected": sum(p.pc.connectionState == "connected" for p in points),
        "states": dict(collections.Counter(p.pc.connectionState for p in points)),
        "loop_lag_s": round(lag, 3),
    }


@dataclass
class LoopLag:
    """The longest the points' event loop was late for a timer since it was last read: a
    stalled loop misses packets and ICE checks, and its points' connections may fail."""

    longest_s: float = 0.0

    async def watch(self, every_s: float = 0.05) -> None:
        while True:
            due = time.monotonic() + every_s
            await asyncio.sleep(every_s)
            self.longest_s = max(self.longest_s, time.monotonic() - due)


LOOP_LAG = LoopLag()


async def leave_all(points: list[Any], spec: PointsSpec, order: dict[str, Any]) -> dict:
    left = len(points)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            await asyncio.gather(*(p.leave() for p in points), return_exceptions=True)
    points.clear()
    return {"left": left}


ORDERS = {"grow": grow, "count": count, "leave": leave_all}


async def obey(orders: dict[str, Any], spec: Any, pipe: Pipe) -> None:
    """The points' process once set up: says it is ready, then carries out each order from
    the pipe until `close`; the points left are made to leave."""
    pipe.send({"ready": True})
    points: list[Any] = []
    try:
        while (order := await receive(pipe, within=3600))["type"] != "close":
            pipe.send(await orders[order["type"]](points, spec, order))
    finally:
        await leave_all(points, spec, {})


async def run_points(spec: PointsSpec, pipe: Pipe) -> None:
    warm_up(len(spec.usernames))
    watching = asyncio.create_task(LOOP_LAG.watch())
    try:
        await obey(ORDERS, spec, pipe)
    finally:
        watching.cancel()


def points_process(spec: PointsSpec, pipe: Pipe) -> None:
    run_child(run_points(spec, pipe), pipe)


@dataclass
class Points:
    """The points' process as this side sees it."""

    process: Children

    @property
    def pid(self) -> int:
        return self.process.pids[0]

    async def ask(self, order: dict[str, Any], within: float = ORDER_S) -> dict[str, Any]:
        return (await self.process.ask(order, within))[0]


@contextlib.asynccontextmanager
async def points_running(spec: PointsSpec) -> AsyncIterator[Points]:
    async with children_running(
        "the points", points_process, [spec], ready_within=ORDER_S, stop_grace=60
    ) as process:
        yield Points(process)


# --- measuring ------------------------------------------------------------------------------


def cores_used(start: CpuMark, end: CpuMark, root: int) -> float:
    """CPU seconds per second that `root` and its children used between the marks."""
    used = sum(start.used_s(end, pid) for pid in family(end.table, root))
    return used / max(1e-3, end.at - start.at)


def frame_rates(before: dict[str, Any], after: dict[str, Any]) -> list[float]:
    seconds = max(1e-3, after["at"] - before["at"])
    pairs = zip(before["frames"], after["frames"], strict=True)
    return [(late - early) / seconds for early, late in pairs]


def cpu_between(start: CpuMark, end: CpuMark, server_pid: int, points_pid: int) -> dict:
    """The server's, the points' and other programs' CPU (cores) between the marks."""
    ours = cores_used(start, end, os.getpid())
    machine = (end.machine - start.machine) / CLOCK_TICKS / max(1e-3, end.at - start.at)
    return {
        "server_cpu_cores": round(cores_used(start, end, server_pid), 3),
        "points_cpu_cores": round(cores_used(start, end, points_pid), 3),
        "others_cpu_cores": round(max(0.0, machine - ours), 2),
    }


async def window(
    points: Points, console: Console, server_pid: int, seconds: float
) -> dict[str, Any]:
    """One measurement window: the server's and the points' CPU, the frame rates and the
    level each point received."""
    before = await points.ask({"type": "count"})
    start = CpuMark()
    await asyncio.sleep(seconds)
    end = CpuMark()
    after = await points.ask({"type": "count"})
    levels = console.levels_between(time.monotonic() - (end.at - start.at), time.monotonic())
    fps = frame_rates(before, after)
    return {
        **cpu_between(start, end, server_pid, points.pid),
        "fps_min": round(min(fps), 1) if fps else None,
        "fps_p50": round(statistics.median(fps), 1) if fps else None,
        "frame_rate_held": bool(fps) and min(fps) >= HELD_FPS,
        "connected": after["connected"],
        "point_states": after["states"],
        "points_loop_lag_s": after["loop_lag_s"],
        "levels": levels,
    }


async def quietest_window(
    window: Callable[[], Awaitable[dict[str, Any]]], args: argparse.Namespace
) -> dict:
    """A window, measured again (up to --retries) while other programs disturb it."""
    best: dict[str, Any] | None = None
    for attempt in range(1, args.retries + 2):
        report = {**(await window()), "attempts": attempt}
        if best is None or report["others_cpu_cores"] < best["others_cpu_cores"]:
            best = report
        if report["others_cpu_cores"] <= NOISE_CORES:
            break
        progress(f"others used {report['others_cpu_cores']} cores; measuring again")
    assert best is not None
    best["quiet"] = best["others_cpu_cores"] <= NOISE_CORES
    return best


@dataclass
class Run:
    """What every mode shares: the arguments, the data dir, the accounts and the points."""

    args: argparse.Namespace
    data_dir: Path
    usernames: list[str]
    points: Points
    deadline: Deadline
    user_ids: dict[str, int] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.args.port}"


async def step(run: Run, server: Server, console: Console, mode: str, size: int) -> dict[str, Any]:
    """Grows the conference to `size` points, lets it settle, waits (bounded) until every
    point receives HD, measures a window."""
    run.deadline.check(f"joining {size} points ({mode})")
    grown = await run.points.ask({"type": "grow", "to": size})
    took = f"{grown['join_s']:.1f} s (the points' loop at most {grown['loop_lag_s']} s late)"
    progress(f"{mode}: {grown['joined']} points in after {took}: {grown['states']}")
    if grown["failures"] and grown["joined"] == 0:
        raise BenchFailed(f"points could not join: {grown['failures'][:3]}")
    if size == run.args.points[0]:
        assert run.user_ids is not None
        await console.pick(run.user_ids[run.usernames[0]])
    await asyncio.sleep(run.args.settle)
    hd = await until_hd(console, mode, grown["joined"], run.args.hd_wait)
    measured = await quietest_window(
        lambda: window(run.points, console, server.pid, run.args.window), run.args
    )
    joined = {"join_s": round(grown["join_s"], 1), "join_loop_lag_s": grown["loop_lag_s"]}
    result = {"points": size, **joined, **hd, **measured}
    if grown["failures"]:  # a saturated server: measured with who got in, and said so
        result |= {"join_failures": len(grown["failures"]), "frame_rate_held": False}
    progress(f"{mode}, {size} points: {result}")
    return result


async def until_hd(console: Console, mode: str, joined: int, within: float) -> dict[str, Any]:
    """Waits until every point receives HD (the naive mode sends every point raw HD frames
    for its own encoder, no levels); says how long that took."""
    if mode == "naive":
        return {}
    took = await console.until_level("hd", joined, within)
    if took is None:
        progress(f"not every point got HD within {within:.0f} s: {console.latest()}")
    return {"all_hd_after_s": None if took is None else round(took, 1)}


async def measure_mode(run: Run, server: Server, mode: str) -> list[dict[str, Any]]:
    if run.user_ids is None:
        run.user_ids = await enrol(server, run.usernames)
    else:
        await server.healthy()
    await wait_for_quiet(f"{mode}, before joining", run.args)
    results = []
    try:
        async with console_open(run.base_url) as console:
            for size in run.args.points:
                results.append(await step(run, server, console, mode, size))
    finally:
        await run.points.ask({"type": "leave"})
    return results


async def run_mode(run: Run, mode: str) -> dict[str, Any]:
    """One `phonghop serve` in `mode`, measured at every K: the results and logged errors."""
    env = {**server_env(run.data_dir), "PHONGHOP_BRIDGE_ENCODING": mode}
    log_path = run.data_dir / f"server-{mode}.log"
    progress(f"starting phonghop serve with {mode} encoding")
    with running_server(run.args.port, env, log_path) as server:
        results = await measure_mode(run, server, mode)
    return {"results": results, "errors": logged_errors(log_path)}


# --- the report -----------------------------------------------------------------------------


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs."""
    if len(xs) < 2:
        return None
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def per_point(results: list[dict[str, Any]], sizes: list[int]) -> float | None:
    """Added server CPU per point: the slope of its cores over K, for the steps in `sizes`."""
    steps = [r for r in results if r["points"] in sizes]
    found = slope([r["points"] for r in steps], [r["server_cpu_cores"] for r in steps])
    return None if found is None else round(found, 4)


def added_cpu(by_mode: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    shared, naive = (per_point(by_mode[mode]["results"], sizes) for mode in MODES)
    return {
        "points": sizes,
        "shared": shared,
        "naive": naive,
        "naive_over_shared": round(naive / shared, 2) if shared and naive else None,
    }


def held_by(by_mode: dict[str, Any], mode: str) -> list[int]:
    """The K at which `mode` still delivered the full frame rate to every point."""
    return [r["points"] for r in by_mode[mode]["results"] if r["frame_rate_held"]]


def held_everywhere(by_mode: dict[str, Any]) -> list[int]:
    """The K at which both modes still delivered the full frame rate to every point."""
    return sorted(set.intersection(*(set(held_by(by_mode, mode)) for mode in MODES)))


def added_cpu_each_where_it_holds(by_mode: dict[str, Any]) -> dict[str, Any]:
    """Each mode's slope over the K it carried at full frame rate: a saturated mode's CPU
    stops growing with K, and the unsaturated one is measured over its whole range."""
    slopes = {mode: per_point(by_mode[mode]["results"], held_by(by_mode, mode)) for mode in MODES}
    shared, naive = slopes["shared"], slopes["naive"]
    return {
        **{f"{mode}_points": held_by(by_mode, mode) for mode in MODES},
        **slopes,
        "naive_over_shared": round(naive / shared, 2) if shared and naive else None,
    }


def build_report(args: argparse.Namespace, by_mode: dict[str, Any]) -> dict[str, Any]:
    def measured(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if key != "points"}

    rows = zip(by_mode["shared"]["results"], by_mode["naive"]["results"], strict=True)
    return {
        "benchmark": "bridge",
        "cpus": os.cpu_count(),
        "loop": loop_name(),
        "window_s": args.window,
        "settle_s": args.settle,
        "hd_wait_s": args.hd_wait,
        "source": {"width": FULL.width, "height": FULL.height, "fps": FULL.fps, "moving": True},
        "program": {"width": 1280, "height": 720, "fps": PROGRAM_FPS, "held_fps": HELD_FPS},
        "results": [
            {"points": ours["points"], "shared": measured(ours), "naive": measured(anchor)}
            for ours, anchor in rows
        ],
        "added_cpu_cores_per_point": added_cpu(by_mode, args.points),
        "added_cpu_cores_per_point_while_frame_rate_held": added_cpu(
            by_mode, held_everywhere(by_mode)
        ),
        "added_cpu_cores_per_point_each_where_it_holds": added_cpu_each_where_it_holds(by_mode),
        "server_log_errors": {mode: by_mode[mode]["errors"] for mode in MODES},
        "load_avg_at_end": [round(value, 2) for value in os.getloadavg()],
    }


async def measure_all(
    args: argparse.Namespace, data_dir: Path, usernames: list[str], deadline: Deadline
) -> dict[str, Any]:
    spec = PointsSpec(f"http://{HOST}:{args.port}", usernames)
    async with points_running(spec) as points:
        run = Run(args, data_dir, usernames, points, deadline)
        by_mode = {mode: await run_mode(run, mode) for mode in MODES}
    return build_report(args, by_mode)


Measure = Callable[[argparse.Namespace, Path, list[str], Deadline], Awaitable[dict[str, Any]]]


def run_points_benchmark(args: argparse.Namespace, count: int, measure: Measure) -> int:
    """A benchmark of `count` ward points: the data dir with their accounts, then `measure`
    within `--timeout`; its JSON report printed."""
    raise_fd_limit()
    stop_on_sigterm()
    deadline = Deadline(args.timeout)

    def run_all(data_dir: Path) -> dict[str, Any]:
        usernames = prepare_data_dir(data_dir, count, deadline)
        work = measure(args, data_dir, usernames, deadline)
        try:
            return run_loop(asyncio.wait_for(work, timeout=deadline.left()))
        except TimeoutError as exc:
            raise BenchFailed("the overall timeout ran out") from exc

    return run_benchmark(run_all, httpx.HTTPError, OSError, ConnectionClosed)


def main() -> int:
    args = parse_args()
    return run_points_benchmark(args, max(args.points), measure_all)


if __name__ == "__main__":
    sys.exit(main())
