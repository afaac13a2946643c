"""The Recording rows and the folders they name."""

from __future__ import annotations

from pathlib import Path

from litestar.datastructures import State
from sqlmodel import select

from server.errors import not_found
from server.models import Recording
from server.settings import Settings


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


async def live_rows(state: State, meeting_id: int) -> list[Recording]:
    async with state.db_read() as db:
        rows = await db.exec(
            select(Recording).where(
                Recording.meeting_id == meeting_id, Recording.status == "recording"
            )
        )
        found = rows.all()
    return [r for r in found if shown_status(state.settings, r) == "live"]
