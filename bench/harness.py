"""What every benchmark here shares: progress lines, the time limit, the server's environment,
the port check, and the way a run starts and ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"  # loopback only
STARTED = time.monotonic()


def progress(message: str) -> None:
    """A line on stderr, named after the benchmark being run (also in its child processes)."""
    name = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "bench"
    elapsed = time.monotonic() - STARTED
    print(f"[bench/{name} {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


class BenchFailed(Exception):
    """The benchmark itself could not run (as opposed to the code missing a target)."""


class Deadline:
    """The overall time limit, shared by every step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def check(self, doing: str) -> None:
        if not self.left():
            raise BenchFailed(f"the overall timeout of {self.seconds:.0f} s ran out while {doing}")


def phonghop_executable() -> str:
    path = Path(sys.executable).with_name("phonghop")
    if not path.exists():
        raise BenchFailed(f"{path} not found; run with the project's .venv/bin/python")
    return str(path)


def server_env(data_dir: Path) -> dict[str, str]:
    """Our environment for a `phonghop` child, pointed at `data_dir` and quiet."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PHONGHOP_DATABASE_URL", "PHONGHOP_HOST", "PHONGHOP_PORT")
    }
    env.update(PHONGHOP_DATA_DIR=str(data_dir), PHONGHOP_LOG_LEVEL="WARNING", PHONGHOP_HOST=HOST)
    return env


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: connections of a previous run in TIME-WAIT do not make it busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise BenchFailed(f"port {port} on {HOST} is in use; pick another with --port") from exc


def raise_fd_limit() -> None:
    """Hundreds of sockets in one process: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers are stopped and the temp dir removed."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_benchmark(
    measure: Callable[[Path], dict[str, Any]], *could_not_run: type[BaseException]
) -> int:
    """Runs `measure` in a fresh temporary data dir, removed afterwards, and prints its JSON
    report. Exit code 0 when it ran, 1 when it could not (`could_not_run` says why)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"phonghop-bench-{Path(sys.argv[0]).stem}-"))
    try:
        report = measure(data_dir)
    except (BenchFailed, *could_not_run) as exc:
        progress(f"could not run the benchmark: {exc!r}")
        return 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False))
    return 1 if "error" in report else 0


SERVER_START_S = 30


async def wait_until_healthy(
    client: httpx.AsyncClient, server: subprocess.Popen, within: float = SERVER_START_S
) -> None:
    """Until the server answers /healthz; a server that exits or stays silent fails the run."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        if server.poll() is not None:
            raise BenchFailed(f"the server exited with code {server.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise BenchFailed(f"the server did not answer /healthz within {within:.0f} s")
