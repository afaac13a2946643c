"""A recording's chapters as the player lists them, read from its `chapters.vtt`."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
