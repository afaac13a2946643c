"""A recording from start to end: the same code whether the server runs it as a task or
`phonghop recorder --meeting ID` runs it as its own process.

It makes the Recording row, checks the disk, holds the folder's lock, listens to the
program (calling again when the connection drops while the meeting goes on) and writes
segments until `stop` is set, the disk fills or the server stays away. A clean end joins
the segments into one MP4 and writes the chapters; every change is told to the server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from recorder import files
from recorder.feed import WriterThread
from recorder.listener import ListenRefused, ProgramListener
from recorder.lock import Lock
from recorder.space import NotEnoughSpace, check_space
from recorder.writer import SegmentWriter
from server import db
from server.i18n import N_
from server.models import Meeting, Recording
from server.recordings.chapters import write_chapters
from server.settings import Settings

log = logging.getLogger(__name__)

RETRY_S = 1.0
SERVER_GONE_S = 15.0  # no answer from the server for this long ends the recording
DISK_FULL = N_("Recording stopped: the disk is full. What was recorded until then is kept.")
FAILED = N_("Recording stopped after an error; what was recorded until then is kept.")
SERVER_GONE = N_("Recording stopped: the server stopped answering.")
MEETING_GONE = N_("Recording stopped: the meeting no longer exists.")
LOCKED = N_("Another recorder is already writing this recording.")


class NoSuchMeeting(Exception):
    pass


@dataclass
class Outcome:
    """How a recording ended, as told to the server: status, msgid and its parameters."""

    status: str
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message.format(**self.params)


class Reporter:
    """Tells the server how the recording goes; a server that does not hear is only logged."""

    def __init__(self, server_url: str, key: str, recording_id: int) -> None:
        self.url = f"{server_url}/api/recorder/recordings/{recording_id}/status"
        self.key = key

    async def tell(self, outcome: Outcome) -> None:
        body = {
            "status": outcome.status,
            "message": outcome.text,
            "msgid": outcome.message,
            "params": outcome.params,
        }
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                answer = await http.post(
                    self.url, json=body, headers={"Authorization": f"Bearer {self.key}"}
                )
            if answer.status_code >= 400:
                log.warning("the server refused the recording status: %s", answer.status_code)
        except httpx.HTTPError as problem:
            log.warning("could not tell the server the recording status: %s", problem)


class Clock:
    """The recording's clock: zero at the first picture, from the wall clock of arrival."""

    def __init__(self) -> None:
        self.zero: float | None = None
        self.started_at: datetime | None = None
        self.started = asyncio.Event()

    def now(self) -> float | None:
        return None if self.zero is None else time.monotonic() - self.zero

    def start(self) -> float:
        if self.zero is None:
            self.zero, self.started_at = time.monotonic(), datetime.now(UTC)
            self.started.set()
        return 0.0


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
        url = server_url or server_url_of(settings)
        reporter = Reporter(url, settings.recorder_key, recording.id)
        folder = settings.data_dir / recording.path
        outcome = await _record_into(settings, recording, folder, stop, reporter, minutes)
        recording = await asyncio.to_thread(_close_row, engine, recording, folder, outcome)
        await reporter.tell(outcome)
        return recording
    finally:
        engine.dispose()


async def _record_into(
    settings: Settings,
    recording: Recording,
    folder: Path,
    stop: asyncio.Event,
    reporter: Reporter,
    minutes: int | None,
) -> Outcome:
    try:
        check_space(folder, minutes or settings.recording_expected_minutes)
    except NotEnoughSpace as refused:
        return Outcome("refused", refused.message, refused.params)
    lock = Lock(folder)
    try:
        lock.take()
    except BlockingIOError:
        return Outcome("failed", LOCKED)
    try:
        return await _capture(settings, recording, folder, stop, reporter)
    finally:
        lock.release()


async def _capture(
    settings: Settings, recording: Recording, folder: Path, stop: asyncio.Event, reporter: Reporter
) -> Outcome:
    loop = asyncio.get_running_loop()
    failed = asyncio.Event()
    writer = SegmentWriter(
        folder / files.SEGMENTS,
        on_finished=lambda _: files.write_playlist(folder, writer.finished, ended=False),
    )
    thread = WriterThread(writer, lambda: loop.call_soon_threadsafe(failed.set))
    clock = Clock()
    thread.start()
    await reporter.tell(Outcome("recording"))
    ended = await _listen(settings, recording.meeting_id, reporter, clock, thread, stop, failed)
    segments = await asyncio.to_thread(thread.finish, clock.now() or 0.0)
    recording.started_at = clock.started_at or recording.started_at
    recording.duration_s = sum(segment.duration_s for segment in segments)
    if thread.failure == "disk_full":
        ended = Outcome("disk_full", DISK_FULL)
    elif thread.failure:
        ended = Outcome("failed", FAILED)
    await asyncio.to_thread(_wrap_up, folder, segments, ended.status == "done")
    return ended


async def _listen(
    settings: Settings,
    meeting_id: int,
    reporter: Reporter,
    clock: Clock,
    thread: WriterThread,
    stop: asyncio.Event,
    failed: asyncio.Event,
) -> Outcome:
    """Keeps a listener connected until told to stop; returns how listening ended."""
    server_url = reporter.url.split("/api/", 1)[0]

    def on_video(frame: Any) -> None:
        at = clock.now()
        thread.video(frame, clock.start() if at is None else at)

    def on_audio(frame: Any) -> None:
        at = clock.now()
        if at is not None:  # the clock starts with the first picture
            thread.audio(frame, at)

    unreachable_since: float | None = None
    while not stop.is_set() and not failed.is_set():
        listener = ProgramListener(on_video, on_audio)
        try:
            await listener.open(server_url, settings.recorder_key, meeting_id)
            unreachable_since = None
            await _first_of(stop.wait(), failed.wait(), listener.ended.wait())
        except ListenRefused as refused:
            if refused.status == 404:
                return Outcome("done", MEETING_GONE)
            log.warning("the bridge refused the recorder: %s", refused)
        except (httpx.HTTPError, OSError) as problem:
            log.warning("cannot reach the bridge: %s", problem)
            unreachable_since = unreachable_since or time.monotonic()
            if time.monotonic() - unreachable_since > SERVER_GONE_S:
                return Outcome("done", SERVER_GONE)
        finally:
            await listener.close()
        if not stop.is_set() and not failed.is_set():
            await _first_of(stop.wait(), asyncio.sleep(RETRY_S))
    return Outcome("done")


async def _first_of(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _wrap_up(folder: Path, segments: list[Any], join: bool) -> None:
    """The final playlist, and the joined MP4 after a clean stop (or after a full disk,
    if there is room for it)."""
    files.write_playlist(folder, segments, ended=True)
    if segments:
        try:
            files.join(folder, segments)
        except OSError:
            log.exception("could not join the segments; the playlist still plays them")


def _new_row(engine: Any, settings: Settings, meeting_id: int) -> Recording:
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


def _close_row(engine: Any, recording: Recording, folder: Path, outcome: Outcome) -> Recording:
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
