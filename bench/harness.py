"""What every benchmark here shares: the time limit, the server's environment, the port check."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"  # loopback only


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
