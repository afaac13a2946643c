"""The audio mix: every point hears the current talkers, and no talker hears itself.

Every 60 ms the few loudest points (the talkers) are summed into one common mix, encoded
once for everyone who is not talking. Each talker gets the common mix minus its own voice,
encoded for it alone. So the work grows with the number of talkers, not with the points.

How loud a point is comes from the audio level its packets carry in their RTP header
(RFC 6464; browsers and aiortc send it), so a point is decoded only while it talks or is
loud enough to become a talker (`hears`, called by receiving.HeardOnly for every packet).
A point whose packets carry no level is decoded all the time and metered on its sound.

The mixes carry Opus in-band FEC: a packet of speech also holds the previous one again at a
lower rate (LBRR), so a receiver that lost a packet plays it from the next one. libopus adds
it only in SILK and hybrid modes, and a 60 ms hybrid packet is three 20 ms frames of which
a receiver recovers only one, so the mixes are SILK: mono wideband speech (up to 8 kHz).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from av.audio.frame import AudioFrame

from server.conference.pacing import Paced
from server.conference.tracks import QueueTrack

SAMPLE_RATE = 48_000
SAMPLES = 2880  # 60 ms: a third of the packets of 20 ms frames, for a little more delay
TIME_BASE = Fraction(1, SAMPLE_RATE)
MAX_TALKERS = 4
TALKING_LEVEL = 0.25  # on the 0..1 meter below, about -45 dBFS
MAX_BUFFERED = SAMPLES * 4  # 240 ms; older sound is dropped rather than delayed
QUEUE_PACKETS = 10
HANG_OVER_S = 0.3  # a point is still decoded this long after its last loud packet
MIX_BITRATE = 32_000
MIX_BANDWIDTH_HZ = 8000  # wideband: libopus stays in SILK mode, whose 60 ms frames carry FEC
EXPECTED_LOSS = 10  # percent: how much of the bitrate libopus gives to FEC


def _opus_encoder() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.format, codec.layout = SAMPLE_RATE, "s16", "mono"
    codec.bit_rate = MIX_BITRATE
    codec.time_base = TIME_BASE
    codec.options = {
        "application": "voip",
        "frame_duration": str(SAMPLES * 1000 // SAMPLE_RATE),
        "cutoff": str(MIX_BANDWIDTH_HZ),
        "fec": "1",
        "packet_loss": str(EXPECTED_LOSS),
    }
    return codec


def meter(samples: np.ndarray) -> float:
    """Loudness on 0..1: -60 dBFS or quieter is 0, full scale is 1."""
    rms = math.sqrt(float(np.mean(np.square(samples, dtype=np.float64)))) / 32768
    if rms <= 1e-6:
        return 0.0
    return min(1.0, max(0.0, 1 + 20 * math.log10(rms) / 60))


def loudness(below_overload: int) -> float:
    """An RTP header's audio level (0 loudest .. 127 silent, in -dBov) on the meter's scale."""
    return min(1.0, max(0.0, 1 - below_overload / 60))


@dataclass
class Voice:
    """One point's sound: what it sent, how loud it is, and its outgoing mix."""

    out: QueueTrack = field(default_factory=lambda: QueueTrack("audio", QUEUE_PACKETS))
    buffered: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    level: float = 0.0
    muted: bool = False
    own_mix: av.AudioCodecContext | None = None  # while it is a talker
    decoded: int = 0  # frames decoded and fed
    heard: float | None = None  # loudest RTP header level since the last tick; None: none yet
    loud_until: float = 0.0  # decoded until then, as a candidate talker

    def feed(self, frame: AudioFrame) -> None:
        """Takes a decoded frame as aiortc's Opus decoder gives it: packed 16-bit, 48 kHz."""
        self.decoded += 1
        channels = frame.to_ndarray().reshape(-1, len(frame.layout.channels))
        samples = channels.mean(axis=1).astype(np.int16)  # the mixes are mono
        self.buffered = np.concatenate((self.buffered, samples))[-MAX_BUFFERED:]

    def loudness_now(self, samples: np.ndarray | None) -> float:
        """This tick's loudness: from the RTP headers if the point sends levels, else metered."""
        if self.heard is not None:
            now, self.heard = self.heard, 0.0
            return now
        return meter(samples) if samples is not None else 0.0

    def take(self) -> np.ndarray | None:
        if len(self.buffered) < SAMPLES:
            return None
        taken, self.buffered = self.buffered[:SAMPLES], self.buffered[SAMPLES:]
        return taken


class AudioMixer:
    def __init__(self) -> None:
        self.voices: dict[int, Voice] = {}
        self.talkers: list[int] = []
        self._common = _opus_encoder()
        self._program: set[QueueTrack] = set()
        self._pace = Paced(SAMPLES / SAMPLE_RATE, self._mix_once, "mixing")

    def add(self, point: int, muted: bool = False) -> QueueTrack:
        self.voices[point] = voice = Voice(muted=muted)
        return voice.out

    def remove(self, point: int) -> None:
        voice = self.voices.pop(point, None)
        if voice is not None:
            voice.out.stop()

    def subscribe(self) -> QueueTrack:
        """The program sound (all talkers), for a listener that is not a point."""
        track = QueueTrack("audio", QUEUE_PACKETS)
        self._program.add(track)
        return track

    def unsubscribe(self, track: QueueTrack) -> None:
        self._program.discard(track)
        track.stop()

    def feed(self, point: int, frame: AudioFrame) -> None:
        voice = self.voices.get(point)
        if voice is not None:
            voice.feed(frame)

    def hears(self, point: int, below_overload: int) -> bool:
        """Takes the audio level of one of `point`'s packets (from its RTP header); answers
        whether to decode the packet: the point is a talker, or loud enough to become one,
        or was so less than HANG_OVER_S ago."""
        voice = self.voices.get(point)
        if voice is None:
            return False
        loud = loudness(below_overload)
        voice.heard = max(voice.heard or 0.0, loud)
        if voice.muted:
            return False
        now = time.monotonic()
        if loud >= TALKING_LEVEL and self._could_talk(loud):
            voice.loud_until = now + HANG_OVER_S
        return now < voice.loud_until or point in self.talkers

    def hearing(self, point: int) -> Callable[[int], bool]:
        """`hears` for one point, for its audio receiver."""
        return functools.partial(self.hears, point)

    def _could_talk(self, loud: float) -> bool:
        if len(self.talkers) < MAX_TALKERS:
            return True
        return any(loud > self.voices[p].level for p in self.talkers if p in self.voices)

    def start(self) -> None:
        self._pace.start()

    async def stop(self) -> None:
        await self._pace.stop()
        for point in list(self.voices):
            self.remove(point)
        for track in self._program:
            track.stop()

    async def _mix_once(self) -> None:
        heard = self._listen()
        # What the worker thread uses is fixed here, as points may leave meanwhile.
        talkers = [(p, self._own_mix(p)) for p in self.talkers]
        self._route(await asyncio.to_thread(self._encode, heard, talkers))

    def _listen(self) -> dict[int, np.ndarray]:
        """This tick's sound of each talker; the meters and the talkers are updated."""
        sound: dict[int, np.ndarray] = {}
        for point, voice in self.voices.items():
            samples = voice.take()
            now = voice.loudness_now(samples)
            voice.level = max(now, voice.level * 0.75)  # rises at once, falls in ~0.5 s
            if samples is not None:
                sound[point] = samples
        candidates = [p for p, v in self.voices.items() if not v.muted and v.level >= TALKING_LEVEL]
        candidates.sort(key=lambda p: -self.voices[p].level)
        self.talkers = candidates[:MAX_TALKERS]
        for point, voice in self.voices.items():
            if point not in self.talkers:
                voice.own_mix = None
        return {p: sound[p] for p in self.talkers if p in sound}

    def _own_mix(self, point: int) -> av.AudioCodecContext:
        voice = self.voices[point]
        if voice.own_mix is None:
            voice.own_mix = _opus_encoder()
        return voice.own_mix

    def _encode(
        self, heard: dict[int, np.ndarray], talkers: list[tuple[int, av.AudioCodecContext]]
    ) -> dict[int | None, list[av.Packet]]:
        """The common mix under key None, and each talker's mix without itself."""
        common = np.zeros(SAMPLES, np.int32)
        for samples in heard.values():
            common += samples
        packets: dict[int | None, list[av.Packet]] = {None: self._packets(self._common, common)}
        for point, codec in talkers:
            own = heard.get(point)
            packets[point] = self._packets(codec, common - own if own is not None else common)
        return packets

    def _packets(self, codec: av.AudioCodecContext, mix: np.ndarray) -> list[av.Packet]:
        clipped = np.clip(mix, -32768, 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(clipped.reshape(1, -1), format="s16", layout="mono")
        pts = self._pace.tick * SAMPLES
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, pts, TIME_BASE
        packets = codec.encode(frame)
        for packet in packets:  # one clock for every encoder, so a point can change mixes
            packet.pts, packet.time_base = pts, TIME_BASE
        return packets

    def _route(self, packets: dict[int | None, list[av.Packet]]) -> None:
        common = packets[None]
        for point, voice in self.voices.items():
            for packet in packets.get(point, common):
                voice.out.put(packet)
        for track in self._program:
            for packet in common:
                track.put(packet)
