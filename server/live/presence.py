"""Who is connected to a meeting, over every server process: the console's "online" dots.

Each process counts its own sockets per person and says at once when someone arrives. With
Redis, each meeting has one hash whose fields say "this person has a socket on that process,
until <time>". A process writes its changes and reads the others' twice a second, in one
round trip however many tablets came or went (a hall connecting at once must not queue up
hundreds of Redis calls in front of the live events). It renews its fields every few
seconds, so a process that dies stops counting after `TTL_S`; the first process to notice
says that its people went offline (unless they are connected elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.live.hub import dumps
from server.models import MeetingRole

log = logging.getLogger("phonghop.live")

TTL_S = 30  # a dead process's sockets stop counting after this long
RENEW_EVERY_S = 10
SHARE_EVERY_S = 0.5
# Only the console shows who is online. Telling every tablet would be N² messages while a
# hall connects, enough to overflow the queues of tablets still saying hello.
WATCHERS = [MeetingRole.chair, MeetingRole.secretary]


class Presence:
    def __init__(self, hub: Any, redis: Redis | None = None, prefix: str = "phonghop") -> None:
        self._hub = hub
        self._redis = redis
        self._prefix = prefix
        self._process = uuid.uuid4().hex[:12]
        self._here: dict[int, Counter[int]] = defaultdict(Counter)  # meeting -> person -> sockets
        self._elsewhere: dict[int, set[int]] = {}  # as Redis said at the last share
        self._changed: dict[int, set[int]] = defaultdict(set)  # came or went here since then
        self._leaving: dict[int, set[int]] = {}  # gone at the last share: offline at the next
        self._renewed = 0.0
        self._sharing: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._redis is not None:
            self._sharing = asyncio.create_task(self._share_forever())

    async def stop(self) -> None:
        if self._sharing is None:
            return
        self._sharing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sharing
        with contextlib.suppress(RedisError):
            async with self._redis.pipeline(transaction=False) as pipe:  # type: ignore[union-attr]
                for meeting_id, people in self._here.items():
                    pipe.hdel(self._key(meeting_id), *map(self._field, people))
                await pipe.execute()

    async def arrived(self, meeting_id: int, user_id: int) -> None:
        here = self._here[meeting_id]
        here[user_id] += 1
        if here[user_id] == 1:
            self._changed[meeting_id].add(user_id)
        self._publish(meeting_id, user_id, True)

    async def departed(self, meeting_id: int, user_id: int) -> None:
        """One socket fewer; the person is said to be offline when it was their last one
        anywhere (at the next share, with Redis)."""
        here = self._here[meeting_id]
        here[user_id] -= 1
        if here[user_id] > 0:
            return
        del here[user_id]
        if not here:
            del self._here[meeting_id]
        if self._redis is None:
            self._publish(meeting_id, user_id, False)
        else:
            self._changed[meeting_id].add(user_id)

    async def online(self, meeting_id: int) -> set[int]:
        if self._redis is not None and meeting_id not in self._elsewhere:
            try:  # the meeting's first tablet here: read now, not at the next share
                self._elsewhere[meeting_id] = _live((await self._read([meeting_id]))[0])
            except RedisError as exc:
                log.warning("presence not read: %r", exc)
        return set(self._here.get(meeting_id, ())) | self._elsewhere.get(meeting_id, set())

    async def _share_forever(self) -> None:
        while True:
            await asyncio.sleep(SHARE_EVERY_S)
            try:
                await self.share()
            except RedisError as exc:
                log.warning("presence not shared: %r", exc)

    async def share(self) -> None:
        """Writes what changed here (everything, when it is time to renew), reads what every
        process wrote, removes the fields of dead processes and says who went offline.

        Someone who left is said to be offline one share later, if still nowhere: a tablet
        moving to another server gives that server time to write that it arrived.
        """
        changed, self._changed = self._changed, defaultdict(set)
        renew = time.monotonic() - self._renewed >= RENEW_EVERY_S
        if renew:
            self._renewed = time.monotonic()
        meetings = sorted(set(self._here) | set(changed) | set(self._leaving))
        back = await self._write(meetings, changed, renew)
        fields = await self._read(meetings)
        now = time.time()
        for meeting_id, written in zip(meetings, fields, strict=True):
            here = self._here.get(meeting_id, Counter())
            live = self._elsewhere[meeting_id] = _live(written, now)
            expired = [f for f, until in written.items() if float(until) <= now]
            for user_id in self._leaving.pop(meeting_id, set()) - live - set(here):
                self._publish(meeting_id, user_id, False)
            gone = {u for u in changed.get(meeting_id, ()) if u not in here}
            gone |= await self._swept(meeting_id, expired)
            if gone - live:
                self._leaving[meeting_id] = gone - live
            for user_id in here if meeting_id in back else ():
                self._publish(meeting_id, user_id, True)
        for meeting_id in set(self._elsewhere) - set(self._here):
            del self._elsewhere[meeting_id]

    async def _write(
        self, meetings: list[int], changed: dict[int, set[int]], renew: bool
    ) -> list[int]:
        """Returns the meetings where a renewal had to write fields anew: they were swept
        while this process stalled, so its people there are said to be back."""
        assert self._redis is not None
        renewals: list[tuple[int, int] | None] = []  # per command: (meeting, fields new by right)
        async with self._redis.pipeline(transaction=False) as pipe:
            for meeting_id in meetings:
                people = self._here.get(meeting_id, Counter())
                touched = changed.get(meeting_id, set())
                arrived = [u for u in touched if u in people]
                present = list(people) if renew else arrived
                absent = [u for u in touched if u not in people]
                if present:
                    pipe.hset(self._key(meeting_id), mapping=self._fields(present))
                    renewals.append((meeting_id, len(arrived)) if renew else None)
                if absent:
                    pipe.hdel(self._key(meeting_id), *map(self._field, absent))
                    renewals.append(None)
            replies = await pipe.execute()
        return [r[0] for r, added in zip(renewals, replies, strict=True) if r and added > r[1]]

    async def _read(self, meetings: list[int]) -> list[dict[bytes, bytes]]:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            for meeting_id in meetings:
                pipe.hgetall(self._key(meeting_id))
            return await pipe.execute()

    async def _swept(self, meeting_id: int, expired: list[bytes]) -> set[int]:
        """Removes a dead process's fields; only the process whose removal counts tells."""
        assert self._redis is not None
        removed: set[int] = set()
        for field in expired:
            if await self._redis.hdel(self._key(meeting_id), field):
                removed.add(_person(field))
        return removed

    def _publish(self, meeting_id: int, user_id: int, online: bool) -> None:
        message = {"type": "presence.changed", "user_id": user_id, "online": online}
        self._hub.publish(meeting_id, dumps(message), roles=WATCHERS)

    def _key(self, meeting_id: int) -> str:
        return f"{self._prefix}:online:{meeting_id}"

    def _field(self, user_id: int) -> str:
        return f"{user_id}:{self._process}"

    def _fields(self, people: Any) -> dict[str, str]:
        until = str(time.time() + TTL_S)
        return {self._field(user_id): until for user_id in people}


def _live(written: dict[bytes, bytes], now: float | None = None) -> set[int]:
    now = time.time() if now is None else now
    return {_person(field) for field, until in written.items() if float(until) > now}


def _person(field: bytes | str) -> int:
    text = field.decode() if isinstance(field, bytes) else field
    return int(text.split(":", 1)[0])
