"""Talkers benchmark: the bridge's CPU for many points of which a few talk, when their
packets carry the RTP audio level (only the talkers are decoded) and when they do not
(every point is decoded and metered, as before).

What it measures: `phonghop serve` (SQLite, log level WARNING) on a temporary data dir with
the demo council and `--points` ward accounts, made ward points of meeting 1 as in
bench/bridge.py. The points are aiortc clients in a child process (bench/points.py,
`decode=False`) with a flat 160x90 picture at 5 fps (the first point, on the program,
640x360 at 15 fps) and bench/microphone.py's microphone: `--talkers` of them play a tone, the
others send quiet room noise. In the mode "levels" they offer the ssrc-audio-level header
extension, as browsers do; in "no_levels" they leave it out of their offer, so the bridge
decodes everyone. Each mode: its own server, all points join, `--settle` s, then the
server's CPU over `--window` s (from /proc/PID/stat), the quietest of `--retries` + 1
windows. The difference between the modes is what deciding on the header saves.

Run from the project root:

    .venv/bin/python bench/talkers.py [--points 30] [--talkers 2] [--window 15]

One JSON object goes to stdout, progress to stderr. Exit code 0 when it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from aiortc import RTCSessionDescription
from bridge import (
    BENCH_PASSWORD,
    console_open,
    cpu_between,
    enrol,
    leave_all,
    obey,
    quietest_window,
    run_points_benchmark,
    tone_of,
)
from hall import MEETING
from harness import (
    HOST,
    BenchFailed,
    Children,
    Deadline,
    children_running,
    logged_errors,
    progress,
    run_child,
    running_server,
    server_env,
)
from machine import CpuMark, wait_for_quiet
from microphone import Microphone, cheap_levels
from points import Point

MODES = ("levels", "no_levels")
LEVEL_EXTENSION = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
JOIN_CONCURRENCY = 4
ORDER_S = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=30, help="points in the conference")
    parser.add_argument("--talkers", type=int, default=2, help="points that talk")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the joins")
    parser.add_argument("--port", type=int, default=8775, help="phonghop's port on 127.0.0.1")
    parser.add_argument("--max-load", type=float, default=1.5, help="1-minute load to wait out")
    parser.add_argument("--load-wait", type=float, default=120.0, help="longest wait, seconds")
    parser.add_argument("--retries", type=int, default=1, help="new windows if one is noisy")
    parser.add_argument("--timeout", type=float, default=1200.0, help="overall limit in seconds")
    args = parser.parse_args()
    if args.points < 1 or not 0 <= args.talkers <= args.points or args.window <= 0:
        parser.error("need 0 <= --talkers <= --points, at least one point, a positive window")
    return args


# --- the points (a child process that takes orders over a pipe) -----------------------------


class TalkingPoint(Point):
    """A point with a browser-like microphone; without levels it leaves the audio-level
    header extension out of its offer, so none of its packets carries one."""

    def __init__(self, *args: Any, talking: bool, levels: bool, **options: Any) -> None:
        super().__init__(*args, **options)
        self.audio = Microphone(self.audio.frequency_hz, talking)  # type: ignore[assignment]
        self.levels = levels

    async def _post_offer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        if not self.levels:
            lines = [line for line in offer.sdp.splitlines() if LEVEL_EXTENSION not in line]
            offer = RTCSessionDescription("\r\n".join(lines) + "\r\n", offer.type)
        return await super()._post_offer(offer)


@dataclass
class PointsSpec:
    url: str
    usernames: list[str]
    talkers: int


async def grow(points: list[Any], spec: PointsSpec, order: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def join(index: int) -> Any:
        made = TalkingPoint(
            spec.url,
            spec.usernames[index],
            MEETING,
            (40 + index * 5, 120, 160),
            tone_of(index),
            talking=index < spec.talkers,
            levels=order["levels"],
            password=BENCH_PASSWORD,
            decode=False,
            connect_within=60,
        )
        async with gate:
            try:
                return await made.join()
            except Exception:
                await made.leave()
                raise

    joined = await asyncio.gather(
        *(join(i) for i in range(len(spec.usernames))), return_exceptions=True
    )
    failures = [repr(item)[:300] for item in joined if isinstance(item, BaseException)]
    points += [item for item in joined if not isinstance(item, BaseException)]
    return {"joined": len(points), "join_s": time.monotonic() - started, "failures": failures}


async def heard(points: list[Any], spec: PointsSpec, order: dict[str, Any]) -> dict[str, Any]:
    """How loud the mix is at each point (RMS of its last second), talkers first."""
    return {
        "rms": [round(p.audio_level(), 4) for p in points],
        "connected": sum(p.pc.connectionState == "connected" for p in points),
    }


ORDERS = {"grow": grow, "heard": heard, "leave": leave_all}


async def run_points(spec: PointsSpec, pipe: Pipe) -> None:
    cheap_levels()
    await obey(ORDERS, spec, pipe)


def points_process(spec: PointsSpec, pipe: Pipe) -> None:
    run_child(run_points(spec, pipe), pipe)


@contextlib.asynccontextmanager
async def points_running(spec: PointsSpec) -> AsyncIterator[Children]:
    async with children_running(
        "the points", points_process, [spec], ready_within=ORDER_S, stop_grace=60
    ) as process:
        yield process


async def ask(points: Children, order: dict[str, Any]) -> dict[str, Any]:
    return (await points.ask(order, ORDER_S))[0]


# --- measuring ------------------------------------------------------------------------------


async def window(points: Children, server_pid: int, seconds: float) -> dict[str, Any]:
    start = CpuMark()
    await asyncio.sleep(seconds)
    return cpu_between(start, CpuMark(), server_pid, points.pids[0])


async def run_mode(
    args: argparse.Namespace, data_dir: Path, usernames: list[str], mode: str, ids: dict[str, int]
) -> dict[str, Any]:
    """One server with every point in `mode`; `ids` (username -> user id) is filled by the
    first mode, which enrols the points in the meeting (the data dir is kept)."""
    env = server_env(data_dir)
    log_path = data_dir / f"server-{mode}.log"
    spec = PointsSpec(f"http://{HOST}:{args.port}", usernames, args.talkers)
    progress(f"{mode}: starting phonghop serve")
    with running_server(args.port, env, log_path) as server:
        if ids:
            await server.healthy()
        else:
            ids.update(await enrol(server, usernames))
        await wait_for_quiet(f"{mode}, before joining", args)
        async with points_running(spec) as points:
            grown = await ask(points, {"type": "grow", "levels": mode == "levels"})
            progress(f"{mode}: {grown['joined']} points in after {grown['join_s']:.1f} s")
            if grown["joined"] < len(usernames):
                raise BenchFailed(f"points could not join: {grown['failures'][:3]}")
            async with console_open(spec.url) as console:  # the chair's, left open
                await console.pick(ids[usernames[0]])
                await asyncio.sleep(args.settle)
                measured = await quietest_window(
                    lambda: window(points, server.pid, args.window), args
                )
            mix = await ask(points, {"type": "heard"})
            await ask(points, {"type": "leave"})
    result = {**measured, **mix, "errors": logged_errors(log_path)}
    progress(f"{mode}: {result}")
    return result


async def measure_all(
    args: argparse.Namespace, data_dir: Path, usernames: list[str], deadline: Deadline
) -> dict[str, Any]:
    ids: dict[str, int] = {}
    by_mode = {mode: await run_mode(args, data_dir, usernames, mode, ids) for mode in MODES}
    with_levels, without = (by_mode[mode]["server_cpu_cores"] for mode in MODES)
    return {
        "benchmark": "talkers",
        "cpus": os.cpu_count(),
        "points": args.points,
        "talkers": args.talkers,
        "window_s": args.window,
        **by_mode,
        "saved_cpu_cores": round(without - with_levels, 3),
        "saved_share": round(1 - with_levels / without, 3) if without else None,
        "load_avg_at_end": [round(value, 2) for value in os.getloadavg()],
    }


def main() -> int:
    args = parse_args()
    return run_points_benchmark(args, args.points, measure_all)


if __name__ == "__main__":
    sys.exit(main())
