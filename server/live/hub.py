"""Who gets which bytes: meeting events fanned out to the tablets connected to this process.

Events travel between processes over Litestar's channels (one channel per meeting). Each
message is a small audience header, a newline, and the event exactly as tablets receive it,
so every process forwards the same bytes without serializing them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from litestar import WebSocket
from litestar.channels import ChannelsPlugin, Subscriber

from server.models import JournalEvent

log = logging.getLogger("phonghop.live")

CLOSE_TOO_SLOW = 4008  # the tablet could not keep up; it reconnects and resyncs with `since`
QUEUE_LIMIT = 256


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def event_message(event: JournalEvent) -> str:
    """A journaled event as tablets see it, live or replayed: the same text either way."""
    return dumps({"type": event.type, "seq": event.seq, **event.payload})


class Connection:
    """One tablet's socket: who is on it, and what waits to be sent to it."""

    def __init__(
        self, socket: WebSocket, user_id: int, roles: set[str], queue_limit: int = QUEUE_LIMIT
    ) -> None:
        self.socket = socket
        self.user_id = user_id
        self.roles = roles
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_limit)
        self._held: list[str] | None = []  # nothing goes out before the tablet's hello
        self.too_slow = False

    def sees(self, audience: dict[str, Any]) -> bool:
        user = audience.get("user")
        if user is not None and user != self.user_id:
            return False
        roles = audience.get("roles")
        return roles is None or bool(self.roles & set(roles))

    @property
    def greeted(self) -> bool:
        return self._held is None

    def hold(self) -> None:
        """Keeps live events back while the tablet is brought up to date (hello)."""
        if self._held is None:
            self._held = []

    def release(self, up_to_seq: int) -> None:
        """Sends what was held, leaving out journaled events the catch-up already had."""
        held, self._held = self._held or [], None
        for text in held:
            seq = json.loads(text).get("seq")
            if seq is None or seq > up_to_seq:
                self.offer(text)

    def offer(self, text: str) -> None:
        """Queues `text`; a full queue marks the tablet too slow and ends its socket."""
        if self._held is not None:
            self._held.append(text)
            return
        self.send(text)

    def send(self, text: str) -> None:
        """Queues `text` now, even while live events are held (answers and catch-up)."""
        if self.too_slow:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.too_slow = True
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(None)

    def finish(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def pump(self) -> None:
        """Sends queued messages in order until finished; closes the socket if too slow."""
        while (text := await self._queue.get()) is not None:
            await self.socket.send_text(text)
        if self.too_slow:
            await self.socket.close(code=CLOSE_TOO_SLOW, reason="too slow, resync")


class Hub:
    """The tablets of every meeting connected here, and one channel subscription per meeting."""

    def __init__(self, channels: ChannelsPlugin, queue_limit: int = QUEUE_LIMIT) -> None:
        self._channels = channels
        self.queue_limit = queue_limit  # messages waiting for one tablet before it is cut off
        self._rooms: dict[int, set[Connection]] = defaultdict(set)
        self._listeners: dict[int, tuple[Subscriber, asyncio.Task[None]]] = {}

    def connections(self, meeting_id: int) -> set[Connection]:
        return self._rooms.get(meeting_id, set())

    async def join(self, meeting_id: int, connection: Connection) -> None:
        if meeting_id not in self._listeners:
            subscriber = await self._channels.subscribe(_channel(meeting_id))
            task = asyncio.create_task(self._listen(meeting_id, subscriber))
            self._listeners[meeting_id] = (subscriber, task)
        self._rooms[meeting_id].add(connection)

    async def leave(self, meeting_id: int, connection: Connection) -> None:
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        room.discard(connection)
        if not room:
            del self._rooms[meeting_id]
            subscriber, task = self._listeners.pop(meeting_id)
            await self._channels.unsubscribe(subscriber)
            task.cancel()

    def publish(
        self, meeting_id: int, text: str, user: int | None = None, roles: list[str] | None = None
    ) -> None:
        """Sends `text` to every process's tablets of the meeting that the audience allows."""
        header = dumps({"user": user, "roles": roles})
        self._channels.publish(f"{header}\n{text}".encode(), _channel(meeting_id))

    def publish_event(self, event: JournalEvent) -> None:
        self.publish(event.meeting_id, event_message(event), user=event.private_to)

    async def _listen(self, meeting_id: int, subscriber: Subscriber) -> None:
        async for raw in subscriber.iter_events():
            header, _, body = raw.partition(b"\n")
            audience = json.loads(header)
            text = body.decode()  # decoded once; the same str goes to every socket
            for connection in list(self._rooms.get(meeting_id, ())):
                if connection.sees(audience):
                    connection.offer(text)

    async def close(self) -> None:
        for subscriber, task in self._listeners.values():
            task.cancel()
            with contextlib.suppress(Exception):
                await self._channels.unsubscribe(subscriber)
        self._listeners.clear()


def _channel(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"
