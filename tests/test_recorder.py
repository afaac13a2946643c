"""The recorder: a real recording of a synthetic program, a recorder killed mid-way, the
disk filling up, the space check and the chapters from the journal."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from sqlmodel import select

from recorder import files, run, space
from recorder.lock import Lock
from recorder.writer import DiskFull, SegmentWriter
from server.models import AgendaItem, JournalEvent, Meeting, Recording
from server.recordings.chapters import write_chapters
from server.recordings.standalone import record
from server.recordings.state import recover, status_of
from tests.live import Tablet
from tests.points import Point, conference_meeting, mean_rgb
from tests.test_conference import COLOURS, GREEN, RED, TONES, user_id

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def meeting(accounts, database):
    return conference_meeting(accounts, database, ("hall", "phuong1"))


def colour_at(path: Path, seconds: float) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return mean_rgb(frame)
    raise AssertionError(f"no picture at {seconds} s")


def lengths(path: Path) -> dict[str, float]:
    """Seconds of each stream, from the packets."""
    spans: dict[str, list[float]] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is None:
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            span = spans.setdefault(packet.stream.type, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
    return {kind: end - start for kind, (start, end) in spans.items()}


def near(colour, expected, tolerance=25):
    return max(abs(a - b) for a, b in zip(colour, expected, strict=True)) <= tolerance


async def test_ten_seconds_of_program_with_a_switch(served, meeting, database, settings):
    hall = await Point(served.url, "hall", meeting, COLOURS["hall"], TONES["hall"]).join()
    ward = await Point(served.url, "phuong1", meeting, COLOURS["phuong1"], TONES["phuong1"]).join()
    await ward.wait_for_colour(RED)
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(meeting)
    await chair.answer(await chair.send("hello", since=None), within=30)
    stop = asyncio.Event()
    task = asyncio.ensure_future(record(settings, meeting, stop, served.url, minutes=1))
    await asyncio.sleep(5.5)
    assert (await chair.request("rtc.pick", point=user_id(database, "phuong1")))["type"] == "ack"
    picked = datetime.now(UTC)
    await asyncio.sleep(5)
    stopped = datetime.now(UTC)
    stop.set()
    recording = await asyncio.wait_for(task, 30)
    assert recording.status == "done", recording.message
    joined = settings.data_dir / recording.path / files.JOINED
    got = lengths(joined)
    # On a busy machine the first frame and the pick come late: the file holds what happened
    # from its first frame to the stop, with the switch where it happened.
    window = (stopped - recording.started_at).total_seconds()
    switch = (picked - recording.started_at).total_seconds()
    assert 9.5 <= window and switch >= 1, (window, switch)
    assert abs(got["video"] - window) <= 0.5 and abs(got["audio"] - window) <= 0.5, (got, window)
    assert abs(recording.duration_s - window) <= 0.5
    red_at = max(switch - 1.5, switch / 2)
    assert near(colour_at(joined, red_at), RED), colour_at(joined, red_at)
    assert near(colour_at(joined, switch + 2.5), GREEN), colour_at(joined, switch + 2.5)
    playlist = (settings.data_dir / recording.path / files.PLAYLIST).read_text()
    assert playlist.count(".ts") == 3 and "#EXT-X-ENDLIST" in playlist
    await asyncio.gather(hall.leave(), ward.leave())
    await chair.close()


async def test_a_disk_that_fills_stops_the_recording_cleanly_and_tells_the_console(
    served, meeting, database, settings, monkeypatch
):
    hall = await Point(served.url, "hall", meeting, COLOURS["hall"], TONES["hall"]).join()
    stop = asyncio.Event()
    task = asyncio.ensure_future(record(settings, meeting, stop, served.url, minutes=1))
    folder = None
    async with asyncio.timeout(20):  # until one segment is finished and the next is begun
        while folder is None or not files.finished_segments(folder):
            await asyncio.sleep(0.2)
            rows = database.exec(select(Recording).where(Recording.meeting_id == meeting))
            row = rows.first()
            folder = settings.data_dir / row.path if row is not None else None
            database.expire_all()
    await asyncio.sleep(1)

    def full(self, packets):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(av.container.OutputContainer, "mux", full)
    recording = await asyncio.wait_for(task, 30)  # it stops by itself
    monkeypatch.undo()
    assert recording.status == "done" and "disk is full" in recording.message
    kept = files.finished_segments(folder)  # the disk stays full: no room to join them
    assert kept and all(abs(lengths(segment)["video"] - 4) < 0.2 for segment in kept)
    assert "#EXT-X-ENDLIST" in (folder / files.PLAYLIST).read_text()
    database.rollback()  # a fresh read, not the snapshot the polling above began
    told = database.exec(select(JournalEvent).where(JournalEvent.type == "recording.changed"))
    assert "disk_full" in [event.payload["status"] for event in told.all()]
    await hall.leave()


async def test_a_killed_recorder_leaves_playable_segments_and_an_interrupted_recording(
    served, meeting, database, settings
):
    hall = await Point(served.url, "hall", meeting, COLOURS["hall"], TONES["hall"]).join()
    env = {**os.environ, "PHONGHOP_DATA_DIR": str(settings.data_dir), "PHONGHOP_LOG_LEVEL": "INFO"}
    command = [sys.executable, "-m", "server.cli", "recorder", "--meeting", str(meeting)]
    child = await asyncio.create_subprocess_exec(
        *command, "--server", served.url, env=env, cwd=ROOT
    )
    try:
        folder = await _until_segments(settings.data_dir, meeting, 2, child)
        assert status_of(_only_recording(database), settings.data_dir) == "recording"
        child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), 10)
    finally:
        if child.returncode is None:
            child.kill()
    row = _only_recording(database)
    assert row.status == "recording"
    assert status_of(row, settings.data_dir) == "interrupted"
    assert [r.id for r in recover(database, settings.data_dir)] == [row.id]
    database.refresh(row)
    assert row.status == "interrupted" and row.duration_s >= 8
    segments = files.finished_segments(folder)
    for segment in segments:
        got = lengths(segment)
        assert abs(got["video"] - 4) < 0.1 and abs(got["audio"] - 4) < 0.1, (segment, got)
        assert near(colour_at(segment, got["video"] / 2 + _start(segment)), RED)
    playlist = (folder / files.PLAYLIST).read_text()
    assert [line for line in playlist.splitlines() if line.endswith(".ts")] == [
        f"{files.SEGMENTS}/{s.name}" for s in segments
    ]
    await hall.leave()


def _start(segment: Path) -> float:
    with av.open(str(segment)) as container:
        return float(container.streams.video[0].start_time * container.streams.video[0].time_base)


async def _until_segments(data_dir: Path, meeting_id: int, count: int, child) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert child.returncode is None, "the recorder stopped"
        for folder in (data_dir / "recordings" / str(meeting_id)).glob("*"):
            if len(files.finished_segments(folder)) >= count:
                return folder
        await asyncio.sleep(0.2)
    raise AssertionError("no segments written")


def _only_recording(database) -> Recording:
    database.expire_all()
    return database.exec(select(Recording)).one()


# --- the writer on a full disk -----------------------------------------------------------


def _feed(writer: SegmentWriter, seconds: float, colour=(200, 30, 30)) -> None:
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[:] = colour
    tone = (np.sin(np.arange(960) * 2 * np.pi * 440 / 48000) * 8000).astype(np.int16)
    for tick in range(round(seconds * 15)):
        writer.video(av.VideoFrame.from_ndarray(picture, format="rgb24"), tick / 15)
        for part in range(3):
            sound = av.AudioFrame.from_ndarray(
                np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo"
            )
            sound.sample_rate = 48000
            at = (tick * 3 + part + 1) * 0.02 + tick * (1 / 15 - 0.06)
            writer.audio(sound, at)


def test_a_full_disk_keeps_the_finished_segments(tmp_path, monkeypatch):
    writer = SegmentWriter(tmp_path / "segments")
    _feed(writer, 5.5)
    assert len(writer.finished) == 1
    real_mux = av.container.OutputContainer.mux

    def full(self, packets):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(av.container.OutputContainer, "mux", full)
    with pytest.raises(DiskFull):
        _feed(writer, 9)
    writer.abandon()
    monkeypatch.setattr(av.container.OutputContainer, "mux", real_mux)
    assert [p.name for p in files.finished_segments(tmp_path)] == ["00001.ts"]
    assert not list((tmp_path / "segments").glob("*.part"))
    joined = files.join(tmp_path, writer.finished)
    assert abs(lengths(joined)["video"] - 4) < 0.1


def test_the_space_check_refuses_with_what_is_needed_and_free(tmp_path, monkeypatch):
    space.check_space(tmp_path / "not" / "yet", 1)
    usage = type("Usage", (), {"free": 100 * space.MIB, "total": 0, "used": 0})
    monkeypatch.setattr(space.shutil, "disk_usage", lambda _: usage)
    with pytest.raises(space.NotEnoughSpace) as refused:
        space.check_space(tmp_path, 240)
    assert refused.value.params["free"] == 100
    assert refused.value.params["needed"] > 100 and "240 minutes" in str(refused.value)


# --- the recorder alone: plain values in, what it recorded handed to `close` ------------


def _assignment(folder: Path, minutes: int = 1) -> run.Assignment:
    nobody = "http://127.0.0.1:9"  # no server: the recorder only logs that nobody heard
    return run.Assignment(3, 7, folder, nobody, "key", minutes)


async def test_a_recorder_without_room_is_refused_and_hands_the_refusal_to_close(
    tmp_path, monkeypatch
):
    usage = type("Usage", (), {"free": 100 * space.MIB, "total": 0, "used": 0})
    monkeypatch.setattr(space.shutil, "disk_usage", lambda _: usage)
    kept = await run.record(_assignment(tmp_path / "7", 240), asyncio.Event(), lambda r: r)
    assert kept.outcome.status == "refused" and "240 minutes" in kept.outcome.text
    assert kept.started_at is None and kept.duration_s == 0
    assert not (tmp_path / "7").exists()


async def test_a_second_recorder_in_a_taken_folder_fails_and_writes_nothing(tmp_path):
    first = Lock(tmp_path)
    first.take()
    try:
        kept = await run.record(_assignment(tmp_path), asyncio.Event(), lambda r: r)
    finally:
        first.release()
    assert kept.outcome.status == "failed" and kept.outcome.message == run.LOCKED
    assert not (tmp_path / files.SEGMENTS).exists()


# --- chapters ------------------------------------------------------------------------------


def test_chapters_follow_the_journal_during_the_recording(meeting, database, settings):
    start = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    one = AgendaItem(meeting_id=meeting, position=0, title="Khai mạc")
    two = AgendaItem(meeting_id=meeting, position=1, title="Báo cáo ngân sách")
    database.add_all([one, two])
    database.commit()
    speaking = {"name": "Nguyễn Văn A", "user_id": 1}
    happened = [
        (-60, "page.presented", {"item_id": one.id, "title": "Chương trình", "page": 1}),
        (30, "page.presented", {"item_id": two.id, "title": "Báo cáo", "page": 1}),
        (40, "page.presented", {"item_id": two.id, "title": "Báo cáo", "page": 2}),
        (50, "speakers.changed", {"why": "given", "speaking": speaking, "waiting": []}),
        (80, "speakers.changed", {"why": "ended", "speaking": None, "waiting": []}),
        (90, "vote.opened", {"vote": {"title": "Thông qua ngân sách"}}),
        (100, "vote.closed", {"vote": {"title": "Thông qua ngân sách"}}),
        (500, "page.presented", {"item_id": one.id, "title": "Sau khi dừng ghi", "page": 1}),
    ]
    for seq, (offset, kind, payload) in enumerate(happened, start=1):
        at = start + timedelta(seconds=offset)
        database.add(JournalEvent(meeting_id=meeting, seq=seq, type=kind, payload=payload, at=at))
    database.commit()
    recording = Recording(meeting_id=meeting, started_at=start, path="r")
    vtt = write_chapters(database, recording, settings.data_dir, start + timedelta(seconds=120))
    assert vtt.read_text().strip().split("\n\n")[1:] == [
        "1\n00:00:00.000 --> 00:00:30.000\nMục 1: Khai mạc",
        "2\n00:00:30.000 --> 00:00:50.000\nMục 2: Báo cáo ngân sách",
        "3\n00:00:50.000 --> 00:01:20.000\nPhát biểu: Nguyễn Văn A",
        "4\n00:01:20.000 --> 00:01:30.000\nMục 2: Báo cáo ngân sách",
        "5\n00:01:30.000 --> 00:01:40.000\nBiểu quyết: Thông qua ngân sách",
        "6\n00:01:40.000 --> 00:02:00.000\nMục 2: Báo cáo ngân sách",
    ]
    assert database.get(Meeting, meeting) is not None
