"""Recordings of a meeting's conference program: the chair or secretary starts and stops the
recorder (or the session does, when PHONGHOP_RECORD_AUTOMATICALLY is set), the recorder
reports how it goes, and the secretary plays, downloads and, past the retention, prunes them.

The recorder is its own process (`phonghop recorder`, recorder/); this module starts it,
sends it SIGTERM to stop, and serves what it wrote under <data_dir>/<Recording.path>/.
An interrupted recording has segments but no MP4: it downloads as a ZIP of the segments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Stream, Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlmodel import Session as SyncSession
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import journal
from server.access import meeting_access, meeting_permission, recorder_only, signed_in
from server.byteranges import disposition, serve_file
from server.errors import AppError, forbidden, not_found
from server.i18n import DEFAULT_LANGUAGE, N_, translations
from server.models import Meeting, Recording, utcnow
from server.settings import Settings

log = logging.getLogger("phonghop")

PRESIDE = {"permission": "preside"}
STOP_WAIT_S = 60  # the recorder finishes its MP4 after SIGTERM; past this the route returns
REPORTED = ("recording", "done", "interrupted", "disk_full", "failed", "refused")
STATUS_NAMES = {
    "live": N_("Recording now"),
    "done": N_("Finished"),
    "interrupted": N_("Interrupted"),
}


# ---------- the recorder processes this server started


class Recorders:
    """One recorder process per meeting, as started by this server."""

    def __init__(self) -> None:
        self._processes: dict[int, subprocess.Popen[bytes]] = {}

    def running(self, meeting_id: int) -> subprocess.Popen[bytes] | None:
        process = self._processes.get(meeting_id)
        if process is not None and process.poll() is not None:  # ended on its own (disk full)
            del self._processes[meeting_id]
            return None
        return process

    def start(self, meeting_id: int, server_url: str, settings: Settings) -> None:
        command = recorder_command(meeting_id, server_url)
        env = {
            **os.environ,
            "PHONGHOP_DATA_DIR": str(settings.data_dir),
            "PHONGHOP_DATABASE_URL": settings.database_url,
            "PHONGHOP_RECORDER_KEY": settings.recorder_key,
        }
        log_path = recordings_dir(settings) / f"recorder-{meeting_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as out:
            self._processes[meeting_id] = subprocess.Popen(
                command, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )

    async def stop(self, meeting_id: int, wait_s: float = STOP_WAIT_S) -> bool:
        """SIGTERM, then wait; False when it is still finishing after `wait_s`."""
        process = self.running(meeting_id)
        if process is None:
            return True
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, wait_s)
        except subprocess.TimeoutExpired:
            return False
        self._processes.pop(meeting_id, None)
        return True

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(meeting_id) for meeting_id in list(self._processes)))


def recorder_command(meeting_id: int, server_url: str) -> list[str]:
    command = [sys.executable, "-m", "server.cli", "recorder"]
    return command + ["--meeting", str(meeting_id), "--server", server_url]


def recordings_dir(settings: Settings) -> Path:
    return settings.data_dir / "recordings"


def folder_of(settings: Settings, recording: Recording) -> Path:
    """The recording's directory, never outside the recordings directory."""
    root = recordings_dir(settings).resolve()
    folder = (settings.data_dir / recording.path).resolve()
    if not recording.path or not folder.is_relative_to(root):
        raise not_found("recording")
    return folder


def shown_status(settings: Settings, recording: Recording) -> str:
    """live, done or interrupted: a row still "recording" whose recorder has died is
    interrupted (the recorder's lock file says which)."""
    from recorder.state import status_of

    status = status_of(recording, settings.data_dir)
    return "live" if status == "recording" else status


def _server_url(request: Request) -> str:
    """This server as the recorder on the same machine reaches it: the listening address
    the request came in on, not the public name a proxy may put in front."""
    host, port = request.scope.get("server") or (None, None)
    settings: Settings = request.app.state.settings
    if not host or host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port or settings.port}"


def _check_space(settings: Settings) -> None:
    from recorder.space import NotEnoughSpace, check_space

    folder = recordings_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        check_space(folder, settings.recording_expected_minutes)
    except NotEnoughSpace as refused:
        raise AppError(507, "no_space", refused.message, **refused.params) from refused


async def _live_rows(state: State, meeting_id: int) -> list[Recording]:
    async with state.db_read() as db:
        rows = await db.exec(
            select(Recording).where(
                Recording.meeting_id == meeting_id, Recording.status == "recording"
            )
        )
        found = rows.all()
    return [r for r in found if shown_status(state.settings, r) == "live"]


async def start_recording(request: Request, meeting_id: int) -> None:
    state = request.app.state
    recorders: Recorders = state.recorders
    if recorders.running(meeting_id) or await _live_rows(state, meeting_id):
        raise AppError(409, "already_recording", "This meeting is already being recorded.")
    _check_space(state.settings)
    recorders.start(meeting_id, _server_url(request), state.settings)


async def _tell(state: State, meeting_id: int, payload: dict[str, Any]) -> None:
    """Journals a `recording.changed` and sends it to the meeting's consoles."""
    async with state.db() as db:
        event = await journal.append(db, meeting_id, "recording.changed", payload, None)
        await db.commit()
    state.hub.publish_event(event)


async def follow_session(request: Request, meeting_id: int, live: bool) -> None:
    """With PHONGHOP_RECORD_AUTOMATICALLY, a live meeting records and a closed one stops."""
    state = request.app.state
    if not state.settings.record_automatically:
        return
    if not live:
        await state.recorders.stop(meeting_id)
        return
    try:
        await start_recording(request, meeting_id)
    except AppError as refused:
        if refused.code == "already_recording":
            return
        # journaled once for every console: in the council's language
        message = translations(DEFAULT_LANGUAGE).gettext(refused.message).format(**refused.params)
        await _tell(
            state, meeting_id, {"recording_id": None, "status": "refused", "message": message}
        )


# ---------- routes the console uses


@post(
    "/api/meetings/{meeting_id:int}/recordings",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_202_ACCEPTED,
)
async def start(request: Request, meeting_id: int) -> dict[str, Any]:
    """Starts the recorder; it reports `recording.changed` once it records (or cannot)."""
    await start_recording(request, meeting_id)
    return {"status": "starting"}


@post("/api/meetings/{meeting_id:int}/recordings/stop", guards=[meeting_permission], opt=PRESIDE)
async def stop(request: Request, state: State, meeting_id: int) -> Response:
    if state.recorders.running(meeting_id) is None:
        raise AppError(409, "not_recording", "This meeting is not being recorded.")
    if await state.recorders.stop(meeting_id):
        return Response({"status": "stopped"}, status_code=HTTP_200_OK)
    return Response({"status": "stopping"}, status_code=HTTP_202_ACCEPTED)


@post(
    "/api/recorder/recordings/{recording_id:int}/status",
    guards=[recorder_only],
    status_code=HTTP_200_OK,
)
async def recorder_status(state: State, recording_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The recorder's word on how it goes; the console shows it (disk full, above all)."""
    status, message = data.get("status"), data.get("message", "")
    if status not in REPORTED or not isinstance(message, str) or len(message) > 1000:
        raise AppError(400, "bad_status", "The recorder's status is not valid.")
    async with state.db_read() as db:
        recording = await db.get(Recording, recording_id)
    if recording is None:
        raise not_found("recording")
    payload = {"recording_id": recording_id, "status": status, "message": message}
    await _tell(state, recording.meeting_id, payload)
    return {"ok": True}


def _listing(settings: Settings, recording: Recording) -> dict[str, Any]:
    base = f"/api/recordings/{recording.id}"
    status = shown_status(settings, recording)
    has_video = _video_path(settings, recording) is not None
    return {
        "id": recording.id,
        "meeting_id": recording.meeting_id,
        "status": status,
        "started_at": recording.started_at.isoformat(),
        "ended_at": recording.ended_at.isoformat() if recording.ended_at else None,
        "duration_s": recording.duration_s,
        "size_bytes": recording.size_bytes,
        "message": recording.message,
        "has_video": has_video,
        "links": {
            "video": f"{base}/video" if has_video else None,
            "chapters": f"{base}/chapters.vtt",
            "download": f"{base}/download" if status != "live" else None,
        },
    }


async def _recordings_of(db: AsyncSession, meeting_id: int) -> list[Recording]:
    rows = await db.exec(
        select(Recording)
        .where(Recording.meeting_id == meeting_id)
        .order_by(col(Recording.started_at).desc())
    )
    return list(rows.all())


@get("/api/meetings/{meeting_id:int}/recordings", guards=[meeting_permission], opt=PRESIDE)
async def list_recordings(state: State, db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    return [_listing(state.settings, r) for r in await _recordings_of(db, meeting_id)]


# ---------- playing and downloading


async def recording_permission(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: the caller presides the meeting of the recording in the path."""
    signed_in(connection, handler)
    async with connection.app.state.db_read() as db:
        recording = await db.get(Recording, int(connection.path_params["recording_id"]))
        if recording is None:
            raise not_found("recording")
        access = await meeting_access(db, connection.user, recording.meeting_id)
    if not access.can("preside"):
        raise forbidden()
    connection.state.recording = recording


def _video_path(settings: Settings, recording: Recording) -> Path | None:
    try:
        video = folder_of(settings, recording) / "recording.mp4"
    except AppError:
        return None
    return video if video.is_file() else None


def _file_name(recording: Recording, settings: Settings, suffix: str) -> str:
    when = recording.started_at.astimezone(settings.tz).strftime("%Y-%m-%d_%H%M")
    return f"phien-hop-{recording.meeting_id}_{when}_{recording.id}{suffix}"


@get("/api/recordings/{recording_id:int}/video", guards=[recording_permission])
async def video(request: Request, state: State, recording_id: int) -> Response:
    recording: Recording = request.state.recording
    path = _video_path(state.settings, recording)
    if path is None:
        raise AppError(
            409,
            "no_video",
            "This recording has no video file yet: it is still recording, or it was "
            "interrupted and can only be downloaded as segments.",
        )
    name = _file_name(recording, state.settings, ".mp4")
    return serve_file(request, path, "video/mp4", name)


@get("/api/recordings/{recording_id:int}/chapters.vtt", guards=[recording_permission])
async def chapters_vtt(request: Request, state: State, recording_id: int) -> Response:
    path = folder_of(state.settings, request.state.recording) / "chapters.vtt"
    text = path.read_text(encoding="utf-8") if path.is_file() else "WEBVTT\n"
    return Response(text, media_type="text/vtt; charset=utf-8")


@get("/api/recordings/{recording_id:int}/download", guards=[recording_permission])
async def download(request: Request, state: State, recording_id: int) -> Response:
    """The MP4; for an interrupted recording, a ZIP of its playlist, segments and chapters."""
    recording: Recording = request.state.recording
    if shown_status(state.settings, recording) == "live":
        raise AppError(409, "still_recording", "This recording is still going on.")
    path = _video_path(state.settings, recording)
    if path is not None:
        name = _file_name(recording, state.settings, ".mp4")
        return serve_file(request, path, "video/mp4", name, attachment=True)
    folder = folder_of(state.settings, recording)
    if not folder.is_dir():
        raise not_found("recording")
    name = _file_name(recording, state.settings, "_segments.zip")
    headers = {"Content-Disposition": disposition(name, attachment=True)}
    return Stream(_zipped(folder), media_type="application/zip", headers=headers)


class _Pipe:
    """A write-only file for zipfile whose bytes are taken out as they come."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zipped(folder: Path) -> Iterator[bytes]:
    """A stored (uncompressed: video does not shrink) ZIP of `folder`, streamed."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as dest:
                while chunk := source.read(256 * 1024):
                    dest.write(chunk)
                    yield pipe.take()
    yield pipe.take()


# ---------- the page


_CUE_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s+-->")


@dataclass(frozen=True)
class Chapter:
    start_s: float
    title: str

    @property
    def clock(self) -> str:
        return clock(self.start_s)


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def read_chapters(text: str) -> list[Chapter]:
    """The cues of a WebVTT chapters file: where each starts and its title."""
    chapters = []
    for block in re.split(r"\r?\n\r?\n", text):
        lines = [line.strip() for line in block.strip().splitlines()]
        for index, line in enumerate(lines):
            match = _CUE_TIME.match(line)
            if match:
                hours, minutes, seconds, millis = (int(g or 0) for g in match.groups())
                start_s = hours * 3600 + minutes * 60 + seconds + millis / 1000
                chapters.append(Chapter(start_s, " ".join(lines[index + 1 :])))
                break
    return chapters


def _size(size_bytes: int) -> str:
    if size_bytes >= 1 << 30:
        return f"{size_bytes / (1 << 30):.1f} GB"
    return f"{size_bytes / (1 << 20):.1f} MB"


def _page_row(settings: Settings, recording: Recording) -> dict[str, Any]:
    listing = _listing(settings, recording)
    return {
        **listing,
        "recording": recording,
        "status_name": STATUS_NAMES[listing["status"]],
        "duration": clock(recording.duration_s),
        "size": _size(recording.size_bytes),
    }


@get("/meetings/{meeting_id:int}/recordings", guards=[meeting_permission], opt=PRESIDE)
async def recordings_page(
    request: Request, state: State, db: AsyncSession, meeting_id: int, recording: int | None = None
) -> Template:
    """The meeting's recordings, and one of them (the newest with a video) in the player."""
    rows = [_page_row(state.settings, r) for r in await _recordings_of(db, meeting_id)]
    chosen = next((r for r in rows if r["id"] == recording), None)
    chosen = chosen or next((r for r in rows if r["has_video"]), None)
    chapters: list[Chapter] = []
    if chosen is not None:
        vtt = folder_of(state.settings, chosen["recording"]) / "chapters.vtt"
        chapters = read_chapters(vtt.read_text(encoding="utf-8")) if vtt.is_file() else []
    context = {
        "meeting": request.state.access.meeting,
        "rows": rows,
        "chosen": chosen,
        "chapters": chapters,
        "tz": state.settings.tz,
    }
    return Template("recordings.html", context=context)


# ---------- retention


@dataclass(frozen=True)
class Pruned:
    recording_id: int
    meeting_title: str
    started_at: Any
    size_bytes: int


def _bytes_in(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def prune(session: SyncSession, settings: Settings, dry_run: bool = False) -> list[Pruned]:
    """Removes recordings that started more than the retention ago (files, then rows);
    never one still recording. Nothing when the retention is 0 (keep forever)."""
    if settings.recording_retention_days <= 0:
        return []
    cutoff = utcnow() - timedelta(days=settings.recording_retention_days)
    rows = session.exec(
        select(Recording, Meeting)
        .join(Meeting, col(Meeting.id) == Recording.meeting_id)
        .where(col(Recording.started_at) < cutoff)
        .order_by(col(Recording.started_at))
    ).all()
    removed = []
    for recording, meeting in rows:
        if shown_status(settings, recording) == "live":
            continue
        try:
            folder: Path | None = folder_of(settings, recording)
        except AppError:
            folder = None
        on_disk = folder is not None and folder.is_dir()
        size = _bytes_in(folder) if on_disk else recording.size_bytes
        removed.append(Pruned(recording.id, meeting.title, recording.started_at, size))
        if dry_run:
            continue
        if on_disk:
            shutil.rmtree(folder)
        session.delete(recording)
        session.commit()
    return removed


ROUTES = [
    start,
    stop,
    recorder_status,
    list_recordings,
    video,
    chapters_vtt,
    download,
    recordings_page,
]
