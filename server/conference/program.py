"""The program video: the chosen point's picture, encoded once for every point.

Each point's sender gets the same VP8 packets and only packetizes them. A new point, a
dropped packet or a keyframe request from any point asks this one encoder for a keyframe.
With `naive=True` (the benchmark's anchor) every point's sender gets raw frames instead and
runs its own encoder, as aiortc's MediaRelay fan-out does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from av.video.frame import PictureType, VideoFrame

from server.conference.pacing import Paced
from server.conference.tracks import QueueTrack

WIDTH, HEIGHT, FPS = 640, 360, 15
TIME_BASE = Fraction(1, FPS)
BITRATE = 600_000  # a talking head at 640x360; fewer packets for every point to send
QUEUE_PACKETS = 60  # a few frames; a point further behind skips to the next keyframe
KEYFRAME_GAP_S = 0.5  # keyframes are big: however many points ask, at most two a second


def _blank() -> VideoFrame:
    grey = np.full((HEIGHT, WIDTH, 3), 32, dtype=np.uint8)
    return VideoFrame.from_ndarray(grey, format="rgb24").reformat(format="yuv420p")


def _vp8_encoder() -> av.VideoCodecContext:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base, codec.framerate = TIME_BASE, Fraction(FPS)
    codec.bit_rate = BITRATE
    codec.gop_size = FPS * 10  # a keyframe at least every 10 s even if nobody asks
    codec.thread_count = 1
    codec.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "error-resilient": "1",
        "minrate": str(BITRATE),
        "maxrate": str(BITRATE),
        "bufsize": str(BITRATE),
    }
    return codec


class ProgramVideo:
    def __init__(self, naive: bool = False) -> None:
        self.source: Callable[[], VideoFrame | None] = lambda: None
        self.slide: VideoFrame | None = None  # the page the chair presents, for weak lines
        self.naive = naive
        self._subscribers: set[QueueTrack] = set()
        self._paused: set[QueueTrack] = set()
        self._behind: set[QueueTrack] = set()  # these wait for a keyframe to go on
        self._keyframe = True
        self._keyframe_at = 0.0
        self._pace = Paced(1 / FPS, self._next_picture, "program picture")
        self._blank = _blank()
        self._codec = None if naive else _vp8_encoder()
        self._frames = QueueTrack("video", 2) if naive else None
        self._relay = MediaRelay() if naive else None

    def subscribe(self) -> MediaStreamTrack:
        if self._relay is not None and self._frames is not None:
            return self._relay.subscribe(self._frames)  # this point's sender encodes its own
        track = QueueTrack("video", QUEUE_PACKETS)
        self._subscribers.add(track)
        self._behind.add(track)
        self.request_keyframe()
        return track

    def unsubscribe(self, track: MediaStreamTrack) -> None:
        for kept in (self._subscribers, self._paused, self._behind):
            kept.discard(track)  # type: ignore[arg-type]
        track.stop()

    def pause(self, track: MediaStreamTrack, paused: bool) -> None:
        """An audio-only point gets no program video until it asks again."""
        if paused:
            self._paused.add(track)  # type: ignore[arg-type]
        elif track in self._paused:
            self._paused.discard(track)  # type: ignore[arg-type]
            self._behind.add(track)  # type: ignore[arg-type]
            self.request_keyframe()

    def request_keyframe(self) -> None:
        self._keyframe = True

    def start(self) -> None:
        self._pace.start()

    async def stop(self) -> None:
        await self._pace.stop()
        for track in list(self._subscribers):
            self.unsubscribe(track)
        if self._frames is not None:
            self._frames.stop()

    async def _next_picture(self) -> None:
        frame = self.source()
        if self._frames is not None:
            self._frames.put(await asyncio.to_thread(self._picture, frame, False))
        else:
            now = time.monotonic()
            keyframe = self._keyframe and now - self._keyframe_at >= KEYFRAME_GAP_S
            if keyframe:
                self._keyframe, self._keyframe_at = False, now
            self._send(await asyncio.to_thread(self._encode, frame, keyframe))

    def _picture(self, frame: VideoFrame | None, keyframe: bool) -> VideoFrame:
        picture = frame.reformat(WIDTH, HEIGHT, "yuv420p") if frame is not None else self._blank
        if picture is frame:  # the source frame itself; leave it as it was given
            picture = VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
        picture.pts, picture.time_base = self._pace.tick, TIME_BASE
        picture.pict_type = PictureType.I if keyframe else PictureType.NONE
        return picture

    def _encode(self, frame: VideoFrame | None, keyframe: bool) -> list[av.Packet]:
        assert self._codec is not None
        packets = self._codec.encode(self._picture(frame, keyframe))
        for packet in packets:
            packet.pts, packet.time_base = self._pace.tick, TIME_BASE
        return packets

    def _send(self, packets: list[av.Packet]) -> None:
        """A frame goes whole to every point with room for it. A point without room skips
        frames until the next keyframe, as a frame with a packet missing would not decode."""
        keyframe = any(packet.is_keyframe for packet in packets)
        for track in self._subscribers - self._paused:
            if track in self._behind and not keyframe:
                continue
            if track.room() < len(packets):
                self._behind.add(track)
                self.request_keyframe()
                continue
            self._behind.discard(track)
            for packet in packets:
                track.put(packet)
            track.frames_sent += 1
