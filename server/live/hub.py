"""Who gets which bytes: meeting events fanned out to the tablets connected to this process.

Events travel between processes over Litestar's channels (one channel per meeting). Each
message is a small audience header, a newline, and the event exactly as tablets receive it,
so every process forwards the same bytes without serializing them again.

Journaled events can arrive out of order when several processes write one meeting (each
publishes after its own commit), and a process can die between its commit and its publish.
So each process hands a meeting's journaled events to its tablets strictly by `seq`: an event
that comes early waits for the ones before it, and a hole that stays open is filled from the
journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
from litestar import WebSocket
from litestar.channels import ChannelsPlugin, Subscriber

from server import logs
from server.metrics import DELIVERIES, EVENTS, TOO_SLOW
from server.models import JournalEvent

log = logging.getLogger("phonghop.live")

CLOSE_TOO_SLOW = 4008  # the tablet could not keep up; it reconnects and resyncs with `since`
CLOSE_FORBIDDEN = 4403  # may not (or no longer) be in the meeting, or signed out
CLOSE_REPLACED = 4409  # the same account opened too many sockets in the meeting; oldest goes
QUEUE_LIMIT = 256
SOCKETS_PER_USER = 5
WAIT_FOR_ROOM_S = 10.0
GAP_WAIT_S = 0.5  # how long an early event waits for the ones before it, then they are read


class JournalReader(Protocol):
    async def last_seq(self, meeting_id: int) -> int: ...

    async def between(self, meeting_id: int, after: int, before: int) -> list[JournalEvent]: ...


def dumps(message: Any) -> str:
    """Compact JSON text, UTF-8 kept (msgspec: several times faster than `json` on the long
    lists of numbers that ink strokes are)."""
    return msgspec.json.encode(message).decode()


def event_message(event: JournalEvent) -> str:
    """A journaled event as tablets see it, live or replayed: the same text either way."""
    return dumps({"type": event.type, "seq": event.seq, **event.payload})


class Connection:
    """One tablet's socket: who is on it, and what waits to be sent to it."""

    def __init__(
        self,
        socket: WebSocket,
        user_id: int,
        roles: set[str],
        queue_limit: int = QUEUE_LIMIT,
        *,
        access: Any = None,
        key: str = "",
        credential: str = "",
    ) -> None:
        self.socket = socket
        self.user_id = user_id
        self.roles = roles
        self.access = access  # the MeetingAccess the socket's commands are checked against
        self.key = key  # its sign-in session, hashed: signing out ends the socket too
        self.credential = credential  # the password hash it signed in with: a reset ends it
        self.opened = time.monotonic()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_limit)
        # nothing goes out before the tablet's hello
        self._held: list[tuple[str, int | None]] | None = []
        self.seq = 0  # the last journaled event this tablet was sent
        self.too_slow = False
        self.closing: tuple[int, str] | None = None  # turned away: the close code and reason

    def grant(self, access: Any) -> None:
        """The rights of this socket changed: it sees and may do what `access` allows."""
        self.access = access
        self.roles = access.roles()

    def turn_away(self, code: int, reason: str) -> None:
        """Closes the socket with `code`: nothing more is sent, what waits is dropped."""
        if self.closing is None:
            self.closing = (code, reason)
            self._end()

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
        self.seq = up_to_seq
        for text, seq in held:
            self.offer(text, seq)

    def offer(self, text: str, seq: int | None = None) -> None:
        """Queues `text` (a journaled event's once only); a full queue marks the tablet too
        slow and ends its socket."""
        if self._held is not None:
            self._held.append((text, seq))
            self._forget_old_transients()
            return
        if seq is not None:
            if seq <= self.seq:
                return
            self.seq = seq
        self.send(text)

    def _forget_old_transients(self) -> None:
        """While a tablet says hello in a filling hall, hundreds of presence and progress
        messages can pile up; released at once they would overflow its queue. Those are
        superseded by later ones and by the hello's snapshot, so past half a queue the
        oldest go. Journaled events are all kept."""
        assert self._held is not None
        if len(self._held) <= self._queue.maxsize // 2:
            return
        oldest = next((n for n, (_, seq) in enumerate(self._held) if seq is None), None)
        if oldest is not None:
            del self._held[oldest]

    def send(self, text: str) -> None:
        """Queues `text` now, even while live events are held (answers and catch-up)."""
        if self.too_slow or self.closing:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.too_slow = True
            TOO_SLOW.inc()
            self._end()

    async def send_waiting(self, text: str) -> None:
        """Queues `text`, waiting for room (a catch-up longer than the queue); a tablet that
        takes no message for `WAIT_FOR_ROOM_S` is too slow."""
        if self.ended:
            return
        queue = self._queue
        try:
            await asyncio.wait_for(queue.put(text), WAIT_FOR_ROOM_S)
        except TimeoutError:
            if queue is self._queue:
                self.too_slow = True
                TOO_SLOW.inc()
                self._end()

    def _end(self) -> None:
        """Drops what waits; the pump stops after the message it is sending now."""
        waiting, self._queue = self._queue, asyncio.Queue(1)
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.QueueFull):
            waiting.put_nowait(None)  # wakes a pump that waits on the old queue

    def finish(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def pump(self) -> None:
        """Sends queued messages in order until finished; closes the socket if too slow."""
        while (text := await self._queue.get()) is not None:
            await self.socket.send_text(text)
        if self.closing:
            await self.socket.close(code=self.closing[0], reason=self.closing[1])
        elif self.too_slow:
            await self.socket.close(code=CLOSE_TOO_SLOW, reason="too slow, resync")

    @property
    def ended(self) -> bool:
        return self.too_slow or self.closing is not None


class Hub:
    """The tablets of every meeting connected here, and one channel subscription per meeting."""

    def __init__(
        self,
        channels: ChannelsPlugin,
        journal: JournalReader,
        queue_limit: int = QUEUE_LIMIT,
        prefix: str = "phonghop",
    ) -> None:
        self._channels = channels
        self._journal = journal
        self.queue_limit = queue_limit  # messages waiting for one tablet before it is cut off
        self.prefix = prefix
        self._rooms: dict[int, set[Connection]] = defaultdict(set)
        self._listeners: dict[int, tuple[Subscriber, asyncio.Task[None]]] = {}
        self._orders: dict[int, _Order] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def connections(self, meeting_id: int) -> set[Connection]:
        return self._rooms.get(meeting_id, set())

    def rooms(self) -> list[tuple[int, list[Connection]]]:
        """Every meeting with tablets here, and its tablets."""
        return [(meeting_id, list(room)) for meeting_id, room in self._rooms.items()]

    async def join(self, meeting_id: int, connection: Connection) -> None:
        """Adds the tablet; one account's oldest socket in the meeting is closed when it
        would hold more than `SOCKETS_PER_USER` here. Counted and added before any wait, so
        sockets opened at once are counted too."""
        room = self._rooms[meeting_id]
        own = sorted(
            (c for c in room if c.user_id == connection.user_id and not c.ended),
            key=lambda c: c.opened,
        )
        for old in own[: max(0, len(own) + 1 - SOCKETS_PER_USER)]:
            old.turn_away(CLOSE_REPLACED, "too many connections; a newer one replaced this")
        room.add(connection)
        try:
            async with self._lock(meeting_id):
                if meeting_id not in self._listeners:
                    await self._subscribe(meeting_id)
        except BaseException:
            await self.leave(meeting_id, connection)
            raise

    async def _subscribe(self, meeting_id: int) -> None:
        subscriber = await self._channels.subscribe(self._channel(meeting_id))
        # Subscribed first: whatever is journaled after this read arrives on the channel.
        try:
            next_seq = await self._journal.last_seq(meeting_id) + 1
        except BaseException:
            await self._channels.unsubscribe(subscriber)
            raise
        self._orders[meeting_id] = _Order(next_seq)
        # the meeting's, not the context of the tablet that happened to join first
        task = asyncio.create_task(
            self._listen(meeting_id, subscriber), context=logs.meeting_context(meeting_id)
        )
        self._listeners[meeting_id] = (subscriber, task)

    async def leave(self, meeting_id: int, connection: Connection) -> None:
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        room.discard(connection)
        if room:
            return
        async with self._lock(meeting_id):
            if self._rooms.get(meeting_id) or meeting_id not in self._listeners:
                return  # someone joined meanwhile, or the last one out already stopped it
            self._rooms.pop(meeting_id, None)
            subscriber, task = self._listeners.pop(meeting_id)
            self._orders.pop(meeting_id).stop()
            await self._channels.unsubscribe(subscriber)
            task.cancel()

    def _lock(self, meeting_id: int) -> asyncio.Lock:
        """Starting and stopping a meeting's subscription, one at a time."""
        return self._locks.setdefault(meeting_id, asyncio.Lock())

    def publish(
        self,
        meeting_id: int,
        text: str,
        user: int | None = None,
        roles: Sequence[str] | None = None,
    ) -> None:
        """Sends `text` to every process's tablets of the meeting that the audience allows."""
        self._send(meeting_id, text, {"user": user, "roles": roles})

    def publish_event(self, event: JournalEvent) -> None:
        self._send(event.meeting_id, event_message(event), _audience(event))

    def _send(self, meeting_id: int, text: str, audience: dict[str, Any]) -> None:
        header = dumps(audience)
        try:
            self._channels.publish(f"{header}\n{text}".encode(), self._channel(meeting_id))
        except RuntimeError:  # shutting down: the channels stop before the app's own parts
            log.info("not sent, the server is stopping: %s", text[:80])

    async def _listen(self, meeting_id: int, subscriber: Subscriber) -> None:
        async for raw in subscriber.iter_events():
            EVENTS.inc()
            header, _, body = raw.partition(b"\n")
            audience = json.loads(header)
            text = body.decode()  # decoded once; the same str goes to every socket
            if audience.get("seq") is None:
                self._deliver(meeting_id, text, audience)
            else:
                self._arrived(meeting_id, text, audience)

    def _deliver(self, meeting_id: int, text: str, audience: dict[str, Any]) -> None:
        seq = audience.get("seq")
        delivered = 0
        for connection in list(self._rooms.get(meeting_id, ())):
            if connection.sees(audience):
                connection.offer(text, seq)
                delivered += 1
        DELIVERIES.inc(delivered)

    def _arrived(self, meeting_id: int, text: str, audience: dict[str, Any]) -> None:
        """A journaled event: handed on in `seq` order, after the ones before it."""
        order = self._orders.get(meeting_id)
        if order is None or audience["seq"] < order.next_seq:
            return  # sent already, or journaled before anyone here joined (hello has it)
        order.early.setdefault(audience["seq"], (text, audience))
        self._hand_on(meeting_id, order)
        if order.early and order.filler is None:
            order.filler = asyncio.create_task(self._fill_holes(meeting_id, order))

    def _hand_on(self, meeting_id: int, order: _Order) -> None:
        while order.next_seq in order.early:
            text, audience = order.early.pop(order.next_seq)
            self._deliver(meeting_id, text, audience)
            order.next_seq += 1

    async def _fill_holes(self, meeting_id: int, order: _Order) -> None:
        """Reads events that did not come on the channel (or came late) from the journal."""
        try:
            while order.early:
                await asyncio.sleep(GAP_WAIT_S)
                if not order.early:
                    break
                first_early = min(order.early)
                try:
                    missing = await self._journal.between(
                        meeting_id, order.next_seq - 1, first_early
                    )
                except Exception:
                    log.exception("could not read the journal of meeting %s", meeting_id)
                    missing = []
                for event in missing:
                    order.early.setdefault(event.seq, (event_message(event), _audience(event)))
                if order.next_seq not in order.early:  # not in the journal: nothing to wait for
                    log.warning("meeting %s: seq %s never came", meeting_id, order.next_seq)
                    order.next_seq = first_early
                self._hand_on(meeting_id, order)
        finally:
            order.filler = None

    async def close(self) -> None:
        for subscriber, task in self._listeners.values():
            task.cancel()
            with contextlib.suppress(Exception):
                await self._channels.unsubscribe(subscriber)
        self._listeners.clear()
        for order in self._orders.values():
            order.stop()
        self._orders.clear()

    def _channel(self, meeting_id: int) -> str:
        return f"{self.prefix}:meeting:{meeting_id}"


@dataclass
class _Order:
    """A meeting's journaled events on their way to this process's tablets, by `seq`."""

    next_seq: int
    early: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    filler: asyncio.Task[None] | None = None

    def stop(self) -> None:
        if self.filler is not None:
            self.filler.cancel()


def _audience(event: JournalEvent) -> dict[str, Any]:
    return {"user": event.private_to, "roles": None, "seq": event.seq}
