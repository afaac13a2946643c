"""One conference per meeting: its points, the program source, and what each point is told.

A point is one user's peer connection (the hall, a ward point, the chair or the secretary).
It sends camera and microphone; it gets the program video and its audio mix. Points that
are not on the program are told, over the live hub, to send thumbnails at a low frame rate,
because the bridge decodes every video it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import av
import msgspec
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
    is_rtcp,
    unpack_remb_fci,
)
from aiortc.sdp import SessionDescription
from av.video.frame import VideoFrame

from server import journal, logs
from server.conference import receiving
from server.conference.downlink import SD, Downlink, Report
from server.conference.mixer import AudioMixer
from server.conference.program import FPS, HEIGHT, WIDTH, ProgramVideo
from server.conference.slides import slide_picture
from server.errors import AppError
from server.i18n import N_
from server.live.hub import dumps
from server.models import MeetingRole

log = logging.getLogger("phonghop.conference")

FULL = {"quality": "full", "width": WIDTH, "height": HEIGHT, "fps": FPS}
THUMB = {"quality": "thumb", "width": 160, "height": 90, "fps": 5}
CODECS = ("video/VP8", "video/rtx", "audio/opus")  # what the program is encoded in
SWITCH_AFTER_S = 1.0  # in automatic mode, a new loudest point must hold for this long
STAY_AT_LEAST_S = 2.5  # and the current source must have been on for this long
WATCH_EVERY_S = 0.25
REPORT_EVERY_S = 1.0
REPEAT_AFTER_S = 0.02  # a lost packet's copy: apart enough not to share its fate in a burst
CONSOLE = [MeetingRole.chair, MeetingRole.secretary]
THUMB_WIDTH, THUMB_HEIGHT = 320, 180


class Control(msgspec.Struct, forbid_unknown_fields=True):
    """A choice made on a conference: `pick` a point for the program (no point: automatic),
    `mute` a point (`on`: muted), or `audio_only` for the point `by` itself."""

    action: Literal["pick", "mute", "audio_only"]
    by: int
    point: int | None = None
    on: bool = False


@dataclass
class Point:
    user_id: int
    name: str
    pc: RTCPeerConnection
    video_out: MediaStreamTrack
    frame: VideoFrame | None = None
    frames_in: int = 0
    muted: bool = False
    audio_only: bool = False
    told: dict[str, Any] = field(default_factory=dict)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    line: Downlink = field(default_factory=lambda: Downlink(time.monotonic()))
    estimate_bps: int | None = None  # the latest REMB from its browser

    def view(self, conference: Conference) -> dict[str, Any]:
        voice = conference.mixer.voices.get(self.user_id)
        return {
            "user_id": self.user_id,
            "name": self.name,
            "talking": self.user_id in conference.mixer.talkers,
            "level": round(voice.level, 2) if voice else 0.0,
            "muted": self.muted,
            "audio_only": self.audio_only,
            "on_program": conference.source == self.user_id,
            "receives": conference.program.level_of(self.video_out),
        }


class Conference:
    def __init__(self, state: Any, meeting_id: int, on_empty: Any = None) -> None:
        self.state = state
        self._on_empty = on_empty
        self.meeting_id = meeting_id
        self.points: dict[int, Point] = {}
        self.program = ProgramVideo(naive=state.settings.bridge_encoding == "naive")
        self.mixer = AudioMixer()
        self.source: int | None = None
        self.picked: int | None = None  # None: automatic, the loudest point
        self._switched_at = 0.0
        self._challenger: tuple[int | None, float] = (None, 0.0)
        self._watcher: asyncio.Task[None] | None = None
        self._muted: set[int] = set()  # kept across rejoins: reloading does not undo a mute
        self._slide_seq = -1  # the `page.presented` the slide shows (0: none was presented)
        self._stopped = False
        self.listeners: dict[RTCPeerConnection, tuple[MediaStreamTrack, ...]] = {}
        # The bridge's own candidates: host addresses, plus its public one if STUN is set.
        # Never aiortc's default, a STUN server on the internet.
        stun = [RTCIceServer(urls=url) for url in state.settings.stun_urls]
        self._ice = RTCConfiguration(iceServers=stun)

    def start(self) -> None:
        self.program.start()
        self.mixer.start()
        self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        self._stopped = True
        if self._watcher is not None:
            self._watcher.cancel()
        points, self.points = list(self.points.values()), {}
        for point in points:
            await self._close(point)
        for pc in list(self.listeners):
            await self._stop_listening(pc)
        await self.program.stop()
        await self.mixer.stop()

    # --- joining and leaving ------------------------------------------------------------

    async def join(self, user_id: int, name: str, offer: str) -> str:
        """Answers a point's offer; a point already here (a rejoin) is replaced."""
        old = self.points.pop(user_id, None)
        if old is not None:
            await self._close(old)
        if len(self.points) >= self.state.settings.conference_max_points:
            self._maybe_empty()
            raise AppError(409, "conference_full", "The conference has no room for more points.")
        muted, picture = user_id in self._muted, self.program.subscribe(SD)
        pc = self._peer(self.mixer.add(user_id, muted=muted), picture)
        point = Point(user_id, name, pc, picture, muted=muted)
        for sender in pc.getSenders():
            self._hear_reports(point, sender)
        pc.on("track", lambda track: self._receive(point, track))
        pc.on("connectionstatechange", lambda: self._state_changed(point))
        try:
            answer = await _answer(pc, offer, self.state.settings.conference_connect_s)
        except Exception:
            await self._close(point)
            self._maybe_empty()
            raise
        self.points[user_id] = point
        self._repeat_sound(point)
        if self.source is None or self.source not in self.points:
            self._switch(user_id)
        self._tell_quality(point)
        if point.muted:
            self._tell(user_id, {"type": "rtc.muted", "muted": True})
        await self._changed("joined", user_id)
        return answer

    async def listen(self, offer: str) -> str:
        """Answers a receive-only offer (the recorder): the program video, at the size it
        records (SD), and sound."""
        tracks = (self.mixer.subscribe(), self.program.subscribe(SD))
        pc = self._peer(*tracks)
        self.listeners[pc] = tracks
        pc.on("connectionstatechange", lambda: self._listener_changed(pc))
        try:
            return await _answer(pc, offer, self.state.settings.conference_connect_s)
        except Exception:
            await self._stop_listening(pc)
            raise

    def _peer(self, sound: MediaStreamTrack, picture: MediaStreamTrack) -> RTCPeerConnection:
        """A peer connection that sends `sound` and `picture` as Opus and VP8."""
        pc = RTCPeerConnection(self._ice)
        pc.addTrack(sound)
        sender = pc.addTrack(picture)
        if not self.program.naive:  # a keyframe asked by anyone comes from its level's encoder
            # aiortc's private method, fenced by tests/test_aiortc_fence.py
            sender._send_keyframe = lambda: self.program.request_keyframe(picture)  # type: ignore[method-assign]
        for transceiver in pc.getTransceivers():
            codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
            transceiver.setCodecPreferences([c for c in codecs if c.mimeType in CODECS])
        return pc

    def _hear_reports(self, point: Point, sender: RTCRtpSender) -> None:
        """What the point's browser reports of each stream it gets also judges its line.
        aiortc's private handler and round-trip time, fenced by tests/test_aiortc_fence.py."""
        handle = sender._handle_rtcp_packet

        async def handled(packet: Any) -> None:
            await handle(packet)
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                with contextlib.suppress(ValueError):
                    point.estimate_bps = unpack_remb_fci(packet.fci)[0]
            elif isinstance(packet, RtcpRrPacket | RtcpSrPacket):
                for report in packet.reports:
                    if report.ssrc == sender._ssrc:
                        rtt = sender._RTCRtpSender__rtt  # type: ignore[attr-defined]
                        lost = report.fraction_lost / 256
                        self._line_report(
                            point, Report(time.monotonic(), lost, rtt, point.estimate_bps)
                        )

        sender._handle_rtcp_packet = handled  # type: ignore[method-assign]

    def _repeat_sound(self, point: Point) -> None:
        """While the point's line loses packets, each sound packet goes again REPEAT_AFTER_S
        later: its browser drops the copy it has (SRTP replay protection) and plays the one it
        lacked. aiortc's private send and retransmit, fenced by tests/test_aiortc_fence.py."""
        sound = next(s for s in point.pc.getSenders() if s.track and s.track.kind == "audio")
        transport, loop = sound.transport, asyncio.get_running_loop()
        send, repeating = transport._send_rtp, dict[int, asyncio.Task[None]]()

        async def repeat(sequence: int) -> None:
            with contextlib.suppress(ConnectionError):  # the point has gone meanwhile
                await sound._retransmit(sequence)

        def again(sequence: int) -> None:  # kept until done: the loop holds tasks weakly
            task = repeating[sequence] = asyncio.create_task(repeat(sequence))
            task.add_done_callback(lambda _: repeating.pop(sequence, None))

        async def sending(data: bytes) -> None:
            await send(data)
            if is_rtcp(data) or int.from_bytes(data[8:12], "big") != sound._ssrc:
                return
            sequence = int.from_bytes(data[2:4], "big")
            if sequence not in repeating and point.line.sound_twice(time.monotonic()):
                loop.call_later(REPEAT_AFTER_S, again, sequence)

        transport._send_rtp = sending  # type: ignore[method-assign]

    def _line_report(self, point: Point, report: Report) -> None:
        level = point.line.report(report)
        if level is not None and self.points.get(point.user_id) is point:
            self.program.set_level(point.video_out, level)
            self._tell(point.user_id, {"type": "rtc.level", "level": level})

    def _listener_changed(self, pc: RTCPeerConnection) -> None:
        if pc.connectionState in ("failed", "closed"):
            asyncio.ensure_future(self._stop_listening(pc))

    async def _stop_listening(self, pc: RTCPeerConnection) -> None:
        tracks = self.listeners.pop(pc, ())
        for track in tracks:
            if track.kind == "video":
                self.program.unsubscribe(track)
            else:
                self.mixer.unsubscribe(track)
        with contextlib.suppress(Exception):
            await pc.close()
        self._maybe_empty()

    def _maybe_empty(self) -> None:
        if not self.points and not self.listeners and self._on_empty is not None:
            self._on_empty(self)

    async def leave(self, user_id: int, pc: RTCPeerConnection | None = None) -> None:
        point = self.points.get(user_id)
        if self._stopped or point is None or (pc is not None and point.pc is not pc):
            return  # already replaced by a rejoin, or everything is closing
        del self.points[user_id]
        await self._close(point)
        if self.source == user_id:
            self._switch(self._fallback())
        await self._changed("left", user_id)
        self._maybe_empty()

    async def _close(self, point: Point) -> None:
        for task in point.readers:
            task.cancel()
        self.program.unsubscribe(point.video_out)
        self.mixer.remove(point.user_id)
        with contextlib.suppress(Exception):
            await point.pc.close()

    def _state_changed(self, point: Point) -> None:
        if point.pc.connectionState in ("failed", "closed"):
            asyncio.ensure_future(self.leave(point.user_id, point.pc))

    def _receive(self, point: Point, track: MediaStreamTrack) -> None:
        receiving.decode_when_heard(point.pc, track, self.mixer.hearing(point.user_id))
        reader = self._read_video if track.kind == "video" else self._read_audio
        point.readers.append(asyncio.create_task(reader(point, track)))

    async def _read_video(self, point: Point, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                point.frame = await track.recv()  # type: ignore[assignment]
                point.frames_in += 1

    async def _read_audio(self, point: Point, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                self.mixer.feed(point.user_id, await track.recv())  # type: ignore[arg-type]

    # --- the chair's controls ------------------------------------------------------------

    async def apply(self, control: Control) -> None:
        if control.action == "pick":
            await self.pick(control.point, control.by)
        elif control.action == "mute":
            await self.mute(control.point, control.on, control.by)  # type: ignore[arg-type]
        else:
            await self.audio_only(control.by, control.on)

    async def pick(self, user_id: int | None, by: int) -> None:
        """Puts a point on the program, or (None) goes back to the loudest point."""
        if user_id is not None:
            self._point(user_id)
            self._switch(user_id)
        self.picked = user_id
        await self._changed("picked" if user_id is not None else "auto", user_id, by)

    async def mute(self, user_id: int, muted: bool, by: int) -> None:
        self._point(user_id).muted = muted
        if muted:
            self._muted.add(user_id)
        else:
            self._muted.discard(user_id)
        voice = self.mixer.voices.get(user_id)
        if voice is not None:
            voice.muted = muted
        self._tell(user_id, {"type": "rtc.muted", "muted": muted})
        await self._changed("muted" if muted else "unmuted", user_id, by)

    async def audio_only(self, user_id: int, on: bool) -> None:
        point = self._point(user_id)
        point.audio_only = on
        self.program.pause(point.video_out, on)
        if on and self.source == user_id:
            self._switch(self._fallback())
        await self._changed("audio_only" if on else "video", user_id, user_id)

    def _point(self, user_id: Any) -> Point:
        point = self.points.get(user_id) if isinstance(user_id, int) else None
        if point is None:
            raise AppError(404, "no_point", "That point is not in the conference.")
        return point

    # --- the program source --------------------------------------------------------------

    def _switch(self, user_id: int | None) -> None:
        if user_id == self.source:
            return
        before, self.source = self.source, user_id
        self._switched_at = time.monotonic()
        point = self.points.get(user_id) if user_id is not None else None
        self.program.source = (lambda: point.frame) if point is not None else (lambda: None)
        self.program.request_keyframe()
        for changed in (before, user_id):
            if changed in self.points:
                self._tell_quality(self.points[changed])  # type: ignore[index]
        self._publish({"type": "rtc.program", **self.program_view()})

    def _fallback(self) -> int | None:
        """Who goes on the program when the source leaves: the earliest point that sends
        pictures, else the earliest that may."""
        showing = [p for p in self.points.values() if not p.audio_only]
        with_pictures = [p for p in showing if p.frames_in > 0]
        return next((p.user_id for p in with_pictures or showing), None)

    def _source_sends_nothing(self) -> bool:
        point = self.points.get(self.source) if self.source is not None else None
        return point is None or point.frames_in == 0 or point.audio_only

    def _loudest(self) -> int | None:
        for user_id in self.mixer.talkers:  # loudest first
            point = self.points.get(user_id)
            if point is not None and not point.audio_only:
                return user_id
        return None

    def _follow_the_talker(self, now: float) -> None:
        loudest = self._loudest()
        if loudest is None or loudest == self.source:
            self._challenger = (None, now)
            return
        if self._challenger[0] != loudest:
            self._challenger = (loudest, now)
        held = now - self._challenger[1] >= SWITCH_AFTER_S
        if held and now - self._switched_at >= STAY_AT_LEAST_S:
            self._switch(loudest)

    async def _watch(self) -> None:
        reported = 0.0
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            if self.picked is None:
                if self._source_sends_nothing():
                    self._switch(self._fallback())
                self._follow_the_talker(now)
            if now - reported >= REPORT_EVERY_S and self.points:
                reported = now
                self._publish(self.points_view(), CONSOLE)

    # --- the presented page, for the points on slides ------------------------------------

    async def present(self, seq: int, image: bytes | None) -> None:
        """The page the chair presents (the `seq` of its `page.presented`, 0 when none was)
        as the program's slide; None when there is nothing the points may see. A page older
        than the one shown, or the same one again (a point joining), changes nothing."""
        if seq <= self._slide_seq:
            return
        self._slide_seq = seq
        picture = None
        if image is not None:
            try:
                picture = await asyncio.to_thread(slide_picture, image)
            except Exception:
                log.exception("the presented page (seq %s) could not be made a slide", seq)
        if self._slide_seq == seq:  # no newer page came while this one was fitted
            self.program.slide = picture

    # --- what the points and the console are told -----------------------------------------

    def program_view(self) -> dict[str, Any]:
        return {"source": self.source, "auto": self.picked is None}

    def points_view(self) -> dict[str, Any]:
        points = [p.view(self) for p in self.points.values()]
        return {"type": "rtc.points", "program": self.program_view(), "points": points}

    def _tell_quality(self, point: Point) -> None:
        wanted = FULL if self.source == point.user_id else THUMB
        if point.told != wanted:
            point.told = wanted
            self._tell(point.user_id, {"type": "rtc.send", **wanted})

    def _tell(self, user_id: int, message: dict[str, Any]) -> None:
        self.state.hub.publish(self.meeting_id, dumps(message), user=user_id)

    def _publish(self, message: dict[str, Any], roles: Sequence[str] | None = None) -> None:
        self.state.hub.publish(self.meeting_id, dumps(message), roles=roles)

    async def _changed(self, change: str, user_id: int | None, by: int | None = None) -> None:
        """Joins, leaves and the chair's choices go into the journal; automatic switches
        and meters do not."""
        data = {
            "change": change,
            "point": user_id,
            "program": self.program_view(),
            "points": [
                {"user_id": p.user_id, "name": p.name, "muted": p.muted}
                for p in self.points.values()
            ],
        }
        async with self.state.db() as db:
            event = await journal.append(db, self.meeting_id, "conference.changed", data, by)
            await db.commit()
        self.state.hub.publish_event(event)
        self._publish(self.points_view(), CONSOLE)


async def _answer(pc: RTCPeerConnection, offer: str, connect_within_s: float | None = None) -> str:
    """The bridge's answer to `offer`; with `connect_within_s`, the peer is closed (its
    point leaves as after a hang-up) unless it connects within that many seconds."""
    try:
        description = SessionDescription.parse(offer)
        kinds = sorted(media.kind for media in description.media)
    except Exception as exc:
        raise _bad_offer(N_("The connection offer could not be read.")) from exc
    if kinds not in (["audio", "video"], ["application", "audio", "video"]):
        raise _bad_offer(N_("Offer one audio and one video stream."))
    refused = _codecs_refused(description)
    if refused:
        raise _unsupported_codecs(refused)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())  # gathers every candidate first
    except Exception as exc:
        raise _bad_offer(N_("The connection offer could not be read.")) from exc
    if connect_within_s is not None:
        _close_unless_connected(pc, connect_within_s)
    return pc.localDescription.sdp


def _bad_offer(message: str) -> AppError:
    return AppError(400, "bad_offer", message)


AUXILIARY = ("rtx", "red", "ulpfec", "flexfec-03", "telephone-event", "cn")  # no picture or sound


def _codecs_refused(description: SessionDescription) -> list[str]:
    """The codecs offered for a stream that has none of the bridge's (VP8, Opus): what the
    point would send instead, empty when every stream has one the bridge takes."""
    refused = []
    for media in description.media:
        if media.kind not in ("audio", "video"):
            continue
        ours = [
            (codec.mimeType.lower(), codec.clockRate)
            for codec in RTCRtpSender.getCapabilities(media.kind).codecs
            if codec.mimeType in CODECS and not codec.mimeType.endswith("/rtx")
        ]
        offered = [(codec.mimeType.lower(), codec.clockRate) for codec in media.rtp.codecs]
        if not set(ours) & set(offered):
            names = [codec.mimeType.split("/")[-1] for codec in media.rtp.codecs]
            refused += [name for name in names if name.lower() not in AUXILIARY]
    return list(dict.fromkeys(refused))


def _unsupported_codecs(refused: list[str]) -> AppError:
    offered = ", ".join(name[:20] for name in refused[:6]) or "-"  # an SDP is the caller's text
    return AppError(
        400,
        "unsupported_codecs",
        N_(
            "This device offers {offered}, but the video bridge takes only VP8 video and "
            "Opus sound. Use a recent Chrome, Edge or Firefox."
        ),
        offered=offered,
    )


_connecting: set[asyncio.Task[None]] = set()  # the deadlines of peers not yet connected


def _close_unless_connected(pc: RTCPeerConnection, within_s: float) -> None:
    """A point whose ICE never answers would hold its place in the conference for good:
    its peer is closed after `within_s` seconds unless it connected (or failed) before."""
    task = asyncio.create_task(_connect_deadline(pc, within_s))
    _connecting.add(task)
    task.add_done_callback(_connecting.discard)


async def _connect_deadline(pc: RTCPeerConnection, within_s: float) -> None:
    settled = asyncio.Event()

    def changed() -> None:
        if pc.connectionState in ("connected", "failed", "closed"):
            settled.set()

    pc.on("connectionstatechange", changed)
    changed()
    try:
        async with asyncio.timeout(within_s):
            await settled.wait()
    except TimeoutError:
        log.warning("a point did not connect within %s s; its place is freed", within_s)
        await pc.close()  # "closed": the point leaves as after a hang-up
    finally:
        with contextlib.suppress(KeyError):  # a closed peer has dropped its listeners
            pc.remove_listener("connectionstatechange", changed)


class Conferences:
    """The conferences this process runs, one per meeting, made on the first join.

    The servers call these methods; with `PHONGHOP_BRIDGE_URLS` set they call the same ones
    on `remote.Bridges`, which passes them to a `phonghop bridge` process running this class.
    """

    def __init__(self, state: Any) -> None:
        receiving.install()
        self.state = state
        self._rooms: dict[int, Conference] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def get(self, meeting_id: int) -> Conference | None:
        return self._rooms.get(meeting_id)

    def all(self) -> list[Conference]:
        return list(self._rooms.values())

    def room(self, meeting_id: int) -> Conference:
        conference = self._rooms.get(meeting_id)
        if conference is None:
            conference = Conference(self.state, meeting_id, on_empty=self._close)
            self._rooms[meeting_id] = conference
            # its tasks are the meeting's, not the first point's request
            logs.meeting_context(meeting_id).run(conference.start)
        return conference

    async def join(self, meeting_id: int, user_id: int, name: str, offer: str) -> str:
        return await self.room(meeting_id).join(user_id, name, offer)

    async def listen(self, meeting_id: int, offer: str) -> str:
        return await self.room(meeting_id).listen(offer)

    async def leave(self, meeting_id: int, user_id: int) -> None:
        conference = self._rooms.get(meeting_id)
        if conference is not None:
            await conference.leave(user_id)

    async def control(self, meeting_id: int, control: Control) -> None:
        conference = self._rooms.get(meeting_id)
        if conference is None:
            raise AppError(404, "no_point", "That point is not in the conference.")
        await conference.apply(control)

    async def thumbnail(self, meeting_id: int, user_id: int) -> bytes:
        """The point's latest picture as a small JPEG, for the chair's source picker."""
        conference = self._rooms.get(meeting_id)
        point = conference.points.get(user_id) if conference is not None else None
        if point is None or point.frame is None:
            raise AppError(404, "no_picture", "No picture from this point yet.")
        return await asyncio.to_thread(_jpeg, point.frame)

    async def present(self, meeting_id: int, seq: int, image: bytes | None) -> None:
        """The presented page as the meeting's slide (see `Conference.present`); a meeting
        without a conference has no use for it."""
        conference = self._rooms.get(meeting_id)
        if conference is not None:
            await conference.present(seq, image)

    async def view(self, meeting_id: int, console: bool) -> dict[str, Any] | None:
        """The conference as a tablet's snapshot shows it: every point for the console,
        only the program for the others; None when there is no conference."""
        conference = self._rooms.get(meeting_id)
        if conference is None:
            return None
        return conference.points_view() if console else {"program": conference.program_view()}

    def _close(self, conference: Conference) -> None:
        """The last point left: the encoders stop until someone joins again."""
        if self._rooms.get(conference.meeting_id) is conference:
            del self._rooms[conference.meeting_id]
            task = asyncio.create_task(conference.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def stop(self) -> None:
        rooms, self._rooms = list(self._rooms.values()), {}
        for conference in rooms:
            await conference.stop()
        await asyncio.gather(*self._stopping, return_exceptions=True)


def _jpeg(frame: VideoFrame) -> bytes:
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = THUMB_WIDTH, THUMB_HEIGHT, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    small = frame.reformat(THUMB_WIDTH, THUMB_HEIGHT, "yuvj420p")
    return b"".join(bytes(p) for p in [*codec.encode(small), *codec.encode(None)])
