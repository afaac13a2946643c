"""A ward point for benchmarks and tests: aiortc with a synthetic camera and microphone.

`Point` signs in like a tablet, opens the meeting's live socket, and calls the bridge with
one audio and one video transceiver (Opus and VP8 only, since its `ToneAudio` and
`ColourVideo` send pre-encoded packets). It obeys `rtc.send`, keeps every event, and
takes in what the bridge sends back: the program video (frame count and arrival times, the
latest frame) and the audio mix (the last second of samples).

With `decode=False` (the benchmark) received video is counted but never decoded. A track
wrapper cannot do that: aiortc decodes in each receiver's decoder thread before the track
sees a frame. So this module swaps `aiortc.rtcrtpreceiver.decoder_worker`, the function
that thread runs, for one that decodes as before unless the receiving track was marked
count-only, in which case it hands the reassembled encoded frames to the track untouched.
The swap is made once per process at the first such point and changes nothing for the
other receivers. Audio is decoded too, unless `listen=False`: the video bridge benchmark
does not listen, and 40 points' Opus decoding would be its own load.

With `line_bps` the point's video receiver reports (REMB) that steady figure once a second,
as a browser on a clean line of that capacity settles at, instead of aiortc's delay-based
estimate. That estimator costs Python work on every packet, and with 40 receivers sharing
this process and two cores with the bridge it measures the process's own scheduling delays,
not the line: it reads them as congestion and cuts its estimate, and the bridge takes the point
down from HD. Receiver reports (loss, round trip) and NACKs are aiortc's, as before.
(That worker, the track's queue, the receiver's estimator and aioice's sockets in `drop` are
aiortc's insides: tests/test_aiortc_fence.py watches them.)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import queue
import time
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpx
import numpy as np
import websockets
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
    rtcrtpreceiver,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.exceptions import ConnectionClosed

from server.conference.synthetic import AUDIO_RATE, ColourVideo, ToneAudio

ANSWERS = ("ack", "error")
CONNECT_S = 15.0
ARRIVALS_KEPT = 15 * 120  # video arrival times: two minutes at 15 fps
Colour = tuple[int, int, int]


class PointError(Exception):
    """The server refused a step of joining, or the media never connected."""


# --- counting video without decoding it -----------------------------------------------------

_aiortc_decoder_worker = rtcrtpreceiver.decoder_worker
_count_only: weakref.WeakSet[asyncio.Queue[Any]] = weakref.WeakSet()


def _decode_or_pass(
    loop: asyncio.AbstractEventLoop, input_q: queue.Queue, output_q: asyncio.Queue, error: Any
) -> None:
    """Runs in a receiver's decoder thread; `output_q` is the queue of its track."""
    if output_q in _count_only:
        _pass_encoded(loop, input_q, output_q)
    else:
        _aiortc_decoder_worker(loop, input_q, output_q, error)


def _pass_encoded(
    loop: asyncio.AbstractEventLoop, input_q: queue.Queue, output_q: asyncio.Queue
) -> None:
    while (task := input_q.get()) is not None:
        _codec, encoded_frame = task
        asyncio.run_coroutine_threadsafe(output_q.put(encoded_frame), loop)
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)  # the track ends


def count_without_decoding(track: MediaStreamTrack) -> None:
    """Marks a remote track, before its receiver starts, to get encoded frames."""
    rtcrtpreceiver.decoder_worker = _decode_or_pass
    _count_only.add(track._queue)  # type: ignore[attr-defined]


class SteadyEstimate:
    """Stands in for a video receiver's `RemoteBitrateEstimator`: the same `add`, answering
    (bitrate, [ssrc]) for a REMB once a second, else None."""

    def __init__(self, bps: int) -> None:
        self.bps = bps
        self._reported_ms: int | None = None

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        if self._reported_ms is not None and arrival_time_ms - self._reported_ms < 1000:
            return None
        self._reported_ms = arrival_time_ms
        return self.bps, [ssrc]


SPEECH_DBOV, SILENCE_DBOV = -25, -127


def say_level(sender: RTCRtpSender, dbov: int) -> None:
    """The sender's RTP packets carry this audio level (RFC 6464, -127..0 dBov), as a
    browser's do; aiortc sets it only for sound it encodes itself, not for packets given."""
    next_frame = sender._next_encoded_frame

    async def with_level(codec: Any) -> Any:
        frame = await next_frame(codec)
        if frame is not None:
            frame.audio_level = dbov
        return frame

    sender._next_encoded_frame = with_level  # type: ignore[method-assign]


def estimate_steadily(receiver: RTCRtpReceiver, bps: int) -> None:
    """The receiver's REMB says `bps` (aiortc's private estimator, replaced)."""
    receiver._RTCRtpReceiver__remote_bitrate_estimator = SteadyEstimate(bps)  # type: ignore[attr-defined]


# --- what comes back from the bridge --------------------------------------------------------


def mono(frame: Any) -> np.ndarray:
    """An audio frame's samples as float mono in [-1, 1]."""
    samples = frame.to_ndarray()
    scale = 1 / 32768 if samples.dtype == np.int16 else 1.0
    if frame.format.is_planar:
        samples = samples.mean(axis=0)
    else:
        samples = samples.reshape(-1, len(frame.layout.channels)).mean(axis=1)
    return (samples * scale).astype(np.float32)


def mean_rgb(frame: Any) -> Colour:
    rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    return (round(rgb[0]), round(rgb[1]), round(rgb[2]))


def codecs_for(transceiver: RTCRtpTransceiver, mime: str) -> None:
    """Offers only `mime` (and retransmission) on `transceiver`."""
    kind = transceiver.kind
    wanted = (mime.lower(), f"{kind}/rtx")
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])


class Point:
    """One ward point (or the hall) in a meeting's conference."""

    _ids = itertools.count(1)

    def __init__(
        self,
        url: str,
        username: str,
        meeting_id: int,
        colour: Colour = (200, 40, 60),
        tone_hz: float = 440.0,
        *,
        password: str,
        moving: bool = False,
        decode: bool = True,
        connect_within: float = CONNECT_S,
        server_ice: bool = False,
        listen: bool = True,
        line_bps: int | None = None,
        talking: bool | None = None,
    ) -> None:
        self.url = url
        self.username = username
        self.meeting_id = meeting_id
        self.password = password
        self.decode = decode
        self.listen = listen
        self.line_bps = line_bps  # what the video receiver's REMB says; None: aiortc's estimate
        self.talking = talking  # the audio level its packets say; None: none said
        self.connect_within = connect_within
        self.server_ice = server_ice  # the STUN/TURN servers the server hands out, else none
        self.video = ColourVideo(colour, moving=moving)
        self.audio = ToneAudio(tone_hz)
        self.events: list[dict[str, Any]] = []
        self.frames_received = 0
        self.http: httpx.AsyncClient | None = None
        self.socket: Any = None
        self.pc: RTCPeerConnection | None = None
        self._csrf = ""
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._news = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._arrivals: deque[float] = deque(maxlen=ARRIVALS_KEPT)
        self._latest_frame: Any = None
        self._samples: deque[np.ndarray] = deque()
        self._sample_count = 0

    # --- joining ----------------------------------------------------------------------------

    async def join(self) -> Point:
        """Signs in, opens the live socket, says hello and calls the bridge."""
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30, trust_env=False)
        await self.video.prepare()
        await self._sign_in()
        await self._open_socket()
        await self._connect_media()
        return self

    async def rejoin(self) -> Point:
        """Calls the bridge again, as a point does after its network came back."""
        await self._close_media()
        await self._connect_media()
        return self

    async def _sign_in(self) -> None:
        assert self.http is not None
        await self.http.get("/login")
        self._csrf = self.http.cookies.get("csrftoken") or ""
        credentials = {"username": self.username, "password": self.password}
        response = await self.http.post("/login", json=credentials, headers=self._headers())
        if not response.is_success:
            raise PointError(f"{self.username} could not sign in: {response.text[:200]}")

    def _headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self._csrf}

    async def _open_socket(self) -> None:
        assert self.http is not None
        cookies = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        self.socket = await websockets.connect(
            self.url.replace("http", "ws", 1) + f"/ws/meetings/{self.meeting_id}",
            additional_headers={"Cookie": cookies},
            origin=self.url,  # type: ignore[arg-type]
            max_size=16 << 20,
        )
        self._tasks.append(asyncio.create_task(self._read_socket()))
        hello = await self._request({"type": "hello", "id": "h1", "since": None})
        if hello["type"] != "ack":
            raise PointError(f"hello refused: {hello}")

    async def _connect_media(self) -> None:
        ice = await self._ice_servers() if self.server_ice else []  # by default all local
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        connected = asyncio.Event()
        self.pc.on("connectionstatechange", connected.set)
        self.pc.on("track", self._take_track)
        microphone = self.pc.addTransceiver(self.audio, "sendrecv")
        codecs_for(microphone, "audio/opus")
        if self.talking is not None:
            say_level(microphone.sender, SPEECH_DBOV if self.talking else SILENCE_DBOV)
        codecs_for(self.pc.addTransceiver(self.video, "sendrecv"), "video/VP8")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self._post_offer(self.pc.localDescription)
        await self.pc.setRemoteDescription(answer)
        await self._until_connected(connected)

    async def _ice_servers(self) -> list[RTCIceServer]:
        assert self.http is not None
        response = await self.http.get(f"/api/meetings/{self.meeting_id}/rtc/config")
        if not response.is_success:
            raise PointError(f"no conference set-up: HTTP {response.status_code}")
        return [
            RTCIceServer(server["urls"], server.get("username"), server.get("credential"))
            for server in response.json()["ice_servers"]
        ]

    async def _post_offer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        assert self.http is not None
        response = await self.http.post(
            f"/api/meetings/{self.meeting_id}/rtc/offer",
            json={"sdp": offer.sdp, "type": offer.type},
            headers=self._headers(),
        )
        if not response.is_success:
            raise PointError(f"offer refused: HTTP {response.status_code} {response.text[:200]}")
        answer = response.json()
        return RTCSessionDescription(sdp=answer["sdp"], type=answer["type"])

    async def _until_connected(self, changed: asyncio.Event) -> None:
        assert self.pc is not None
        async with asyncio.timeout(self.connect_within):
            while self.pc.connectionState != "connected":
                if self.pc.connectionState in ("failed", "closed"):
                    raise PointError(f"the media connection {self.pc.connectionState}")
                changed.clear()
                await changed.wait()

    # --- the live socket --------------------------------------------------------------------

    async def _read_socket(self) -> None:
        try:
            async for text in self.socket:
                self._take_message(json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            for future in self._answers.values():
                if not future.done():
                    future.set_exception(PointError("the live socket closed"))

    def _take_message(self, message: dict[str, Any]) -> None:
        if message.get("type") in ANSWERS:
            answer = self._answers.pop(str(message.get("id")), None)
            if answer is not None and not answer.done():
                answer.set_result(message)
            return
        if message.get("type") == "rtc.send":
            self.video.set_quality(message["width"], message["height"], message["fps"])
        self.events.append(message)
        self._news.set()

    async def _request(self, message: dict[str, Any], within: float = 10) -> dict[str, Any]:
        future = asyncio.get_running_loop().create_future()
        self._answers[message["id"]] = future
        await self.socket.send(json.dumps(message))
        try:
            return await asyncio.wait_for(future, within)
        finally:
            self._answers.pop(message["id"], None)

    async def command(self, type: str, within: float = 10, **fields: Any) -> dict[str, Any]:
        """Sends a command over the live socket; returns its ack or error."""
        message_id = f"{self.username}-{next(self._ids)}"
        return await self._request({"type": type, "id": message_id, **fields}, within)

    async def audio_only(self, on: bool) -> dict[str, Any]:
        """Asks the bridge for audio only (`on`) or video again; once acked, the camera
        stops or starts sending to match. Returns the ack or error."""
        answer = await self.command("rtc.audio_only", on=on)
        if answer["type"] == "ack":
            self.video.pause() if on else self.video.resume()
        return answer

    async def wait_for_event(self, type: str, within: float = 5, after: int = 0) -> dict[str, Any]:
        """The first event of `type` among `events[after:]`, waiting for it if need be.

        Pass `after=len(point.events)` before an action to see only what it caused.
        """
        async with asyncio.timeout(within):
            while True:
                for event in self.events[after:]:
                    if event.get("type") == type:
                        return event
                after = len(self.events)
                self._news.clear()
                await self._news.wait()

    # --- media received ---------------------------------------------------------------------

    def _take_track(self, track: MediaStreamTrack) -> None:
        if not (self.decode if track.kind == "video" else self.listen):
            count_without_decoding(track)
        if track.kind == "video" and self.line_bps is not None:
            assert self.pc is not None
            receiver = next(r for r in self.pc.getReceivers() if r.track is track)
            estimate_steadily(receiver, self.line_bps)
        consume = self._consume_video if track.kind == "video" else self._consume_audio
        self._tasks.append(asyncio.create_task(consume(track)))

    async def _consume_video(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                self.frames_received += 1
                self._arrivals.append(time.monotonic())
                if self.decode:
                    self._latest_frame = frame

    async def _consume_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self.listen:
                    self._keep_samples(mono(frame))

    def _keep_samples(self, samples: np.ndarray) -> None:
        self._samples.append(samples)
        self._sample_count += len(samples)
        while self._sample_count - len(self._samples[0]) >= AUDIO_RATE:
            self._sample_count -= len(self._samples.popleft())

    @property
    def latest_frame(self) -> Any:
        """The newest decoded program frame (an `av.VideoFrame`), or None."""
        return self._latest_frame

    @property
    def latest_colour(self) -> Colour | None:
        """The mean RGB of the newest program frame."""
        return None if self._latest_frame is None else mean_rgb(self._latest_frame)

    def received_fps(self, over_s: float = 2.0) -> float:
        """Program frames per second that arrived over the last `over_s` seconds."""
        since = time.monotonic() - over_s
        return sum(1 for at in self._arrivals if at >= since) / over_s

    async def wait_for_colour(self, rgb: Colour, within: float = 10, tolerance: int = 20) -> Colour:
        """Waits until the program's mean colour is within `tolerance` of `rgb` per channel."""
        seen: Colour | None = None
        give_up = time.monotonic() + within
        while time.monotonic() < give_up:
            seen = self.latest_colour
            if (
                seen is not None
                and max(abs(a - b) for a, b in zip(seen, rgb, strict=True)) <= tolerance
            ):
                return seen
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.username}: program colour {seen} never came near {rgb}")

    def tone_power(self, freqs: Iterable[float], width_hz: float = 5) -> dict[float, float]:
        """For each frequency, its share of the power of the last second of received audio."""
        if not self._samples:
            return {freq: 0.0 for freq in freqs}
        samples = np.concatenate(self._samples)[-AUDIO_RATE:]
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
        bins = np.fft.rfftfreq(len(samples), 1 / AUDIO_RATE)
        total = float(spectrum.sum()) or 1.0
        return {
            freq: float(spectrum[np.abs(bins - freq) <= width_hz].sum()) / total for freq in freqs
        }

    def audio_level(self) -> float:
        """The RMS of the last second of received audio (full scale is 1)."""
        if not self._samples:
            return 0.0
        samples = np.concatenate(self._samples)[-AUDIO_RATE:]
        return float(np.sqrt(np.mean(samples**2)))

    # --- going away -------------------------------------------------------------------------

    async def drop(self) -> None:
        """A network drop: the bridge hears nothing more, no DTLS close, no RTCP BYE and no
        DELETE. The UDP sockets close first; closing the connection afterwards only frees
        it here. The live socket stays open."""
        if self.pc is None:
            return
        for transceiver in self.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            for protocol in list(ice._connection._protocols):
                protocol.transport.close()
        await self._close_media()

    async def leave(self) -> httpx.Response | None:
        """Hangs up (DELETE), then closes the media, the socket and the HTTP client.

        Returns the DELETE's response, or None when it could not be sent."""
        response = None
        http, self.http = self.http, None
        if http is not None and self.pc is not None:
            with contextlib.suppress(httpx.HTTPError):
                response = await http.delete(
                    f"/api/meetings/{self.meeting_id}/rtc", headers=self._headers()
                )
        await self._close_media()
        if self.socket is not None:
            await self.socket.close()
        for task in self._tasks:
            task.cancel()
        if http is not None:
            await http.aclose()
        return response

    async def _close_media(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        self.video.stop()
        self.audio.stop()
