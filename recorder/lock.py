"""Whether a recording is still being written.

A recorder holds an exclusive `flock` on `recorder.lock` in the recording's folder for as
long as it runs; the kernel lets go of it when the process ends, however it ends. A folder
whose lock is free has nobody writing in it, whatever the server's row still says.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from recorder import files


class Lock:
    """The recorder's hold on its folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / files.LOCK
        self._fd: int | None = None

    def take(self) -> None:
        """Raises BlockingIOError if another recorder writes here."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def is_held(folder: Path) -> bool:
    """Whether a live recorder holds `folder`'s lock."""
    try:
        fd = os.open(folder / files.LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
