"""Recordings past the retention (PHONGHOP_RECORDING_RETENTION_DAYS), removed by
`phonghop recordings prune`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from server.errors import AppError
from server.models import Meeting, Recording, utcnow
from server.recordings.state import folder_of, shown_status
from server.settings import Settings


@dataclass(frozen=True)
class Pruned:
    recording_id: int
    meeting_title: str
    started_at: Any
    size_bytes: int


def _bytes_in(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def prune(session: Session, settings: Settings, dry_run: bool = False) -> list[Pruned]:
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
        if folder is not None and not folder.is_dir():
            folder = None
        size = _bytes_in(folder) if folder is not None else recording.size_bytes
        removed.append(Pruned(recording.id, meeting.title, recording.started_at, size))
        if dry_run:
            continue
        if folder is not None:
            shutil.rmtree(folder)
        session.delete(recording)
        session.commit()
    return removed
