"""`phonghop serve` processes for the benchmarks: one on SQLite, or several sharing a throwaway
PostgreSQL database and a Redis (`--two-servers`); starting, restarting and stopping them, and
what they logged."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import psycopg
import redis
from harness import (
    HOST,
    BenchFailed,
    Deadline,
    check_port_free,
    phonghop_executable,
    progress,
    server_env,
    wait_until_healthy,
)

SERVER_STOP_S = 15


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """--two-servers, and where its PostgreSQL and Redis are."""
    parser.add_argument(
        "--two-servers", action="store_true", help="two servers on PostgreSQL + Redis"
    )
    add_database_arguments(parser)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="where the servers' throwaway database is created (and dropped)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="shared live events")


def phonghop_command(arguments: list[str], env: dict[str, str], deadline: Deadline) -> str:
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


@contextlib.contextmanager
def throwaway_database(admin_url: str, label: str) -> Iterator[str]:
    """A new PostgreSQL database for the block (its URL), dropped afterwards."""
    name = f"phonghop_bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    progress(f"created the PostgreSQL database {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        progress(f"dropped the PostgreSQL database {name}")


@contextlib.contextmanager
def shared_environment(
    args: argparse.Namespace, data_dir: Path, ports: list[int], label: str, deadline: Deadline
) -> Iterator[dict[str, str]]:
    """The environment of servers that share one migrated throwaway PostgreSQL database, one
    Redis (under a prefix of their own), one secret key and one data dir."""
    for port in ports:
        check_port_free(port)
    prefix = f"bench-{label}-{secrets.token_hex(4)}"
    with (
        throwaway_database(args.postgres, label) as database_url,
        redis_keys_removed(args.redis, prefix),
    ):
        env = {
            **server_env(data_dir),
            "PHONGHOP_DATABASE_URL": database_url,
            "PHONGHOP_REDIS_URL": args.redis,
            "PHONGHOP_REDIS_PREFIX": prefix,
            "PHONGHOP_SECRET_KEY": secrets.token_urlsafe(32),
            "PHONGHOP_ALLOWED_ORIGINS": ",".join(f"http://{HOST}:{port}" for port in ports),
        }
        progress("migrating the database")
        phonghop_command(["db", "upgrade"], env, deadline)
        yield env


@contextlib.contextmanager
def redis_keys_removed(redis_url: str, prefix: str) -> Iterator[None]:
    """Whatever the servers left in Redis under `prefix` (presence, stores) goes at the end."""
    try:
        yield
    finally:
        with contextlib.suppress(redis.RedisError):
            with contextlib.closing(redis.Redis.from_url(redis_url)) as client:
                for key in client.scan_iter(match=f"{prefix}:*"):
                    client.delete(key)


@contextlib.contextmanager
def running_server(port: int, env: dict[str, str], log: BinaryIO) -> Iterator[subprocess.Popen]:
    """`phonghop serve` for the duration of the block, its output going to `log`."""
    server = start_server(port, env, log)
    try:
        yield server
    finally:
        progress(f"stopping the phonghop server on port {port}")
        stop_server(server)


def start_server(port: int, env: dict[str, str], log: BinaryIO) -> subprocess.Popen:
    check_port_free(port)
    command = [phonghop_executable(), "serve", "--host", HOST, "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_server(server: subprocess.Popen, grace: float = SERVER_STOP_S) -> bool:
    """SIGTERM (a clean shutdown), then SIGKILL if it takes longer than `grace` seconds;
    whether it had to be killed."""
    if server.poll() is not None:
        return False
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return True
    return False


@dataclass
class Server:
    """One `phonghop serve` of a cluster, which can be restarted on its port."""

    port: int
    env: dict[str, str]
    log: BinaryIO
    process: subprocess.Popen = field(init=False)

    def __post_init__(self) -> None:
        self.process = start_server(self.port, self.env, self.log)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def restart(self, grace: float = SERVER_STOP_S) -> tuple[float, bool]:
        """Stops it with SIGTERM (SIGKILL after `grace` s) and starts it again on the same
        port; the seconds it took to stop and whether it was killed. (Wait for it with
        `healthy`.)"""
        started = time.monotonic()
        killed = stop_server(self.process, grace)
        stopped_s = time.monotonic() - started
        self.process = start_restarted(self.port, self.env, self.log)
        return stopped_s, killed


def start_restarted(port: int, env: dict[str, str], log: BinaryIO) -> subprocess.Popen:
    """As start_server, waiting (briefly) for the port the old process held to be free."""
    give_up = time.monotonic() + SERVER_STOP_S
    while True:
        try:
            return start_server(port, env, log)
        except BenchFailed:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def running_servers(ports: list[int], env: dict[str, str], logs: list[Path]) -> Iterator[list]:
    """One `Server` per port, all stopped at the end of the block."""
    with contextlib.ExitStack() as stack:
        servers = []
        for port, log_path in zip(ports, logs, strict=True):
            log = stack.enter_context(log_path.open("ab"))
            server = Server(port, env, log)
            stack.callback(stop_one, server)
            servers.append(server)
        yield servers


def stop_one(server: Server) -> None:
    progress(f"stopping the phonghop server on port {server.port}")
    stop_server(server.process)


async def healthy(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as client:
        await wait_until_healthy(client, server.process)


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
