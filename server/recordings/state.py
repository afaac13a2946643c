"""The Recording rows and the folders they name; recordings left by a recorder that died.

A row still marked "recording" whose folder's lock is free was left by a recorder that
crashed (recorder/lock.py): it is shown, and at start-up closed, as interrupted.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from recorder import files
from recorder.lock import is_held
from server.errors import not_found
from server.house import House
from server.i18n import N_
from server.models import Recording
from server.recordings.chapters import write_chapters
from server.settings import Settings

INTERRUPTED_MESSAGE = N_("The recorder stopped unexpectedly; the finished segments are kept.")


def recordings_dir(settings: Settings) -> Path:
    return settings.data_dir / "recordings"


def folder_of(settings: Settings, recording: Recording) -> Path:
    """The recording's directory, never outside the recordings directory."""
    root = recordings_dir(settings).resolve()
    folder = (settings.data_dir / recording.path).resolve()
    if not recording.path or not folder.is_relative_to(root):
        raise not_found("recording")
    return folder


def status_of(recording: Recording, data_dir: Path) -> str:
    """The row's status, except that "recording" with nobody writing is "interrupted"."""
    if recording.status == "recording" and not is_held(data_dir / recording.path):
        return "interrupted"
    return recording.status


def shown_status(settings: Settings, recording: Recording) -> str:
    """live, done or interrupted: a row still "recording" whose recorder has died is
    interrupted (the recorder's lock file says which)."""
    status = status_of(recording, settings.data_dir)
    return "live" if status == "recording" else status


async def live_rows(state: House, meeting_id: int) -> list[Recording]:
    async with state.db_read() as db:
        rows = await db.exec(
            select(Recording).where(
                Recording.meeting_id == meeting_id, Recording.status == "recording"
            )
        )
        found = rows.all()
    return [r for r in found if shown_status(state.settings, r) == "live"]


async def live_meetings(state: House) -> set[int]:
    """The meetings being recorded now, by whichever process."""
    async with state.db_read() as db:
        rows = (await db.exec(select(Recording).where(Recording.status == "recording"))).all()
    return {r.meeting_id for r in rows if shown_status(state.settings, r) == "live"}


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
    segments = files.salvage(folder) if recording.path else []
    duration = sum(s.duration_s for s in segments)
    ended = recording.started_at + timedelta(seconds=duration)
    if recording.path:
        write_chapters(db, recording, folder, ended)
    recording.status = "interrupted"
    recording.ended_at = ended
    recording.duration_s = duration
    recording.size_bytes = sum(s.path.stat().st_size for s in segments)
    recording.message = INTERRUPTED_MESSAGE
    db.add(recording)
