"""iCalendar (RFC 5545) text for meeting feeds, written by hand: no dependency, no I/O.

`feed` takes plain `Event`s and returns the VCALENDAR text with CRLF line ends, each text
value escaped (backslash, semicolon, comma, newline) and each line folded at 75 octets of
UTF-8 without splitting a character.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRODID = "-//phonghop//calendar//VI"
LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    sequence: int = 0
    last_modified: datetime | None = None
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (3.1): continuation lines start with a space,
    which counts toward their 75; a multi-byte character is never split."""
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # the leading space counts
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def feed(name: str, events: Iterable[Event], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp(event.last_modified or now)}",
            f"DTSTART:{stamp(event.starts_at)}",
            f"DTEND:{stamp(event.ends_at)}",
            f"SEQUENCE:{event.sequence}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{escape(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.last_modified:
            lines.append(f"LAST-MODIFIED:{stamp(event.last_modified)}")
        lines += [f"STATUS:{event.status}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


DEFAULT_LENGTH = timedelta(hours=4)
