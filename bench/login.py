"""Login burst benchmark: every delegate's tablet signs in at the same moment.

What it measures: a council session opens and N delegates (default 500) sign in at once.
Each simulated tablet has its own HTTP client (its own cookies), does GET /login to get the
`csrftoken` cookie, then POST /login with JSON {username, password} and the token in the
`X-CSRFToken` header. All tablets are released together by one asyncio.Event.

It reports how long until everyone is in, the per-login latency (GET + POST) percentiles,
the number of failed logins, and the server's own event-loop lag during the burst, read from
GET /healthz?window=SECONDS afterwards. Targets: all in within 10 s, loop lag p99 <= 20 ms,
no failures.

How it runs: a fresh temporary data dir, accounts imported with `phonghop import-users`
(each with its own password), `phonghop serve` on 127.0.0.1 as a subprocess, then the burst.
The server is stopped and the data dir removed at the end, also on errors and timeouts.
PHONGHOP_ARGON2_* variables in the environment are passed on to the server.

Run from the project root:

    .venv/bin/python bench/login.py [--users 500] [--port 8765] [--timeout 120]

One JSON object goes to stdout, progress to stderr. Exit code 0 when the benchmark ran, even
if targets were missed ("met": false); 1 when it could not run or did not finish in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import math
import os
import re
import secrets
import sqlite3
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import (
    SERVER_START_S,
    BenchFailed,
    Deadline,
    Server,
    phonghop_command,
    progress,
    run_benchmark,
    running_server,
    server_env,
)

TARGET_ALL_IN_S = 10
TARGET_LOOP_LAG_P99_MS = 20


@dataclass
class LoginResult:
    ok: bool
    seconds: float
    error: str = ""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500, help="delegates signing in at once")
    parser.add_argument("--port", type=int, default=8765, help="port for the server on 127.0.0.1")
    parser.add_argument("--timeout", type=float, default=120.0, help="overall limit in seconds")
    args = parser.parse_args()
    if args.users < 1:
        parser.error("--users must be at least 1")
    return args


# --- preparing the data dir -------------------------------------------------------------


def write_users_csv(path: Path, count: int) -> dict[str, str]:
    """Writes `count` delegate accounts, each with its own password; returns username->password."""
    accounts = {f"daibieu{number:04d}": secrets.token_urlsafe(12) for number in range(1, count + 1)}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["username", "full_name", "role", "password"])
        for number, (username, password) in enumerate(accounts.items(), start=1):
            writer.writerow([username, f"Đại biểu {number}", "delegate", password])
    return accounts


def import_users(csv_path: Path, env: dict[str, str], deadline: Deadline) -> None:
    done = phonghop_command(["import-users", str(csv_path)], env, deadline)
    progress(done.splitlines()[0] if done else "import-users done")


def argon2_parameters(data_dir: Path) -> dict[str, int]:
    """The Argon2 parameters actually used, read from a stored hash ($argon2id$v=19$m=,t=,p=$)."""
    with contextlib.closing(sqlite3.connect(data_dir / "phonghop.db")) as db:
        row = db.execute('SELECT password_hash FROM "user" LIMIT 1').fetchone()
    found = re.search(r"\$m=(\d+),t=(\d+),p=(\d+)\$", row[0] if row else "")
    if not found:
        raise BenchFailed("no Argon2 hash found in the imported accounts")
    memory, time_cost, parallelism = (int(part) for part in found.groups())
    return {"memory_kib": memory, "time_cost": time_cost, "parallelism": parallelism}


# --- the burst ----------------------------------------------------------------------------


def tablet_client(base_url: str, timeout_s: float, tls: ssl.SSLContext) -> httpx.AsyncClient:
    # One client per tablet: its own cookie jar and its own connection, none shared or queued.
    # The TLS context is shared only because building one per client costs ~40 ms (plain http).
    return httpx.AsyncClient(
        base_url=base_url,
        trust_env=False,
        verify=tls,
        timeout=timeout_s,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


async def log_in(
    client: httpx.AsyncClient, username: str, password: str, go: asyncio.Event
) -> LoginResult:
    await go.wait()
    started = time.perf_counter()
    try:
        await client.get("/login")
        token = client.cookies.get("csrftoken")
        if not token:
            return LoginResult(False, time.perf_counter() - started, "no csrftoken cookie")
        response = await client.post(
            "/login",
            json={"username": username, "password": password},
            headers={"X-CSRFToken": token},
        )
    except httpx.HTTPError as exc:
        return LoginResult(False, time.perf_counter() - started, type(exc).__name__)
    seconds = time.perf_counter() - started
    if not response.is_success:
        return LoginResult(False, seconds, f"HTTP {response.status_code}")
    if response.json().get("user", {}).get("username") != username:
        return LoginResult(False, seconds, "signed in as someone else")
    return LoginResult(True, seconds)


async def run_burst(
    base_url: str, accounts: dict[str, str], deadline: Deadline
) -> tuple[list[LoginResult], float, int]:
    """All tablets log in together; returns (finished results, seconds to the last, unfinished)."""
    go = asyncio.Event()
    tls = ssl.create_default_context()
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(tablet_client(base_url, deadline.seconds, tls))
            for _ in accounts
        ]
        tasks = [
            asyncio.create_task(log_in(client, username, password, go))
            for client, (username, password) in zip(clients, accounts.items(), strict=True)
        ]
        await asyncio.sleep(0)  # let every tablet reach go.wait()
        started = time.perf_counter()
        go.set()
        done, pending = await asyncio.wait(tasks, timeout=deadline.left())
        all_in_s = time.perf_counter() - started
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return [task.result() for task in done], all_in_s, len(pending)


async def server_loop_lag(base_url: str, window_s: float) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=10) as client:
        response = await client.get("/healthz", params={"window": math.ceil(window_s)})
    response.raise_for_status()
    return response.json()["loop_lag"]


# --- the report ---------------------------------------------------------------------------


def percentile_ms(seconds: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile in milliseconds, or None when there is nothing to rank."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1] * 1000, 1)


def count_errors(results: list[LoginResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        if not result.ok:
            counts[result.error] = counts.get(result.error, 0) + 1
    return counts


def build_report(
    users: int,
    results: list[LoginResult],
    all_in_s: float,
    unfinished: int,
    loop_lag: dict[str, float],
    argon2: dict[str, int],
) -> dict[str, object]:
    latencies = [result.seconds for result in results if result.ok]
    failures = unfinished + sum(1 for result in results if not result.ok)
    report: dict[str, object] = {
        "benchmark": "login",
        "users": users,
        "all_in_s": None if unfinished else round(all_in_s, 2),
        "login_p50_ms": percentile_ms(latencies, 0.50),
        "login_p95_ms": percentile_ms(latencies, 0.95),
        "login_p99_ms": percentile_ms(latencies, 0.99),
        "login_max_ms": percentile_ms(latencies, 1.0),
        "failures": failures,
        "loop_lag_p99_ms": loop_lag.get("p99_ms"),
        "loop_lag_max_ms": loop_lag.get("max_ms"),
        "argon2": argon2,
        "cpus": os.cpu_count(),
        "targets": {"all_in_s": TARGET_ALL_IN_S, "loop_lag_p99_ms": TARGET_LOOP_LAG_P99_MS},
    }
    report["met"] = (
        failures == 0  # also rules out unfinished logins
        and all_in_s <= TARGET_ALL_IN_S
        and loop_lag.get("p99_ms", math.inf) <= TARGET_LOOP_LAG_P99_MS
    )
    if unfinished:
        report["error"] = f"{unfinished} logins unfinished when the overall timeout ran out"
    return report


# --- putting it together ------------------------------------------------------------------


async def measure(
    server: Server, accounts: dict[str, str], argon2: dict[str, int], deadline: Deadline
) -> dict[str, object]:
    base_url = server.url
    await server.healthy(min(SERVER_START_S, deadline.left()))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    progress(f"server is up; {len(accounts)} tablets sign in at once (load average {load})")
    burst_started = time.perf_counter()
    results, all_in_s, unfinished = await run_burst(base_url, accounts, deadline)
    errors = count_errors(results) or "none"
    progress(f"burst over after {all_in_s:.2f} s; unfinished: {unfinished}; errors: {errors}")
    loop_lag = await server_loop_lag(base_url, time.perf_counter() - burst_started)
    return build_report(len(accounts), results, all_in_s, unfinished, loop_lag, argon2)


def run(args: argparse.Namespace, data_dir: Path, deadline: Deadline) -> dict[str, object]:
    env = server_env(data_dir)
    csv_path = data_dir / "delegates.csv"
    accounts = write_users_csv(csv_path, args.users)
    progress(f"importing {args.users} accounts into {data_dir}")
    import_users(csv_path, env, deadline)
    argon2 = argon2_parameters(data_dir)
    with running_server(args.port, env) as server:
        return asyncio.run(measure(server, accounts, argon2, deadline))


def main() -> int:
    args = parse_args()
    deadline = Deadline(args.timeout)
    return run_benchmark(lambda data_dir: run(args, data_dir, deadline), httpx.HTTPError)


if __name__ == "__main__":
    sys.exit(main())
