"""A recording from start to end, as the server asks for it: which meeting's program, into
which folder, under which recording number. The recorder knows nothing of the database: the
server side (`phonghop recorder`, server/recordings/standalone.py) makes the row before and
closes it after, through the `close` it hands in.

It checks the disk, holds the folder's lock, listens to the program (calling again when the
connection drops while the meeting goes on) and writes segments until `stop` is set, the
disk fills or the server stays away. A clean end joins the segments into one MP4; every
change is told to the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from recorder import N_, files
from recorder.feed import WriterThread
from recorder.listener import ListenRefused, ProgramListener
from recorder.lock import Lock
from recorder.space import NotEnoughSpace, check_space
from recorder.writer import SegmentWriter

log = logging.getLogger(__name__)

Kept = TypeVar("Kept")

RETRY_S = 1.0
SERVER_GONE_S = 15.0  # no answer from the server for this long ends the recording
DISK_FULL = N_("Recording stopped: the disk is full. What was recorded until then is kept.")
FAILED = N_("Recording stopped after an error; what was recorded until then is kept.")
SERVER_GONE = N_("Recording stopped: the server stopped answering.")
MEETING_GONE = N_("Recording stopped: the meeting no longer exists.")
LOCKED = N_("Another recorder is already writing this recording.")


@dataclass(frozen=True)
class Assignment:
    """What the server asks of a recorder: the program of `meeting_id` into `folder`,
    reported as recording `recording_id`, with room on the disk for `minutes`."""

    meeting_id: int
    recording_id: int
    folder: Path
    server_url: str
    key: str
    minutes: int


@dataclass
class Outcome:
    """How a recording ended, as told to the server: status, msgid and its parameters."""

    status: str
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message.format(**self.params)


@dataclass(frozen=True)
class Recorded:
    """What a recorder leaves: how it ended, when its first picture came (None without
    one) and the seconds of program in its segments."""

    outcome: Outcome
    started_at: datetime | None = None
    duration_s: float = 0.0


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


async def record(
    assignment: Assignment, stop: asyncio.Event, close: Callable[[Recorded], Kept]
) -> Kept:
    """Records the program until `stop` is set. `close` keeps what was recorded (it runs in
    a worker thread) before the server is told how it ended; returns what `close` returns."""
    reporter = Reporter(assignment.server_url, assignment.key, assignment.recording_id)
    recorded = await _record_into(assignment, stop, reporter)
    kept = await asyncio.to_thread(close, recorded)
    await reporter.tell(recorded.outcome)
    return kept


async def _record_into(assignment: Assignment, stop: asyncio.Event, reporter: Reporter) -> Recorded:
    try:
        check_space(assignment.folder, assignment.minutes)
    except NotEnoughSpace as refused:
        return Recorded(Outcome("refused", refused.message, refused.params))
    lock = Lock(assignment.folder)
    try:
        lock.take()
    except BlockingIOError:
        return Recorded(Outcome("failed", LOCKED))
    try:
        return await _capture(assignment, stop, reporter)
    finally:
        lock.release()


async def _capture(assignment: Assignment, stop: asyncio.Event, reporter: Reporter) -> Recorded:
    loop = asyncio.get_running_loop()
    failed = asyncio.Event()
    folder = assignment.folder
    writer = SegmentWriter(
        folder / files.SEGMENTS,
        on_finished=lambda _: files.write_playlist(folder, writer.finished, ended=False),
    )
    thread = WriterThread(writer, lambda: loop.call_soon_threadsafe(failed.set))
    clock = Clock()
    thread.start()
    await reporter.tell(Outcome("recording"))
    ended = await _listen(assignment, clock, thread, stop, failed)
    segments = await asyncio.to_thread(thread.finish, clock.now() or 0.0)
    if thread.failure == "disk_full":
        ended = Outcome("disk_full", DISK_FULL)
    elif thread.failure:
        ended = Outcome("failed", FAILED)
    await asyncio.to_thread(_wrap_up, folder, segments)
    return Recorded(ended, clock.started_at, sum(segment.duration_s for segment in segments))


async def _listen(
    assignment: Assignment,
    clock: Clock,
    thread: WriterThread,
    stop: asyncio.Event,
    failed: asyncio.Event,
) -> Outcome:
    """Keeps a listener connected until told to stop; returns how listening ended."""

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
            await listener.open(assignment.server_url, assignment.key, assignment.meeting_id)
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


def _wrap_up(folder: Path, segments: list[Any]) -> None:
    """The final playlist, and the joined MP4 (after a full disk too, if there is room)."""
    files.write_playlist(folder, segments, ended=True)
    if segments:
        try:
            files.join(folder, segments)
        except OSError:
            log.exception("could not join the segments; the playlist still plays them")
