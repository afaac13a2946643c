"""The program video: the chosen point's picture, encoded once per level for every point.

There are three levels, from the most a line must carry to the least: HD (1280x720 at 25
frames a second), SD (640x360) and slides (the page the chair presents, as a still picture
once a second; the program picture when nothing is presented). Each point's sender gets the
VP8 packets of its level and only packetizes them. An encoder runs only while some point is
at its level. All levels share one 90 kHz clock, so a point moved to another level goes on
at its next keyframe without a jump. A new point, a dropped packet or a keyframe request
asks the encoder of that point's level for a keyframe.

With `naive=True` (the benchmark's anchor) every point's sender gets raw HD frames instead and
runs its own encoder, as aiortc's MediaRelay fan-out does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from av.video.frame import PictureType, VideoFrame

from server.conference.downlink import HD, PICTURE_BPS, SD, SLIDES
from server.conference.pacing import Paced
from server.conference.tracks import QueueTrack

WIDTH, HEIGHT, FPS = 1280, 720, 25  # what the source is asked to send, and HD
TIME_BASE = Fraction(1, FPS)
QUEUE_PACKETS = 60  # a few frames; a point further behind skips to the next keyframe
KEYFRAME_GAP_S = 0.5  # keyframes are big: however many points ask, at most two a second


@dataclass(frozen=True)
class Size:
    width: int
    height: int
    every: int  # a picture every this many ticks of the FPS clock
    bitrate: int


SIZES = {
    HD: Size(WIDTH, HEIGHT, 1, PICTURE_BPS[HD]),
    SD: Size(640, 360, 1, PICTURE_BPS[SD]),
    # a page is still: after its keyframe the pictures only sharpen it, in few bits
    SLIDES: Size(WIDTH, HEIGHT, FPS, PICTURE_BPS[SLIDES]),
}


@dataclass
class Level:
    name: str
    size: Size
    codec: av.VideoCodecContext | None = None
    keyframe: bool = True
    keyframe_at: float = 0.0
    behind: set[QueueTrack] = field(default_factory=set)  # these wait for a keyframe

    def take_keyframe(self, now: float) -> bool:
        if not self.keyframe or now - self.keyframe_at < KEYFRAME_GAP_S:
            return False
        self.keyframe, self.keyframe_at = False, now
        return True


def _blank(width: int, height: int) -> VideoFrame:
    grey = np.full((height, width, 3), 32, dtype=np.uint8)
    return VideoFrame.from_ndarray(grey, format="rgb24").reformat(format="yuv420p")


def _vp8_encoder(size: Size) -> av.VideoCodecContext:
    fps = FPS // size.every
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = size.width, size.height, "yuv420p"
    codec.time_base, codec.framerate = Fraction(1, fps), Fraction(fps)
    codec.bit_rate = size.bitrate
    codec.gop_size = fps * 10  # a keyframe at least every 10 s even if nobody asks
    codec.thread_count = 1
    codec.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "error-resilient": "1",
        "minrate": str(size.bitrate),
        "maxrate": str(size.bitrate),
        "bufsize": str(size.bitrate),
    }
    return codec


class ProgramVideo:
    def __init__(self, naive: bool = False) -> None:
        self.source: Callable[[], VideoFrame | None] = lambda: None
        self.slide: VideoFrame | None = None  # the page the chair presents, for weak lines
        self.naive = naive
        self.levels = {name: Level(name, size) for name, size in SIZES.items()}
        self._level_of: dict[QueueTrack, Level] = {}
        self._paused: set[QueueTrack] = set()
        self._pace = Paced(1 / FPS, self._next_picture, "program picture")
        self._blank = _blank(WIDTH, HEIGHT)
        self._frames = QueueTrack("video", 2) if naive else None
        self._relay = MediaRelay() if naive else None

    def subscribe(self, level: str = HD) -> MediaStreamTrack:
        if self._relay is not None and self._frames is not None:
            return self._relay.subscribe(self._frames)  # this point's sender encodes its own
        track = QueueTrack("video", QUEUE_PACKETS)
        self._join(track, self.levels[level])
        return track

    def unsubscribe(self, track: MediaStreamTrack) -> None:
        level = self._level_of.pop(track, None)  # type: ignore[call-overload]
        if level is not None:
            level.behind.discard(track)  # type: ignore[arg-type]
        self._paused.discard(track)  # type: ignore[arg-type]
        track.stop()

    def level_of(self, track: MediaStreamTrack) -> str | None:
        level = self._level_of.get(track)  # type: ignore[call-overload]
        return level.name if level is not None else None

    def set_level(self, track: MediaStreamTrack, name: str) -> None:
        """The point goes on at the new level's next keyframe."""
        before = self._level_of.get(track)  # type: ignore[call-overload]
        if before is None or before.name == name:
            return
        before.behind.discard(track)  # type: ignore[arg-type]
        self._join(track, self.levels[name])  # type: ignore[arg-type]

    def pause(self, track: MediaStreamTrack, paused: bool) -> None:
        """An audio-only point gets no program video until it asks again."""
        if paused:
            self._paused.add(track)  # type: ignore[arg-type]
        elif track in self._paused:
            self._paused.discard(track)  # type: ignore[arg-type]
            self._join(track, self._level_of[track])  # type: ignore[index, arg-type]

    def request_keyframe(self, track: MediaStreamTrack | None = None) -> None:
        """From one point's level, or (no track: a new source) from every level."""
        level = self._level_of.get(track) if track is not None else None  # type: ignore[call-overload]
        for asked in [level] if level is not None else self.levels.values():
            asked.keyframe = True

    def start(self) -> None:
        self._pace.start()

    async def stop(self) -> None:
        await self._pace.stop()
        for track in list(self._level_of):
            self.unsubscribe(track)
        if self._frames is not None:
            self._frames.stop()

    def _join(self, track: QueueTrack, level: Level) -> None:
        self._level_of[track] = level
        level.behind.add(track)
        level.keyframe = True

    def _watched(self) -> list[Level]:
        """The levels due on this tick that some point receives."""
        tick = self._pace.tick
        watched = {level.name for t, level in self._level_of.items() if t not in self._paused}
        return [
            level
            for level in self.levels.values()
            if level.name in watched and tick % level.size.every == 0
        ]

    async def _next_picture(self) -> None:
        frame = self.source()
        if self._frames is not None:
            self._frames.put(await asyncio.to_thread(self._picture, frame, SIZES[HD], False))
            return
        due = self._watched()
        if not due:
            return
        now = time.monotonic()
        work = [(level, level.take_keyframe(now)) for level in due]
        slide = self.slide if self.slide is not None else frame
        encoded = await asyncio.to_thread(self._encode_all, frame, slide, work)
        for level, packets in encoded:
            self._send(level, packets)

    def _encode_all(
        self, frame: VideoFrame | None, slide: VideoFrame | None, work: list[tuple[Level, bool]]
    ) -> list[tuple[Level, list[av.Packet]]]:
        return [
            (level, self._encode(level, slide if level.name == SLIDES else frame, keyframe))
            for level, keyframe in work
        ]

    def _picture(self, frame: VideoFrame | None, size: Size, keyframe: bool) -> VideoFrame:
        picture = (frame or self._blank).reformat(size.width, size.height, "yuv420p")
        if picture is self._blank:  # shared by every level and tick
            picture = VideoFrame.from_ndarray(picture.to_ndarray(), format="yuv420p")
        picture.pts, picture.time_base = self._pace.tick // size.every, Fraction(size.every, FPS)
        picture.pict_type = PictureType.I if keyframe else PictureType.NONE
        return picture

    def _encode(self, level: Level, frame: VideoFrame | None, keyframe: bool) -> list[av.Packet]:
        if level.codec is None:
            level.codec, keyframe = _vp8_encoder(level.size), True
        packets = level.codec.encode(self._picture(frame, level.size, keyframe))
        for packet in packets:  # one clock for every level
            packet.pts, packet.time_base = self._pace.tick, TIME_BASE
        return packets

    def _send(self, level: Level, packets: list[av.Packet]) -> None:
        """A frame goes whole to every point of its level with room for it. A point without
        room skips frames until the next keyframe, as a frame with a packet missing would not
        decode."""
        keyframe = any(packet.is_keyframe for packet in packets)
        for track, its_level in self._level_of.items():
            if its_level is not level or track in self._paused:
                continue
            if track in level.behind and not keyframe:
                continue
            if track.room() < len(packets):
                level.behind.add(track)
                level.keyframe = True
                continue
            level.behind.discard(track)
            for packet in packets:
                track.put(packet)
            track.frames_sent += 1
