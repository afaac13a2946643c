"""Synthetic camera and microphone for tests, benchmarks and demos, cheap to send.

Both tracks return pre-encoded `av.Packet`s, so an aiortc sender only packetizes them
(`Encoder.pack`) and never runs an encoder. The packets are encoded once, as a loop, and the
loops are cached per process: many points of one colour share them.

`ColourVideo` is VP8 at 1280x720 or 160x90: a flat colour, or with `moving=True` drifting
stripes over a scrolling texture (the mean stays close to the colour) so that whoever decodes
and re-encodes it has real work. `ToneAudio` is a sine tone in 48 kHz stereo Opus. Both are
paced in real time like aiortc's own `VideoStreamTrack`, with pts on the RTP clocks.

The sender ignores keyframe requests for packets it did not encode; the loops carry a
keyframe at least every 15 frames and restart on one at each size switch instead.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.frame import PictureType

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
PACKET_SAMPLES = 960  # 20 ms of Opus
LOOP_S = 2.0
KEYFRAME_EVERY = 15
BITS_PER_PIXEL = 0.17  # about 600 kbit/s at 640x360 and 15 fps
MIN_BITRATE, MAX_BITRATE = 30_000, 1_500_000
TONE_LEVEL = 0.25  # peak, of full scale
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Quality:
    width: int
    height: int
    fps: int


FULL = Quality(1280, 720, 25)  # what the bridge asks of the program source
THUMB = Quality(160, 90, 5)


class Pacer:
    """Timestamps on a `rate` Hz clock that advance with real time.

    The first call answers 0 at once; each later one adds `step` and sleeps until then.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._start: float | None = None
        self._pts = 0

    async def next(self, step: int) -> int:
        if self._start is None:
            self._start = time.monotonic()
            return 0
        self._pts += step
        await asyncio.sleep(self._start + self._pts / self.rate - time.monotonic())
        return self._pts

    def catch_up(self) -> None:
        """After a pause: the next timestamp is due one step from now, not in a burst."""
        if self._start is not None:
            self._pts = max(self._pts, int((time.monotonic() - self._start) * self.rate))


def packet_of(data: bytes, pts: int, rate: int) -> av.Packet:
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = Fraction(1, rate)
    return packet


# --- video ----------------------------------------------------------------------------------


def picture(colour: Colour, moving: bool, quality: Quality, phase: float) -> np.ndarray:
    """One RGB frame; `phase` in [0, 1) is the position in the loop."""
    height, width = quality.height, quality.width
    frame = np.empty((height, width, 3), dtype=np.float32)
    frame[:] = colour
    if moving:
        frame += _stripes(width, height, phase)[..., None]
        frame += np.roll(_texture(width, height), round(phase * width), axis=1)[..., None]
    return np.clip(frame, 0, 255).astype(np.uint8)


def _stripes(width: int, height: int, phase: float) -> np.ndarray:
    """Diagonal stripes, two across the width, that drift one period per loop (mean 0)."""
    x = np.arange(width, dtype=np.float32)[None, :] / width
    y = np.arange(height, dtype=np.float32)[:, None] / height
    return 40 * np.sin(2 * np.pi * (2 * x + y - phase))


@functools.cache
def _texture(width: int, height: int) -> np.ndarray:
    """A fixed fine-grained pattern, so that motion search finds something to match."""
    return np.random.default_rng(width * height).normal(0, 10, (height, width)).astype(np.float32)


def _vp8_codec(quality: Quality) -> av.VideoCodecContext:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = quality.width, quality.height, "yuv420p"
    codec.time_base = Fraction(1, quality.fps)
    codec.framerate = Fraction(quality.fps)
    wanted = int(quality.width * quality.height * quality.fps * BITS_PER_PIXEL)
    bitrate = min(MAX_BITRATE, max(MIN_BITRATE, wanted))
    codec.bit_rate = bitrate
    codec.gop_size = KEYFRAME_EVERY
    codec.thread_count = 1
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    return codec


@functools.lru_cache(maxsize=256)
def vp8_loop(colour: Colour, moving: bool, quality: Quality) -> tuple[bytes, ...]:
    """LOOP_S seconds of VP8 frames; frame 0 and every KEYFRAME_EVERY-th are keyframes."""
    codec = _vp8_codec(quality)
    count = max(1, round(LOOP_S * quality.fps))
    encoded: list[bytes] = []
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(
            picture(colour, moving, quality, index / count), format="rgb24"
        ).reformat(format="yuv420p")
        frame.pts = index
        if index % KEYFRAME_EVERY == 0:
            frame.pict_type = PictureType.I
        encoded += [bytes(packet) for packet in codec.encode(frame)]
    encoded += [bytes(packet) for packet in codec.encode(None)]
    if len(encoded) != count:
        raise RuntimeError(f"libvpx gave {len(encoded)} packets for {count} frames")
    return tuple(encoded)


class ColourVideo(MediaStreamTrack):
    """A VP8 camera showing `colour`; `set_quality` switches its size and frame rate."""

    kind = "video"

    def __init__(self, colour: Colour, moving: bool = False) -> None:
        super().__init__()
        self.colour = tuple(colour)
        self.moving = moving
        self._quality = FULL
        self._index = 0
        self._pacer = Pacer(VIDEO_CLOCK)
        self._sending = asyncio.Event()
        self._sending.set()
        self._loops: dict[Quality, tuple[bytes, ...]] = {}

    async def prepare(self) -> None:
        """Encodes the sizes a point is asked for (the program's and the thumbnail) before it
        sends, in a worker thread: seconds of encoding on the event loop would stall every
        connection sharing it, past the ICE consent checks' patience."""
        for quality in (FULL, THUMB):
            await self._frames(quality)

    async def _frames(self, quality: Quality) -> tuple[bytes, ...]:
        frames = self._loops.get(quality)
        if frames is None:
            frames = await asyncio.to_thread(vp8_loop, self.colour, self.moving, quality)
            self._loops[quality] = frames
        return frames

    @property
    def quality(self) -> Quality:
        return self._quality

    @property
    def paused(self) -> bool:
        return not self._sending.is_set()

    def set_quality(self, width: int, height: int, fps: int) -> None:
        """From the next frame on; a size not prepared is encoded first, in a worker thread."""
        quality = Quality(width, height, fps)
        if quality == self._quality:
            return
        self._quality = quality
        self._index = 0  # a keyframe

    def pause(self) -> None:
        """Sends nothing until `resume` (audio only)."""
        self._sending.clear()

    def resume(self) -> None:
        if self.paused:
            self._pacer.catch_up()
            self._index = 0
            self._sending.set()

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        await self._sending.wait()
        quality = self._quality
        pts = await self._pacer.next(VIDEO_CLOCK // quality.fps)
        frames = await self._frames(quality)
        data = frames[self._index % len(frames)]
        self._index += 1
        return packet_of(data, pts, VIDEO_CLOCK)


# --- audio ----------------------------------------------------------------------------------


def tone_loop_packets(frequency_hz: float) -> int:
    """The fewest 20 ms packets (at most one second) holding a whole number of periods."""
    per_second = AUDIO_RATE // PACKET_SAMPLES
    for count in range(1, per_second + 1):
        periods = count * PACKET_SAMPLES * frequency_hz / AUDIO_RATE
        if math.isclose(periods, round(periods), abs_tol=1e-6):
            return count
    return per_second  # a fractional frequency: a click once a second


def _opus_codec() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate = 64_000
    codec.format = "s16"
    codec.layout = "stereo"
    codec.sample_rate = AUDIO_RATE
    codec.time_base = Fraction(1, AUDIO_RATE)
    codec.options = {"application": "audio"}
    return codec


@functools.lru_cache(maxsize=256)
def opus_loop(frequency_hz: float) -> tuple[bytes, ...]:
    """Opus packets of a tone that can be played round and round.

    The tone is encoded twice over and the second pass kept, so the encoder's state where
    the loop starts is the one it has where the loop ends.
    """
    count = tone_loop_packets(frequency_hz)
    samples = np.arange(2 * count * PACKET_SAMPLES) / AUDIO_RATE
    tone = (TONE_LEVEL * 32767 * np.sin(2 * np.pi * frequency_hz * samples)).astype(np.int16)
    stereo = np.repeat(tone, 2).reshape(-1, 2 * PACKET_SAMPLES)
    codec = _opus_codec()
    encoded: list[bytes] = []
    for index, chunk in enumerate(stereo):
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="s16", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = index * PACKET_SAMPLES
        encoded += [bytes(packet) for packet in codec.encode(frame)]
    if len(encoded) < count:
        raise RuntimeError(f"libopus gave {len(encoded)} packets for {2 * count} frames")
    return tuple(encoded[-count:])


class ToneAudio(MediaStreamTrack):
    """An Opus microphone playing a steady sine tone of `frequency_hz`."""

    kind = "audio"

    def __init__(self, frequency_hz: float) -> None:
        super().__init__()
        self.frequency_hz = frequency_hz
        self._packets = opus_loop(frequency_hz)
        self._index = 0
        self._pacer = Pacer(AUDIO_RATE)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next(PACKET_SAMPLES)
        data = self._packets[self._index % len(self._packets)]
        self._index += 1
        return packet_of(data, pts, AUDIO_RATE)
