"""Whether the disk can hold a recording of the expected length, asked before it starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from recorder import N_

VIDEO_BITRATE = 1_000_000  # H.264 of the 640x360 program; x264 stays under it (maxrate)
AUDIO_BITRATE = 96_000
OVERHEAD = 1.10  # MPEG-TS framing, then the joined MP4 made from the segments
MIB = 1024 * 1024


class NotEnoughSpace(Exception):
    """The disk cannot hold the recording; `message` is an English msgid with `params`."""

    def __init__(self, needed_bytes: int, free_bytes: int, minutes: int) -> None:
        self.message = N_(
            "Not enough disk space to record {minutes} minutes: {needed} MiB needed, "
            "{free} MiB free."
        )
        self.params = {
            "minutes": minutes,
            "needed": needed_bytes // MIB,
            "free": free_bytes // MIB,
        }
        super().__init__(self.message.format(**self.params))


def bytes_for(minutes: float) -> int:
    """Disk used by `minutes` of program: the segments, and the MP4 joined from them at the end."""
    per_second = (VIDEO_BITRATE + AUDIO_BITRATE) / 8 * OVERHEAD
    return int(per_second * 60 * minutes * 2)


def check_space(directory: Path, minutes: int) -> None:
    """Raises NotEnoughSpace unless the disk holding `directory` has room for `minutes`."""
    probe = Path(directory)
    while not probe.exists():  # the recording's folder may not be made yet
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    needed = bytes_for(minutes)
    if free < needed:
        raise NotEnoughSpace(needed, free, minutes)
