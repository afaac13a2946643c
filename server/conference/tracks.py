"""Outgoing tracks of the bridge: queues that senders read from.

Fed with packets encoded once for many points, a sender only packetizes them; fed with
raw frames, it encodes them itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


class QueueTrack(MediaStreamTrack):
    """A track fed by `put`; when its reader falls behind, the oldest item goes."""

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__()
        self.kind = kind
        self._queue: asyncio.Queue[Any] = asyncio.Queue(limit)
        self.frames_sent = 0  # whole program frames handed to this point's sender

    def room(self) -> int:
        return self._queue.maxsize - self._queue.qsize()

    def put(self, item: Any) -> None:
        if self.readyState != "live":
            return
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        return item

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            if self._queue.full():
                self._queue.get_nowait()
            self._queue.put_nowait(None)  # wakes a reader waiting in recv
