"""The meeting's recordings page: the list, the player and its chapters."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import meeting_permission
from server.house import House
from server.i18n import N_
from server.models import Recording
from server.recordings.api import PRESIDE, listing, recordings_of
from server.recordings.chapters import Chapter, clock, read_chapters
from server.recordings.state import folder_of
from server.settings import Settings

STATUS_NAMES = {
    "live": N_("Recording now"),
    "done": N_("Finished"),
    "interrupted": N_("Interrupted"),
}


def _size(size_bytes: int) -> str:
    if size_bytes >= 1 << 30:
        return f"{size_bytes / (1 << 30):.1f} GB"
    return f"{size_bytes / (1 << 20):.1f} MB"


def _page_row(settings: Settings, recording: Recording) -> dict[str, Any]:
    shown = listing(settings, recording)
    return {
        **shown,
        "recording": recording,
        "status_name": STATUS_NAMES[shown["status"]],
        "duration": clock(recording.duration_s),
        "size": _size(recording.size_bytes),
    }


@get("/meetings/{meeting_id:int}/recordings", guards=[meeting_permission], opt=PRESIDE)
async def recordings_page(
    request: Request,
    state: House,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    recording: FromQuery[int | None] = None,
) -> Template:
    """The meeting's recordings, and one of them (the newest with a video) in the player."""
    rows = [_page_row(state.settings, r) for r in await recordings_of(db, meeting_id)]
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


ROUTES = [recordings_page]
