"""Whether a recording is still being written, and tidying up after a recorder that died.

A recorder holds an exclusive `flock` on `recorder.lock` in the recording's folder for as
long as it runs; the kernel lets go of it when the process ends, however it ends. A row
still marked "recording" whose lock is free was therefore left by a recorder that crashed.
"""

from __future__ import annotations

import fcntl
import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from recorder import files
from server.i18n import N_
from server.models import Recording
from server.recordings.chapters import write_chapters

INTERRUPTED_MESSAGE = N_("The recorder stopped unexpectedly; the finished segments are kept.")


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


def status_of(recording: Recording, data_dir: Path) -> str:
    """The row's status, except that "recording" with nobody writing is "interrupted"."""
    if recording.status == "recording" and not is_held(data_dir / recording.path):
        return "interrupted"
    return recording.status


def recover(db: Session, data_dir: Path, meeting_id: int | None = None) -> list[Recording]:
    """Marks recordings left by dead recorders interrupted, and writes their playlist and
    chapters from the finished segments. Returns the rows it changed (committed)."""
    query = select(Recording).where(Recording.status == "recording")
    if meeting_id is not None:
        query = query.where(Recording.meeting_id == meeting_id)
    changed = []
    for recording in db.exec(query).all():
        if status_of(recording, data_dir) == "interrupted":
            _close_interrupted(db, recording, data_dir)
            changed.append(recording)
    db.commit()
    return changed


def _close_interrupted(db: Session, recording: Recording, data_dir: Path) -> None:
    folder = data_dir / recording.path
    segments = files.rescan(folder) if recording.path else []
    duration = sum(s.duration_s for s in segments)
    ended = recording.started_at + timedelta(seconds=duration)
    if recording.path:
        files.write_playlist(folder, segments, ended=True)
        write_chapters(db, recording, folder, ended)
    recording.status = "interrupted"
    recording.ended_at = ended
    recording.duration_s = duration
    recording.size_bytes = sum(s.path.stat().st_size for s in segments)
    recording.message = INTERRUPTED_MESSAGE
    db.add(recording)
