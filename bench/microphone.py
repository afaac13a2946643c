"""A microphone as a browser's, for tests and benchmarks: raw 20 ms frames that aiortc
encodes itself, so that each packet carries its audio level in the RTP header (RFC 6464),
as Chromium's do. (`synthetic.ToneAudio` sends pre-encoded Opus, which carries none.)

Quiet room noise (about -70 dBFS) until `talk()`, then a sine tone at -15 dBFS.
`cheap_levels()` gives aiortc a numpy level meter, the same result as its per-sample
Python loop, for a process that runs many of these.
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
from aiortc import rtp
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.conference.synthetic import AUDIO_RATE, PACKET_SAMPLES, TONE_LEVEL, Pacer

ROOM_NOISE = 10  # sample RMS: a quiet room after a browser's noise suppression
QUIETEST_DBOV = -127


class Microphone(MediaStreamTrack):
    kind = "audio"

    def __init__(self, tone_hz: float, talking: bool = False) -> None:
        super().__init__()
        self.tone_hz = tone_hz
        self.talking = talking
        self._pacer = Pacer(AUDIO_RATE)
        self._noise = np.random.default_rng(int(tone_hz))

    def talk(self, on: bool = True) -> None:
        self.talking = on

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next(PACKET_SAMPLES)
        if self.talking:
            at = (pts + np.arange(PACKET_SAMPLES)) / AUDIO_RATE
            sound = TONE_LEVEL * 32767 * np.sin(2 * np.pi * self.tone_hz * at)
        else:
            sound = self._noise.normal(0, ROOM_NOISE, PACKET_SAMPLES)
        samples = sound.astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, pts, Fraction(1, AUDIO_RATE)
        return frame


def _level_dbov(frame: av.AudioFrame) -> int:
    samples = np.frombuffer(bytes(frame.planes[0]), np.int16).astype(np.float64)
    rms = math.sqrt(float(np.sum(samples * samples)) / (frame.samples * 32767 * 32767))
    if rms <= 0:
        return QUIETEST_DBOV
    return round(min(0.0, max(float(QUIETEST_DBOV), 20 * math.log10(rms))))


def cheap_levels() -> None:
    """aiortc's senders compute levels with `rtp.compute_audio_level_dbov`: same answer."""
    rtp.compute_audio_level_dbov = _level_dbov
