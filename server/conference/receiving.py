"""A cheaper hand-over of decoded frames from aiortc's decoder threads to the event loop.

aiortc runs one decoder thread per received track and hands every decoded frame to the
loop with `run_coroutine_threadsafe(queue.put(frame))`: a coroutine, a task and a
thread-safe future per frame. With 40 points sending sound in 20 ms packets that is 2,000
a second and most of the loop's time (py-spy, bench/bridge.py). The track's queue is
unbounded, so `put` never waits: one `call_soon_threadsafe(queue.put_nowait, frame)` does
the same work. `install()` swaps aiortc's worker for this one (same arguments, same
behaviour otherwise) for the receivers made afterwards. Borrowed from aiortc 1.16, which
pyproject.toml pins: tests/test_aiortc_fence.py fails when aiortc's worker or its caller change.

The worker also refuses pictures larger than 1280x720: a VP8 keyframe says its size in its
first ten bytes, so a point sending 4K costs nothing to decode; its frames are dropped
until a keyframe of an allowed size comes.

`HeardOnly` stands in front of an audio receiver's jitter buffer (aiortc's private
attribute, fenced the same way) and passes on only the packets of a point that the mixer
wants to hear, judged by the audio level in their RTP header: the others are never
decoded. Packets without a level go through, to be decoded and metered as before.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCPeerConnection, rtcrtpreceiver
from aiortc.codecs import get_decoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket

log = logging.getLogger("phonghop.conference")

MAX_WIDTH, MAX_HEIGHT = 1280, 720
VP8_START_CODE = b"\x9d\x01\x2a"
# How RTCRtpReceiver makes an audio jitter buffer, and where it keeps it (aiortc 1.16).
AUDIO_CAPACITY, AUDIO_PREFETCH = 16, 4
JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"


def decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    codec_name, decoder, size_limit = None, None, SizeLimit()
    while (task := input_q.get()) is not None:
        codec, encoded_frame = task
        if size_limit.refuses(codec.name, encoded_frame.data):
            continue
        if decoder is None or codec.name != codec_name:
            decoder, codec_name = get_decoder(codec), codec.name
        try:
            frames = decoder.decode(encoded_frame)
        except av.FFmpegError as exc:  # the decoder is kept: the next keyframe heals it
            log.debug("could not decode a %s frame: %s", codec.name, exc)
            decode_error.set()
            continue
        for frame in frames:
            if not _hand_over(loop, output_q, frame):
                return
    _hand_over(loop, output_q, None)  # the track has ended


def _hand_over(loop: asyncio.AbstractEventLoop, output_q: asyncio.Queue[Any], item: Any) -> bool:
    try:
        loop.call_soon_threadsafe(output_q.put_nowait, item)
    except RuntimeError:  # the loop is closed: the server is stopping
        return False
    return True


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """A VP8 keyframe's width and height (RFC 6386, 9.1); None for any other frame."""
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != VP8_START_CODE:
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    return width, int.from_bytes(frame[8:10], "little") & 0x3FFF


class SizeLimit:
    """One received video's guard against pictures larger than MAX_WIDTH x MAX_HEIGHT."""

    def __init__(self) -> None:
        self.refused = 0
        self._refusing = False
        self._told = False

    def refuses(self, codec_name: str, frame: bytes) -> bool:
        if codec_name != "VP8":
            return False
        size = vp8_keyframe_size(frame)
        if size is not None:
            self._refusing = size[0] > MAX_WIDTH or size[1] > MAX_HEIGHT
            if self._refusing and not self._told:
                self._told = True
                log.warning("a point sends %dx%d pictures: not decoded until smaller", *size)
        self.refused += self._refusing
        return self._refusing


class HeardOnly:
    """An audio receiver's jitter buffer that only takes the packets `hears` wants
    decoded, given each packet's RTP audio level (0 loudest .. 127 silent)."""

    def __init__(self, buffer: JitterBuffer, hears: Callable[[int], bool]) -> None:
        self._buffer = buffer
        self._hears = hears
        self._skipped = False

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        level = packet.extensions.audio_level
        if level is not None and not self._hears(level[1]):
            self._skipped = True
            return False, None
        if self._skipped:  # the gap would stall aiortc's buffer until it overflows
            self._buffer = JitterBuffer(capacity=AUDIO_CAPACITY, prefetch=AUDIO_PREFETCH)
            self._skipped = False
        return self._buffer.add(packet)


def decode_when_heard(
    pc: RTCPeerConnection, track: MediaStreamTrack, hears: Callable[[int], bool]
) -> None:
    """Puts `HeardOnly` in front of the jitter buffer of the receiver of `track`, if it is
    sound. Called on the peer connection's "track" event, before any packet arrives."""
    if track.kind != "audio":
        return
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if receiver.track is track:
            setattr(receiver, JITTER_BUFFER, HeardOnly(getattr(receiver, JITTER_BUFFER), hears))


def install() -> None:
    rtcrtpreceiver.decoder_worker = decoder_worker
