"""`phonghop recorder --meeting ID`: the recorder (recorder/run.py) in a process of its own,
with the database behind it. This side makes the Recording row the recorder writes under,
and once the recorder is done closes it with the chapters from the journal."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from recorder import files, run
from server import db
from server.models import Meeting, Recording
from server.recordings.chapters import write_chapters
from server.settings import Settings


class NoSuchMeeting(Exception):
    pass


def server_url_of(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.port}"


async def record(
    settings: Settings,
    meeting_id: int,
    stop: asyncio.Event,
    server_url: str | None = None,
    minutes: int | None = None,
) -> Recording:
    """Records the meeting's program until `stop` is set; returns the finished row."""
    engine = db.make_sync_engine(settings.database_url)
    try:
        recording = await asyncio.to_thread(_new_row, engine, settings, meeting_id)
        assignment = run.Assignment(
            meeting_id=meeting_id,
            recording_id=recording.id,
            folder=settings.data_dir / recording.path,
            server_url=server_url or server_url_of(settings),
            key=settings.recorder_key,
            minutes=minutes or settings.recording_expected_minutes,
        )
        close = partial(_close_row, engine, recording, assignment.folder)
        return await run.record(assignment, stop, close)
    finally:
        engine.dispose()


def _new_row(engine: Engine, settings: Settings, meeting_id: int) -> Recording:
    with Session(engine, expire_on_commit=False) as session:
        if session.get(Meeting, meeting_id) is None:
            raise NoSuchMeeting(meeting_id)
        recording = Recording(meeting_id=meeting_id, status="recording")
        session.add(recording)
        session.flush()
        folder = files.folder_of(settings.data_dir, meeting_id, recording.id)
        recording.path = str(folder.relative_to(settings.data_dir))
        session.commit()
        return recording


def _close_row(
    engine: Engine, recording: Recording, folder: Path, recorded: run.Recorded
) -> Recording:
    outcome = recorded.outcome
    recording.started_at = recorded.started_at or recording.started_at
    recording.duration_s = recorded.duration_s
    with Session(engine, expire_on_commit=False) as session:
        if recording.duration_s:  # read the journal first: the update below takes the lock
            on_its_clock = recording.started_at + timedelta(seconds=recording.duration_s)
            write_chapters(session, recording, folder, on_its_clock)
        row = session.get(Recording, recording.id)
        assert row is not None
        row.status = "done" if outcome.status == "disk_full" else outcome.status
        row.message = outcome.text
        row.started_at, row.duration_s = recording.started_at, recording.duration_s
        row.ended_at = datetime.now(UTC)
        row.size_bytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        session.add(row)
        session.commit()
        return row


def record_until_signalled(
    settings: Settings, meeting_id: int, server_url: str | None, minutes: int | None
) -> int:
    """`phonghop recorder`: records until SIGTERM or SIGINT; the exit code says how it ended."""
    return asyncio.run(_record_until_signalled(settings, meeting_id, server_url, minutes))


async def _record_until_signalled(
    settings: Settings, meeting_id: int, server_url: str | None, minutes: int | None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        recording = await record(settings, meeting_id, stop, server_url, minutes)
    except NoSuchMeeting:
        print(f"error: there is no meeting {meeting_id}", file=sys.stderr)
        return 2
    where = settings.data_dir / recording.path
    print(f"recording {recording.id}: {recording.status}, {recording.duration_s:.1f} s in {where}")
    if recording.message:
        print(recording.message, file=sys.stderr)
    return 0 if recording.status == "done" else 1
