"""The process harness of the benchmarks and of the tests that run real servers: `phonghop`
servers (serve, demo, bridge) on loopback ports, started, waited for, stopped and started again,
alone or several at once; client processes that take orders over a pipe; and the way a
benchmark run starts and ends.

bench/ scripts import it as `harness`, tests as `bench.harness`, so it imports nothing else
from bench/ or tests/.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"  # loopback only
STARTED = time.monotonic()
# A ceiling, not a wait: a healthy server answers at once; on a machine busy with other work
# (load 10 on 2 cores was seen) starting Python and migrating can take a minute.
SERVER_START_S = 120
SERVER_STOP_S = 15
LOG_TAIL = 2000  # characters of a server's log quoted when it failed to start
STDERR = 2  # a server without a log writes to our stderr: stdout carries a benchmark's JSON


def progress(message: str) -> None:
    """A line on stderr, named after the benchmark being run (also in its child processes)."""
    name = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "bench"
    elapsed = time.monotonic() - STARTED
    print(f"[bench/{name} {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


class BenchFailed(Exception):
    """A step of the run could not be done: a process did not start, answer or finish. (A
    benchmark then could not run, as opposed to the code missing a target.)"""


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


# --- phonghop's commands --------------------------------------------------------------------


def phonghop_executable() -> str:
    path = Path(sys.executable).with_name("phonghop")
    if not path.exists():
        raise BenchFailed(f"{path} not found; run with the project's .venv/bin/python")
    return str(path)


def phonghop_command(arguments: list[str], env: dict[str, str], deadline: Deadline) -> str:
    """Runs `phonghop <arguments>` to the end; its output. A failure says what it printed."""
    command = [phonghop_executable(), *arguments]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=deadline.left()
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailed(f"phonghop {arguments[0]} did not finish in time") from exc
    if done.returncode != 0:
        raise BenchFailed(f"phonghop {arguments[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def server_env(data_dir: Path) -> dict[str, str]:
    """Our environment for a `phonghop` child, pointed at `data_dir` and quiet."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PHONGHOP_DATABASE_URL", "PHONGHOP_HOST", "PHONGHOP_PORT")
    }
    env.update(PHONGHOP_DATA_DIR=str(data_dir), PHONGHOP_LOG_LEVEL="WARNING", PHONGHOP_HOST=HOST)
    return env


# --- ports ----------------------------------------------------------------------------------


def free_port() -> int:
    """A port on the loopback nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: connections of a previous run in TIME-WAIT do not make it busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise BenchFailed(f"port {port} on {HOST} is in use; pick another with --port") from exc


def wait_for_port(port: int, within: float) -> None:
    """Until nobody holds `port` (a stopped process may take a moment to let it go)."""
    give_up = time.monotonic() + within
    while True:
        try:
            return check_port_free(port)
        except BenchFailed:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.1)


# --- servers --------------------------------------------------------------------------------


@dataclass
class Server:
    """One `phonghop serve` (or `demo`, `bridge`) on a loopback port, started when made; it
    can be stopped and started again on the same port. Its output is appended to `log`, or
    goes to our stderr (stdout carries a benchmark's JSON)."""

    port: int
    env: dict[str, str]
    log: Path | None = None
    command: str = "serve"
    process: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, port_wait: float = 0.0) -> None:
        """Starts the process, after waiting up to `port_wait` s for its port to be free.
        (Wait for it with `healthy` or `wait_healthy`.)"""
        wait_for_port(self.port, port_wait)
        command = [phonghop_executable(), self.command, "--host", HOST, "--port", str(self.port)]
        if self.log is None:
            self.process = subprocess.Popen(command, env=self.env, stdout=STDERR)
            return
        with self.log.open("ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self, grace: float = SERVER_STOP_S) -> bool:
        """SIGTERM (a clean shutdown), then SIGKILL if it takes longer than `grace` seconds;
        whether it had to be killed."""
        if self.process.poll() is not None:
            return False
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            progress(f"port {self.port}: the server ignored SIGTERM for {grace:.0f} s; killing it")
            self.process.kill()
            self.process.wait()
            return True
        return False

    def restart(self, grace: float = SERVER_STOP_S) -> tuple[float, bool]:
        """Stops it (SIGKILL after `grace` s) and starts it again on the same port; the seconds
        it took to stop and whether it was killed. (Wait for it with `healthy`.)"""
        started = time.monotonic()
        killed = self.stop(grace)
        stopped_s = time.monotonic() - started
        self.start(port_wait=SERVER_STOP_S)
        return stopped_s, killed

    async def healthy(self, within: float = SERVER_START_S) -> None:
        """Until it answers /healthz; a server that exits or stays silent fails the run."""
        give_up = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=10) as client:
            while time.monotonic() < give_up:
                self._check_running()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise BenchFailed(self._said(f"did not answer /healthz within {within:.0f} s"))

    def wait_healthy(self, within: float = SERVER_START_S) -> None:
        """As `healthy`, blocking: for setting up outside an event loop."""
        give_up = time.monotonic() + within
        with httpx.Client(base_url=self.url, trust_env=False, timeout=10) as client:
            while time.monotonic() < give_up:
                self._check_running()
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/healthz").status_code == 200:
                        return
                time.sleep(0.1)
        raise BenchFailed(self._said(f"did not answer /healthz within {within:.0f} s"))

    def _check_running(self) -> None:
        if self.process.poll() is not None:
            raise BenchFailed(self._said(f"exited with code {self.process.returncode}"))

    def _said(self, what: str) -> str:
        """`what` happened to the server, and the end of its log if it has one."""
        message = f"phonghop {self.command} on port {self.port} {what}"
        if self.log is None or not self.log.exists():
            return message
        return f"{message}; its log ends:\n{self.log.read_text(errors='replace')[-LOG_TAIL:]}"


@contextlib.contextmanager
def running_server(
    port: int, env: dict[str, str], log: Path | None = None, command: str = "serve"
) -> Iterator[Server]:
    """`phonghop <command>` for the duration of the block."""
    with running_servers([port], env, [log], command) as (server,):
        yield server


@contextlib.contextmanager
def running_servers(
    ports: list[int],
    env: dict[str, str],
    logs: Sequence[Path | None] | None = None,
    command: str = "serve",
) -> Iterator[list[Server]]:
    """One `Server` per port (and log, if given), all stopped at the end of the block, as
    they are then: a server restarted meanwhile is stopped in its new life."""
    with contextlib.ExitStack() as stack:
        servers = []
        for port, log in zip(ports, logs or [None] * len(ports), strict=True):
            server = Server(port, env, log, command)
            stack.callback(stop_server, server)
            servers.append(server)
        yield servers


def stop_server(server: Server) -> None:
    progress(f"stopping the phonghop server on port {server.port}")
    server.stop()


def logged_errors(path: Path) -> dict[str, int]:
    """How many times the server logged each error or warning message (JSON log lines)."""
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError, AttributeError):
            entry = json.loads(line)
            if entry.get("level") in ("error", "critical", "warning"):
                counts[f"{entry.get('msg')}: {exception_line(entry)}".rstrip(": ")] += 1
    return dict(counts)


def exception_line(entry: dict[str, Any]) -> str:
    """The last "SomeError: message" line of a logged traceback, or ""."""
    lines = str(entry.get("error", "")).strip().splitlines()
    named = [line for line in lines if ("Error" in line or "Exception" in line) and ": " in line]
    return (named or lines or [""])[-1].strip()[:160]


# --- client processes -----------------------------------------------------------------------


def run_loop(work: Coroutine[Any, Any, Any]) -> Any:
    """Runs `work` on uvloop when installed (as uvicorn does for phonghop), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run_child(work: Coroutine[Any, Any, Any], pipe: Pipe) -> None:
    """A client process's whole life: `work` on the loop; a failure is sent to the parent,
    which stops the run."""
    try:
        run_loop(work)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        with contextlib.suppress(OSError):
            pipe.send({"error": repr(exc)[:500]})


async def receive(pipe: Pipe, within: float) -> Any:
    """The next object on `pipe`, without blocking the event loop while waiting."""
    loop = asyncio.get_running_loop()
    readable = loop.create_future()
    loop.add_reader(pipe.fileno(), lambda: readable.done() or readable.set_result(None))
    try:
        await asyncio.wait_for(readable, within)
    finally:
        loop.remove_reader(pipe.fileno())
        os.set_blocking(pipe.fileno(), True)  # uvloop leaves it non-blocking: recv would fail
    return pipe.recv()


def stop_process(process: multiprocessing.process.BaseProcess, grace: float = 5) -> None:
    """Waits `grace` s for `process` to end by itself, then terminates it, then kills it."""
    process.join(timeout=grace)
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)
    if process.is_alive():
        process.kill()
        process.join()


@dataclass
class Children:
    """Client processes that each answer every order sent over their pipe (`who` names them
    in failures)."""

    who: str
    pipes: list[Pipe]
    pids: list[int]
    ready: list[Any] = field(default_factory=list)  # what each said first

    async def ask(self, order: dict[str, Any], within: float) -> list[Any]:
        """Sends `order` to every one; their answers, in order."""
        for pipe in self.pipes:
            pipe.send(order)
        return await self.answers(within)

    async def answers(self, within: float) -> list[Any]:
        return list(await asyncio.gather(*(self._answer(pipe, within) for pipe in self.pipes)))

    async def _answer(self, pipe: Pipe, within: float) -> Any:
        answer = await receive(pipe, within)
        if isinstance(answer, dict) and "error" in answer:
            raise BenchFailed(f"{self.who} failed: {answer['error']}")
        return answer


@contextlib.asynccontextmanager
async def children_running(
    who: str,
    target: Callable[..., None],
    specs: list[Any],
    *shared: Any,
    ready_within: float,
    stop_grace: float = 30,
) -> AsyncIterator[Children]:
    """`target(spec, pipe, *shared)` in a spawned process per spec, for the block, once each
    has said it is ready; at the end each is told `{"type": "close"}` and given `stop_grace`
    seconds to finish."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    try:
        for spec in specs:
            pipe, child_end = context.Pipe()
            process = context.Process(target=target, args=(spec, child_end, *shared), daemon=True)
            process.start()
            child_end.close()
            pipes.append(pipe)
            processes.append(process)
        children = Children(who, pipes, [int(p.pid or 0) for p in processes])
        children.ready = await children.answers(ready_within)
        yield children
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send({"type": "close"})
        for process, pipe in zip(processes, pipes, strict=True):
            stop_process(process, grace=stop_grace)
            pipe.close()


@contextlib.contextmanager
def child_serving(label: str, port: int, target: Callable[..., None], *args: Any) -> Iterator[int]:
    """`target(port, *args, ready)` in a spawned process for the block, once it has set the
    `ready` event (an anchor server of a benchmark); yields its pid."""
    check_port_free(port)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=target, args=(port, *args, ready), daemon=True)
    process.start()
    try:
        if not ready.wait(SERVER_START_S):
            raise BenchFailed(f"{label} did not start")
        yield int(process.pid or 0)
    finally:
        progress(f"stopping {label}")
        stop_process(process, grace=0)


LARGEST_OF = ("max_backlog", "connect_s")  # merged by max; other numbers add up


def merged(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Client processes' answers as one: counts added, lists joined, the largest backlog."""
    whole = dict(answers[0])
    for answer in answers[1:]:
        for key, value in answer.items():
            if key in LARGEST_OF:
                whole[key] = max(whole[key], value)
            elif isinstance(value, (int, float, list)) and not isinstance(value, bool):
                whole[key] = whole[key] + value
    return whole


# --- a benchmark's run ----------------------------------------------------------------------


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


def measure_within(work: Coroutine[Any, Any, dict[str, Any]], deadline: Deadline) -> dict:
    """Runs `work` on the loop within what is left of the overall time limit."""
    try:
        return run_loop(asyncio.wait_for(work, timeout=deadline.left()))
    except TimeoutError as exc:
        raise BenchFailed("the overall timeout ran out") from exc


def percentile_ms(seconds: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile in milliseconds, or None when there is nothing to rank."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1] * 1000, 2)


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
