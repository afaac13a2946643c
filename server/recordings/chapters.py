"""A recording's chapters: WebVTT written from the meeting journal, at offsets from the
recording's first frame, and read back for the player's list.

A chapter starts when the presented agenda item changes ("Mục 3: …"), when the floor is
given ("Phát biểu: …") and when a vote opens ("Biểu quyết: …"); the end of a turn or of a
vote goes back to the agenda item being discussed. Events before the recording started set
what is under way at its start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from recorder.files import CHAPTERS, replace_text
from server.meetings.rules import agenda_tree, flatten
from server.models import AgendaItem, JournalEvent, Recording

KINDS = ("page.presented", "speakers.changed", "vote.opened", "vote.closed")
_CUE = re.compile(r"^(\S+)\s+-->\s+(\S+)")
_STAMP = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$")


@dataclass(frozen=True)
class Chapter:
    start_s: float
    end_s: float
    title: str

    @property
    def clock(self) -> str:
        return clock(self.start_s)


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# ---------- from the journal


class _Story:
    """Walks the journal and keeps what the meeting is doing: the item, a turn, a vote."""

    def __init__(self, items: dict[int, str]) -> None:
        self.items = items  # agenda item id -> "Mục 2.1: title"
        self.topic: str | None = None  # the agenda item or document under discussion
        self.turn: str | None = None
        self.vote: str | None = None

    def title(self) -> str | None:
        return self.vote or self.turn or self.topic

    def take(self, event: JournalEvent) -> None:
        payload = event.payload
        if event.type == "page.presented":
            item = payload.get("item_id")
            self.topic = self.items.get(item) if item else f"Tài liệu: {payload.get('title', '')}"
        elif event.type == "speakers.changed":
            self._take_floor(payload)
        elif event.type == "vote.opened":
            self.vote = f"Biểu quyết: {payload.get('vote', {}).get('title', '')}"
        elif event.type == "vote.closed":
            self.vote = None

    def _take_floor(self, payload: dict[str, Any]) -> None:
        speaking = payload.get("speaking")  # every change carries who has the floor now
        self.turn = f"Phát biểu: {speaking['name']}" if speaking else None


def chapters_of(
    events: list[JournalEvent], items: dict[int, str], started: datetime, ended: datetime
) -> list[Chapter]:
    """Chapters for a recording from `started` to `ended`, from events in journal order."""
    story = _Story(items)
    marks: list[tuple[float, str | None]] = []
    length = (ended - started).total_seconds()
    for event in events:
        before = story.title()
        story.take(event)
        after = story.title()
        offset = max(0.0, (event.at - started).total_seconds())
        if after and after != before and offset < length:
            if marks and marks[-1][0] == offset:
                marks.pop()
            marks.append((offset, after))
        elif not after and marks and offset < length:
            marks.append((offset, None))
    chapters = []
    for index, (start, title) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else length
        if title and end > start:
            chapters.append(Chapter(start, end, title))
    return chapters


def webvtt(chapters: list[Chapter]) -> str:
    lines = ["WEBVTT", ""]
    for number, chapter in enumerate(chapters, start=1):
        lines += [str(number), f"{_stamp(chapter.start_s)} --> {_stamp(chapter.end_s)}"]
        lines += [chapter.title, ""]
    return "\n".join(lines)


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def agenda_titles(db: Session, meeting_id: int) -> dict[int, str]:
    """Each agenda item's chapter title, numbered as the agenda shows it."""
    items = db.exec(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    ).all()
    rows = flatten(agenda_tree(list(items)))
    return {row["item"].id: f"Mục {row['number']}: {row['item'].title}" for row in rows}


def write_chapters(db: Session, recording: Recording, folder: Path, ended: datetime) -> Path:
    """Writes `chapters.vtt` for `recording` from the journal (also for an interrupted one)."""
    events = db.exec(
        select(JournalEvent)
        .where(
            JournalEvent.meeting_id == recording.meeting_id,
            col(JournalEvent.type).in_(KINDS),
            col(JournalEvent.private_to).is_(None),
            JournalEvent.at <= ended,
        )
        .order_by(col(JournalEvent.seq))
    ).all()
    titles = agenda_titles(db, recording.meeting_id)
    chapters = chapters_of(list(events), titles, recording.started_at, ended)
    path = folder / CHAPTERS
    replace_text(path, webvtt(chapters))
    return path


# ---------- for the player


def read_chapters(text: str) -> list[Chapter]:
    """The cues of a WebVTT chapters file: where each starts and ends, and its title."""
    chapters = []
    for block in re.split(r"\r?\n\r?\n", text):
        lines = [line.strip() for line in block.strip().splitlines()]
        for index, line in enumerate(lines):
            cue = _CUE.match(line)
            start_s = _seconds(cue.group(1)) if cue else None
            if cue and start_s is not None:
                end_s = _seconds(cue.group(2))
                title = " ".join(lines[index + 1 :])
                chapters.append(Chapter(start_s, start_s if end_s is None else end_s, title))
                break
    return chapters


def _seconds(stamp: str) -> float | None:
    match = _STAMP.match(stamp)
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000
