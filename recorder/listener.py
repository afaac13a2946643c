"""One receive-only WebRTC connection to the bridge: the program's picture and sound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

Take = Callable[[Any], None]


class ListenRefused(Exception):
    """The server answered the offer with an error (`status`): no such meeting, wrong key."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:200]}")
        self.status = status


class ProgramListener:
    """Calls the bridge as the recorder; `ended` is set when the connection or a track ends."""

    def __init__(self, on_video: Take, on_audio: Take) -> None:
        self.on_video, self.on_audio = on_video, on_audio
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.ended = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []

    async def open(self, server_url: str, key: str, meeting_id: int) -> None:
        self.pc.addTransceiver("audio", "recvonly")
        self.pc.addTransceiver("video", "recvonly")
        self.pc.on("track", self._take_track)
        self.pc.on("connectionstatechange", self._state_changed)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"sdp": self.pc.localDescription.sdp, "type": "offer"}
        url = f"{server_url}/api/recorder/meetings/{meeting_id}/listen"
        async with httpx.AsyncClient(timeout=15) as http:
            answer = await http.post(url, json=offer, headers={"Authorization": f"Bearer {key}"})
        if answer.status_code != 200:
            raise ListenRefused(answer.status_code, answer.text)
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer.json()))

    def _take_track(self, track: MediaStreamTrack) -> None:
        take = self.on_video if track.kind == "video" else self.on_audio
        self._readers.append(asyncio.ensure_future(self._read(track, take)))

    async def _read(self, track: MediaStreamTrack, take: Take) -> None:
        try:
            while True:
                take(await track.recv())
        except MediaStreamError:
            self.ended.set()

    def _state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.ended.set()

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        with contextlib.suppress(Exception):
            await self.pc.close()
