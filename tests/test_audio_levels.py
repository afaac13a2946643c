"""Sound that scales: the bridge decodes only the points that talk, judged by the audio level
in their RTP headers, and every point still hears the talkers and not itself."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlmodel import select

from bench.microphone import Microphone
from server.conference import mixer
from server.conference.synthetic import AUDIO_RATE
from server.models import User
from tests.conftest import need
from tests.points import Point, conference_meeting

TONES = {
    "hall": 440.0,
    "phuong1": 700.0,
    "phuong2": 1100.0,
    "phuong3": 1300.0,
    "phuong4": 1500.0,
    "phuong5": 1700.0,
}
TALKING = ("hall", "phuong1")


class Speaker(Point):
    """A ward point whose microphone sends levels (`Point` sends pre-encoded sound, which
    carries none: the bridge decodes and meters it as before)."""

    def __init__(self, *args: Any, talking: bool, **options: Any) -> None:
        super().__init__(*args, **options)
        self.audio = Microphone(self.audio.frequency_hz, talking)  # type: ignore[assignment]


def recent_share(point: Point, hz: float, seconds: float = 0.3) -> float:
    """The share of `hz` in the power of the last `seconds` of sound the point received."""
    kept = list(point._samples)
    if not kept:
        return 0.0
    samples = np.concatenate(kept)[-int(seconds * AUDIO_RATE) :]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    bins = np.fft.rfftfreq(len(samples), 1 / AUDIO_RATE)
    return float(spectrum[np.abs(bins - hz) <= 10].sum()) / (float(spectrum.sum()) or 1.0)


async def until(condition: Any, within: float, what: str) -> float:
    """Waits for `condition()`; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise TimeoutError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def meeting(accounts, database):
    return conference_meeting(accounts, database, TONES)


async def join_six(served, meeting_id):
    """The hall talks, with levels; phuong1 talks without levels (decoded and metered as
    before); the four others are quiet, with levels."""
    points = []
    for name, hz in TONES.items():
        if name == "phuong1":
            point = Point(served.url, name, meeting_id, tone_hz=hz)
        else:
            point = Speaker(served.url, name, meeting_id, tone_hz=hz, talking=name in TALKING)
        points.append(await point.join())
    return points


def voices(served, meeting_id, database):
    """The bridge's voice of each point, by username, and the conference."""
    conference = served.app.state.conferences.get(meeting_id)
    names = {user_id(database, name): name for name in TONES}
    return {names[p]: voice for p, voice in conference.mixer.voices.items()}, conference


def user_id(database, username):
    return database.exec(select(User.id).where(User.username == username)).one()


async def test_only_the_talkers_are_decoded_and_everyone_hears_them(served, meeting, database):
    points = await join_six(served, meeting)
    by_name = {p.username: p for p in points}

    def everyone_hears_the_talkers() -> bool:
        return all(
            all(recent_share(p, TONES[t], 1.0) > 0.1 for t in TALKING if t != p.username)
            for p in points
        )

    await until(everyone_hears_the_talkers, 20, "every point hears the talkers")
    await asyncio.sleep(1)  # a second of the settled mix
    for point in points:
        heard = point.tone_power(TONES.values())
        assert all(heard[TONES[t]] > 0.1 for t in TALKING if t != point.username), heard
        if point.username in TALKING:
            assert heard[TONES[point.username]] < 0.01, (point.username, heard)
    by_voice, conference = voices(served, meeting, database)
    quiet = [name for name in TONES if name not in TALKING]
    assert all(by_voice[name].decoded == 0 for name in quiet), {
        name: by_voice[name].decoded for name in quiet
    }
    assert by_voice["hall"].decoded > 25 and by_voice["phuong1"].decoded > 25  # 0.5 s or more
    levels = {name: voice.level for name, voice in by_voice.items()}
    assert levels["hall"] > 0.6 and levels["phuong1"] > 0.6, levels  # a tone at -15 dBFS
    assert all(levels[name] < 0.1 for name in quiet), levels  # room noise at -70 dBFS
    assert sorted(conference.mixer.talkers) == sorted(user_id(database, t) for t in TALKING)

    by_name["phuong2"].audio.talk()  # type: ignore[attr-defined]
    new_hz = TONES["phuong2"]
    listeners = [p for p in points if p.username != "phuong2"]
    heard_after = await until(
        lambda: all(recent_share(p, new_hz) > 0.1 for p in listeners),
        5,
        "everyone hears phuong2 once it talks",
    )
    print(f"a quiet point that starts talking is heard after {heard_after:.2f} s")
    assert heard_after < 2.0  # about half a second on a quiet machine
    assert by_voice["phuong2"].decoded > 0
    assert recent_share(by_name["phuong2"], new_hz) < 0.01  # and it does not hear itself
    assert recent_share(by_name["phuong2"], TONES["hall"]) > 0.1
    assert all(by_voice[name].decoded == 0 for name in ("phuong3", "phuong4", "phuong5"))
    await asyncio.gather(*(p.leave() for p in points))


async def test_the_bridge_answers_with_the_audio_level_extension(served, meeting):
    speaker = await Speaker(served.url, "hall", meeting, talking=True).join()
    assert speaker.pc is not None
    answer = speaker.pc.remoteDescription.sdp
    assert "urn:ietf:params:rtp-hdrext:ssrc-audio-level" in answer
    await speaker.leave()


# --- Opus in-band FEC in the mixes --------------------------------------------------------


def libopus() -> ctypes.CDLL:
    """The libopus PyAV was built with (its wheel ships one), else the system's."""
    bundled = sorted((Path(av.__file__).parent.parent / "av.libs").glob("libopus*"))
    path = str(bundled[0]) if bundled else ctypes.util.find_library("opus")
    need(path is not None, "no libopus to read the mixes' packets with")
    lib = ctypes.CDLL(path)
    need(hasattr(lib, "opus_packet_has_lbrr"), "libopus is older than 1.5 (no has_lbrr)")
    lib.opus_decoder_create.restype = ctypes.c_void_p
    return lib


def speech_like(seconds: float) -> np.ndarray:
    """Voiced syllables: 200 ms of a gliding harmonic voice, 100 ms of pause."""
    at = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    pitch = 150 + 50 * np.sin(2 * np.pi * 0.7 * at)
    phase = 2 * np.pi * np.cumsum(pitch) / AUDIO_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 15))
    syllables = (at * 1000) % 300 < 200
    return (5000 * syllables * voice).astype(np.int16)


def mix_packets(samples: np.ndarray) -> list[bytes]:
    codec = mixer._opus_encoder()
    packets: list[bytes] = []
    for start in range(0, len(samples) - mixer.SAMPLES + 1, mixer.SAMPLES):
        chunk = samples[start : start + mixer.SAMPLES].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
        frame.sample_rate, frame.pts = mixer.SAMPLE_RATE, start
        packets += [bytes(packet) for packet in codec.encode(frame)]
    return packets


def test_the_mixes_carry_opus_fec_that_restores_a_lost_packet():
    lib = libopus()
    packets = mix_packets(speech_like(6.0))
    modes = {packet[0] >> 3 for packet in packets}  # the TOC byte's configuration
    assert modes <= set(range(12)), f"not all SILK (0-11): {modes}"  # FEC is SILK's
    with_fec = [lib.opus_packet_has_lbrr(p, len(p)) == 1 for p in packets]
    # every packet of voice carries the one before it; the pauses need none
    assert sum(with_fec) >= 0.7 * len(packets), "".join(str(int(f)) for f in with_fec)

    lost = [i for i in range(5, len(packets) - 1, 10) if with_fec[i + 1]]  # 10%, as voice
    assert len(lost) > 5
    heard = decoded(lib, packets, set())
    concealed = decoded(lib, packets, set(lost), fec=False)
    restored = decoded(lib, packets, set(lost), fec=True)
    for i in lost:
        power = float(np.mean(np.square(heard[i])))
        fec_error = float(np.mean(np.square(restored[i] - heard[i])))
        plc_error = float(np.mean(np.square(concealed[i] - heard[i])))
        assert float(np.mean(np.square(restored[i]))) > 0.3 * power, i  # not a faded guess
        assert fec_error < 0.5 * plc_error, (i, fec_error, plc_error)


def decoded(lib: ctypes.CDLL, packets: list[bytes], lost: set[int], fec: bool = False) -> list:
    """Each packet's sound as a receiver plays it when the packets in `lost` never came:
    from the next packet's FEC, or (fec=False) concealed by libopus."""
    error = ctypes.c_int()
    decoder = ctypes.c_void_p(lib.opus_decoder_create(mixer.SAMPLE_RATE, 1, ctypes.byref(error)))
    out = (ctypes.c_int16 * mixer.SAMPLES)()
    played = []
    for i, packet in enumerate(packets):
        if i not in lost:
            got = lib.opus_decode(decoder, packet, len(packet), out, mixer.SAMPLES, 0)
        elif fec:
            following = packets[i + 1]
            got = lib.opus_decode(decoder, following, len(following), out, mixer.SAMPLES, 1)
        else:
            got = lib.opus_decode(decoder, None, 0, out, mixer.SAMPLES, 0)
        assert got == mixer.SAMPLES, got
        played.append(np.frombuffer(out, np.int16).astype(np.float64).copy())
    lib.opus_decoder_destroy(decoder)
    return played
