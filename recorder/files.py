"""A recording's folder: its finished segments, the HLS playlist of them, the joined MP4.

`<data_dir>/recordings/<meeting_id>/<recording_id>/` holds `segments/00001.ts …` (a
`.part` file is the segment being written), `program.m3u8`, `recording.mp4` after a clean
stop, `chapters.vtt` and `recorder.lock` (held while a recorder writes here).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import av

from recorder.writer import Finished

SEGMENTS = "segments"
PLAYLIST = "program.m3u8"
JOINED = "recording.mp4"
CHAPTERS = "chapters.vtt"
LOCK = "recorder.lock"


def folder_of(data_dir: Path, meeting_id: int, recording_id: int) -> Path:
    return data_dir / "recordings" / str(meeting_id) / str(recording_id)


def finished_segments(folder: Path) -> list[Path]:
    """The complete segments, in order (the `.part` one being written is not among them)."""
    return sorted((folder / SEGMENTS).glob("*.ts"))


def segment_duration(path: Path) -> float:
    """The seconds of video in a segment, from its packets; 0 if it cannot be read."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            spans = [
                (packet.pts, packet.pts + (packet.duration or 0))
                for packet in container.demux(stream)
                if packet.pts is not None
            ]
    except (av.FFmpegError, IndexError):
        return 0.0
    if not spans:
        return 0.0
    first, last = min(start for start, _ in spans), max(end for _, end in spans)
    return float((last - first) * stream.time_base)


def write_playlist(folder: Path, segments: list[Finished], ended: bool) -> None:
    """`program.m3u8` listing `segments`, replaced atomically; `ended` closes the list."""
    longest = max((s.duration_s for s in segments), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(longest)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:" + ("VOD" if ended else "EVENT"),
    ]
    for segment in segments:
        lines += [f"#EXTINF:{segment.duration_s:.3f},", f"{SEGMENTS}/{segment.path.name}"]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    replace_text(folder / PLAYLIST, "\n".join(lines) + "\n")


def replace_text(path: Path, text: str) -> None:
    """Writes `text` to `path` so that a reader sees the old file or the new one, whole."""
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    part.replace(path)


def rescan(folder: Path) -> list[Finished]:
    """The finished segments as found on disk (after a crash), with their measured lengths."""
    found, start = [], 0.0
    for path in finished_segments(folder):
        duration = segment_duration(path)
        if duration > 0:
            found.append(Finished(path, start, duration))
            start += duration
    return found


def salvage(folder: Path) -> list[Finished]:
    """After a recorder died: the finished segments on disk, and the playlist closed over them."""
    segments = rescan(folder)
    write_playlist(folder, segments, ended=True)
    return segments


def join(folder: Path, segments: list[Finished]) -> Path:
    """Remuxes `segments` into one MP4 (no re-encoding), starting at zero."""
    target = folder / JOINED
    part = folder / (JOINED + ".part")
    with av.open(str(part), "w", format="mp4") as output:
        streams: dict[str, av.stream.Stream] = {}
        origin: float | None = None
        last_dts: dict[str, int] = {}
        for segment in segments:
            with av.open(str(segment.path)) as source:
                for stream in source.streams:
                    if stream.type not in streams:
                        streams[stream.type] = output.add_stream_from_template(stream)
                for packet in source.demux():
                    if packet.dts is None or packet.stream.type not in streams:
                        continue
                    if origin is None:
                        origin = float(packet.dts * packet.time_base)
                    shift = round(origin / packet.time_base)
                    packet.pts -= shift
                    packet.dts -= shift
                    kind = packet.stream.type
                    if packet.dts <= last_dts.get(kind, -1 << 62):
                        continue  # the next segment's AAC priming overlaps this one's end
                    last_dts[kind] = packet.dts
                    packet.stream = streams[kind]
                    output.mux(packet)
    part.replace(target)
    return target
