"""Recordings: start and stop from the console (a stand-in recorder keeps the recorder's
contract), disk-space refusal, the recorder's status route, playing with Range, downloading,
and pruning past the retention."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from server import cli
from server.byteranges import wanted_range
from server.models import JournalEvent, Meeting, Recording
from server.recordings import recorders
from server.recordings.chapters import Chapter, read_chapters
from tests.fake_recorder import CHAPTERS, tiny_mp4
from tests.live import Tablet


@pytest.fixture
def council(accounts, database):
    body = accounts.body()
    meeting = Meeting(body_id=body.id, title="Kỳ họp thứ 12", starts_at=datetime.now(UTC))
    database.add(meeting)
    database.commit()
    accounts.join(accounts.user("chutoa"), meeting.id, "chair")
    accounts.join(accounts.user("thuky", "secretary"), meeting.id, "secretary")
    accounts.join(accounts.user("daibieu"), meeting.id, "delegate")
    return meeting.id


@pytest.fixture
def fake_recorder(monkeypatch):
    def command(meeting_id: int, server_url: str) -> list[str]:
        script = [sys.executable, "-m", "tests.fake_recorder"]
        return script + ["--meeting", str(meeting_id), "--server", server_url]

    monkeypatch.setattr(recorders, "recorder_command", command)
    monkeypatch.setenv("PYTHONPATH", os.getcwd())


def made(database, settings, meeting_id, *, days_ago=0, status="done", video=True):
    """A recording on disk as the recorder leaves it."""
    started = datetime.now(UTC) - timedelta(days=days_ago)
    recording = Recording(meeting_id=meeting_id, status=status, started_at=started)
    database.add(recording)
    database.commit()
    recording.path = f"recordings/{meeting_id}/{recording.id}"
    folder = settings.data_dir / recording.path
    (folder / "segments").mkdir(parents=True)
    (folder / "segments" / "00000.ts").write_bytes(b"\x47" * 188 * 10)
    (folder / "program.m3u8").write_text("#EXTM3U\n")
    (folder / "chapters.vtt").write_text(CHAPTERS, encoding="utf-8")
    if video:
        tiny_mp4(folder / "recording.mp4")
    recording.duration_s, recording.size_bytes = 2.0, 1880
    database.add(recording)
    database.commit()
    return recording


async def chair_of(served, meeting_id, username="chutoa"):
    tablet = await (await Tablet(served, username).sign_in()).connect(meeting_id)
    await tablet.answer(await tablet.send("hello", since=None), within=30)
    return tablet


async def post(tablet, url):
    return await tablet.http.post(url, headers={"X-CSRFToken": tablet.http.cookies["csrftoken"]})


def changed(status):
    return lambda m: m.get("type") == "recording.changed" and m.get("status") == status


async def test_start_stop_play_and_download(served, council, fake_recorder):
    chair = await chair_of(served, council)
    try:
        started = await post(chair, f"/api/meetings/{council}/recordings")
        assert started.status_code == 202, started.text
        event = await chair.until(changed("recording"), within=30)
        again = await post(chair, f"/api/meetings/{council}/recordings")
        assert again.status_code == 409 and again.json()["code"] == "already_recording"
        listed = (await chair.http.get(f"/api/meetings/{council}/recordings")).json()
        assert [r["status"] for r in listed] == ["live"]

        stopped = await post(chair, f"/api/meetings/{council}/recordings/stop")
        assert stopped.status_code == 200, stopped.text
        await chair.until(changed("done"), within=30)
        assert (await post(chair, f"/api/meetings/{council}/recordings/stop")).status_code == 409

        (row,) = (await chair.http.get(f"/api/meetings/{council}/recordings")).json()
        assert row["id"] == event["recording_id"] and row["status"] == "done"
        assert row["has_video"] and row["duration_s"] == 2.0

        whole = await chair.http.get(row["links"]["video"])
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
        part = await chair.http.get(row["links"]["video"], headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200]
        size = len(whole.content)
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        tail = await chair.http.get(row["links"]["video"], headers={"Range": "bytes=-10"})
        assert tail.content == whole.content[-10:]
        past = await chair.http.get(row["links"]["video"], headers={"Range": f"bytes={size}-"})
        assert past.status_code == 416

        vtt = await chair.http.get(row["links"]["chapters"])
        assert vtt.headers["content-type"].startswith("text/vtt") and "Khai mạc" in vtt.text
        download = await chair.http.get(row["links"]["download"])
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.content == whole.content
    finally:
        await chair.close()


async def test_a_full_disk_reaches_the_console(served, council, fake_recorder, monkeypatch):
    monkeypatch.setenv("FAKE_RECORDER", "disk_full")
    chair = await chair_of(served, council, "thuky")
    try:
        assert (await post(chair, f"/api/meetings/{council}/recordings")).status_code == 202
        event = await chair.until(changed("disk_full"), within=30)
        assert event["message"] == "Ổ đĩa đã đầy sau 12 phút ghi."
    finally:
        await chair.close()


class TestAutomatically:
    @pytest.fixture
    def settings(self, settings):
        return replace(settings, record_automatically=True)

    async def test_the_session_starts_and_stops_recording(self, served, council, fake_recorder):
        chair = await chair_of(served, council)
        try:
            started = await post(chair, f"/api/meetings/{council}/session/start")
            assert started.status_code == 200
            await chair.until(changed("recording"), within=30)
            assert (await post(chair, f"/api/meetings/{council}/session/end")).status_code == 200
            await chair.until(changed("done"), within=30)
        finally:
            await chair.close()

    async def test_a_refusal_is_told_to_the_console(self, served, settings, council, monkeypatch):
        monkeypatch.setattr(recorders, "recordings_dir", lambda _: settings.data_dir / "r")
        monkeypatch.setattr("recorder.space.bytes_for", lambda minutes: 1 << 60)
        chair = await chair_of(served, council)
        try:
            assert (await post(chair, f"/api/meetings/{council}/session/start")).status_code == 200
            event = await chair.until(changed("refused"))
            assert event["recording_id"] is None and "MiB" in event["message"]
        finally:
            await chair.close()


class TestSmallDisk:
    @pytest.fixture
    def settings(self, settings):
        return replace(settings, recording_expected_minutes=10**9)

    async def test_start_is_refused_with_a_clear_message(self, client, council):
        await client.login("thuky")
        refused = await client.post(f"/api/meetings/{council}/recordings")
        assert refused.status_code == 507
        body = refused.json()
        assert body["code"] == "no_space"
        assert "MiB" in body["message"] and "1000000000" in body["message"]


async def test_only_the_chair_and_secretary_control_recording(client, council):
    await client.login("daibieu")
    assert (await client.post(f"/api/meetings/{council}/recordings")).status_code == 403
    assert (await client.get(f"/api/meetings/{council}/recordings")).status_code == 403
    assert (await client.get(f"/meetings/{council}/recordings")).status_code == 403


async def test_the_status_route_wants_the_recorder_key(client, settings, database, council):
    recording = made(database, settings, council)
    url = f"/api/recorder/recordings/{recording.id}/status"
    body = {"status": "disk_full", "message": "Ổ đĩa đầy"}
    assert (await client.raw.post(url, json=body)).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    assert (await client.raw.post(url, json=body, headers=wrong)).status_code == 401
    key = {"Authorization": f"Bearer {settings.recorder_key}"}
    bad = await client.raw.post(url, json={"status": "sleeping"}, headers=key)
    assert bad.status_code == 400
    missing = "/api/recorder/recordings/999/status"
    assert (await client.raw.post(missing, json=body, headers=key)).status_code == 404
    assert (await client.raw.post(url, json=body, headers=key)).status_code == 200
    database.expire_all()
    event = database.exec(
        select(JournalEvent).where(JournalEvent.type == "recording.changed")
    ).one()
    assert event.payload == {"recording_id": recording.id, **body}


async def test_an_interrupted_recording_downloads_as_segments(client, settings, database, council):
    recording = made(database, settings, council, status="recording", video=False)
    await client.login("thuky")
    (row,) = (await client.get(f"/api/meetings/{council}/recordings")).json()
    assert row["status"] == "interrupted" and row["links"]["video"] is None
    refused = await client.get(f"/api/recordings/{recording.id}/video")
    assert refused.status_code == 409 and refused.json()["code"] == "no_video"
    download = await client.get(row["links"]["download"])
    assert download.status_code == 200
    assert download.headers["content-disposition"].endswith("_segments.zip")
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert sorted(names) == ["chapters.vtt", "program.m3u8", "segments/00000.ts"]


async def test_the_page_lists_recordings_with_their_status(client, settings, database, council):
    made(database, settings, council)
    made(database, settings, council, status="recording", video=False)
    await client.login("thuky")
    page = await client.get(f"/meetings/{council}/recordings")
    assert page.status_code == 200
    assert "Đã xong" in page.text and "Bị gián đoạn" in page.text
    assert "Khai mạc kỳ họp" in page.text and 'kind="chapters"' in page.text


def test_prune_removes_what_is_past_the_retention(settings, database, council, monkeypatch, capsys):
    old = made(database, settings, council, days_ago=40)
    recent = made(database, settings, council, days_ago=5)
    monkeypatch.setenv("PHONGHOP_RECORDING_RETENTION_DAYS", "30")

    assert cli.main(["recordings", "prune", "--dry-run"]) == 0
    assert f"would remove recording {old.id} of «Kỳ họp thứ 12»" in capsys.readouterr().out
    assert (settings.data_dir / old.path).exists()

    assert cli.main(["recordings", "prune"]) == 0
    out = capsys.readouterr().out
    assert f"removed recording {old.id}" in out and f"recording {recent.id}" not in out
    assert "1 recordings older than 30 days; freed" in out
    assert not (settings.data_dir / old.path).exists()
    assert (settings.data_dir / recent.path).exists()
    database.expire_all()
    assert [r.id for r in database.exec(select(Recording)).all()] == [recent.id]


def test_prune_keeps_everything_without_a_retention(settings, database, council, capsys):
    made(database, settings, council, days_ago=4000)
    assert cli.main(["recordings", "prune"]) == 0
    assert "kept forever" in capsys.readouterr().out
    assert len(database.exec(select(Recording)).all()) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-", (0, 999)),
        ("bytes=10-19", (10, 19)),
        ("bytes=990-5000", (990, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
    ],
)
def test_wanted_range(header, expected):
    assert wanted_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=20-10", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(ValueError):
        wanted_range(header, 1000)


def test_the_player_lists_the_chapters_it_can_read_and_skips_broken_cues():
    text = (
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:30.000\nMục 1: Khai mạc\n\n"
        "2\nnot a time --> 00:01:00.000\nHỏng\n\n"
        "01:02.500 --> 01:05.000 align:start\nPhát biểu: Nguyễn Văn A\n\n"
        "1:00:00.000 --> 1:00:09.000\r\nBiểu quyết:\r\nThông qua ngân sách\n"
    )
    assert read_chapters(text) == [
        Chapter(0.0, 30.0, "Mục 1: Khai mạc"),
        Chapter(62.5, 65.0, "Phát biểu: Nguyễn Văn A"),
        Chapter(3600.0, 3609.0, "Biểu quyết: Thông qua ngân sách"),
    ]
    assert read_chapters(text)[2].clock == "1:00:00"
    assert read_chapters("") == [] and read_chapters("WEBVTT\n") == []
