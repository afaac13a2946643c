"""The recordings' routes: the console starts and stops the recorder and lists what it
made, the recorder reports how it goes, and the secretary plays and downloads. An
interrupted recording has segments but no MP4: it downloads as a ZIP of the segments."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypedDict

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import openapi
from server.access import meeting_access, meeting_permission, recorder_only, signed_in
from server.byteranges import disposition, serve_file
from server.errors import AppError, forbidden, not_found
from server.house import House, house_of
from server.models import Recording
from server.recordings.recorders import start_recording, tell
from server.recordings.state import folder_of, shown_status
from server.settings import Settings

PRESIDE = {"permission": "preside"}
REPORTED = ("recording", "done", "interrupted", "disk_full", "failed", "refused")


# ---------- routes the console uses


class Links(TypedDict):
    video: str | None
    chapters: str
    download: str | None


class RecordingOut(TypedDict):
    id: int | None
    meeting_id: int
    status: str
    started_at: str
    ended_at: str | None
    duration_s: float
    size_bytes: int
    message: str
    has_video: bool
    links: Links


class Starting(TypedDict):
    status: Literal["starting"]


class Stopping(TypedDict):
    status: Literal["stopped", "stopping"]


class Done(TypedDict):
    ok: bool


@post(
    "/api/meetings/{meeting_id:int}/recordings",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_202_ACCEPTED,
)
async def start(request: Request, meeting_id: FromPath[int]) -> Starting:
    """Starts the recorder; it reports `recording.changed` once it records (or cannot)."""
    await start_recording(request, meeting_id)
    return {"status": "starting"}


@post(
    "/api/meetings/{meeting_id:int}/recordings/stop",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_200_OK,  # or 202 while the recorder finishes the file
    responses={202: ResponseSpec(Stopping, description="The recorder is finishing the file.")},
)
async def stop(request: Request, state: House, meeting_id: FromPath[int]) -> Response[Stopping]:
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
async def recorder_status(
    state: House, recording_id: FromPath[int], data: JSONBody[dict[str, Any]]
) -> Done:
    """The recorder's word on how it goes; the console shows it (disk full, above all)."""
    status, message = data.get("status"), data.get("message", "")
    if status not in REPORTED or not isinstance(message, str) or len(message) > 1000:
        raise AppError(400, "bad_status", "The recorder's status is not valid.")
    async with state.db_read() as db:
        recording = await db.get(Recording, recording_id)
    if recording is None:
        raise not_found("recording")
    payload = {"recording_id": recording_id, "status": status, "message": message}
    await tell(state, recording.meeting_id, payload)
    return {"ok": True}


def listing(settings: Settings, recording: Recording) -> RecordingOut:
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


async def recordings_of(db: AsyncSession, meeting_id: int) -> list[Recording]:
    rows = await db.exec(
        select(Recording)
        .where(Recording.meeting_id == meeting_id)
        .order_by(col(Recording.started_at).desc())
    )
    return list(rows.all())


@get("/api/meetings/{meeting_id:int}/recordings", guards=[meeting_permission], opt=PRESIDE)
async def list_recordings(
    state: House, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> list[RecordingOut]:
    return [listing(state.settings, r) for r in await recordings_of(db, meeting_id)]


# ---------- playing and downloading


async def recording_permission(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: the caller presides the meeting of the recording in the path."""
    signed_in(connection, handler)
    async with house_of(connection).db_read() as db:
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


@get(
    "/api/recordings/{recording_id:int}/video",
    guards=[recording_permission],
    responses=openapi.MP4,
)
async def video(request: Request, state: House, recording_id: FromPath[int]) -> Response:
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


@get(
    "/api/recordings/{recording_id:int}/chapters.vtt",
    guards=[recording_permission],
    responses=openapi.VTT,
)
async def chapters_vtt(request: Request, state: House, recording_id: FromPath[int]) -> Response:
    path = folder_of(state.settings, request.state.recording) / "chapters.vtt"
    text = path.read_text(encoding="utf-8") if path.is_file() else "WEBVTT\n"
    return Response(text, media_type="text/vtt; charset=utf-8")


@get(
    "/api/recordings/{recording_id:int}/download",
    guards=[recording_permission],
    responses=openapi.VIDEO_OR_ZIP,
)
async def download(request: Request, state: House, recording_id: FromPath[int]) -> Response:
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
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            with path.open("rb") as source, archive.open(name, "w", force_zip64=True) as dest:
                while chunk := source.read(256 * 1024):
                    dest.write(chunk)
                    yield pipe.take()
    yield pipe.take()


ROUTES = [start, stop, recorder_status, list_recordings, video, chapters_vtt, download]
