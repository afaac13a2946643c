"""The process harness the benchmarks and the multi-process tests share (bench/harness.py):
a server that cannot start says why, one that is stopped starts again on its port, a client
process that fails stops the run with its error."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from bench.harness import (
    HOST,
    BenchFailed,
    Server,
    children_running,
    free_port,
    run_child,
    running_server,
    server_env,
)


def test_a_busy_port_is_refused_by_its_number(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BenchFailed, match=f"port {port} on {HOST} is in use"):
            Server(port, server_env(tmp_path))


async def test_a_server_that_exits_at_once_says_so_with_the_end_of_its_log(tmp_path: Path):
    log = tmp_path / "server.log"
    with running_server(free_port(), server_env(tmp_path), log, "no-such-command") as server:
        with pytest.raises(BenchFailed, match=r"exited with code 2(.|\n)*invalid choice"):
            await server.healthy()


def test_a_stopped_server_starts_again_on_its_port(tmp_path: Path):
    with running_server(free_port(), server_env(tmp_path), tmp_path / "server.log") as server:
        server.wait_healthy()
        first = server.pid
        assert server.stop() is False  # it stopped on SIGTERM, nobody had to kill it
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/healthz")
        _, killed = server.restart()
        server.wait_healthy()
        assert server.pid != first and not killed
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert server.process.poll() is not None  # the block stopped it in its second life


def refuse_to_count(spec: str, pipe) -> None:  # type: ignore[no-untyped-def]
    run_child(count_or_refuse(spec), pipe)


async def count_or_refuse(spec: str) -> None:
    raise ValueError(f"{spec} cannot count")


async def test_a_client_process_that_fails_stops_the_run_with_its_error():
    with pytest.raises(BenchFailed, match="the tablets failed: ValueError.*tablet 2 cannot"):
        async with children_running("the tablets", refuse_to_count, ["tablet 2"], ready_within=60):
            pass
