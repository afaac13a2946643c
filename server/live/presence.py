"""Who is connected to a meeting, over every server process: the console's "online" dots.

Each process counts its own sockets per person. With Redis, each meeting has one hash whose
fields say "this person has a socket on that process, until <time>"; every process renews
its fields while the sockets stay, so a process that dies stops counting after `TTL_S`, and
the first process to notice says that its people went offline (unless they are elsewhere).
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

log = logging.getLogger("phonghop.live")

TTL_S = 30  # a dead process's sockets stop counting after this long
RENEW_EVERY_S = 10


class Presence:
    def __init__(self, hub: Any, redis: Redis | None = None, prefix: str = "phonghop") -> None:
        self._hub = hub
        self._redis = redis
        self._prefix = prefix
        self._process = uuid.uuid4().hex[:12]
        self._here: dict[int, Counter[int]] = defaultdict(Counter)  # meeting -> person -> sockets
        self._renewer: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._redis is not None:
            self._renewer = asyncio.create_task(self._renew())

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        with contextlib.suppress(RedisError):
            for meeting_id, people in self._here.items():
                if self._redis is not None and people:
                    await self._redis.hdel(self._key(meeting_id), *map(self._field, people))

    async def arrived(self, meeting_id: int, user_id: int) -> None:
        here = self._here[meeting_id]
        here[user_id] += 1
        if here[user_id] == 1 and self._redis is not None:
            await self._shared(
                self._redis.hset(self._key(meeting_id), mapping=self._fields([user_id]))
            )
        self._publish(meeting_id, user_id, True)

    async def departed(self, meeting_id: int, user_id: int) -> None:
        """One socket fewer; says the person went offline if it was their last anywhere."""
        here = self._here[meeting_id]
        here[user_id] -= 1
        if here[user_id] > 0:
            return
        del here[user_id]
        if not here:
            del self._here[meeting_id]
        if self._redis is not None:
            await self._shared(self._redis.hdel(self._key(meeting_id), self._field(user_id)))
            if user_id in await self.online(meeting_id):
                return
        self._publish(meeting_id, user_id, False)

    async def online(self, meeting_id: int) -> set[int]:
        here = set(self._here.get(meeting_id, ()))
        if self._redis is None:
            return here
        fields = await self._shared(self._redis.hgetall(self._key(meeting_id)), {})
        now = time.time()
        return here | {_person(f) for f, until in fields.items() if float(until) > now}

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            for meeting_id, people in list(self._here.items()):
                await self._renew_fields(meeting_id, people)
                await self._sweep(meeting_id)

    async def _renew_fields(self, meeting_id: int, people: Counter[int]) -> None:
        """Fields made anew were swept while this process stalled: its people are back."""
        assert self._redis is not None
        mapping = self._fields(people)
        if await self._shared(self._redis.hset(self._key(meeting_id), mapping=mapping), 0):
            for user_id in people:
                self._publish(meeting_id, user_id, True)

    async def _sweep(self, meeting_id: int) -> None:
        """Fields of a process that stopped renewing them: the first to remove one tells."""
        assert self._redis is not None
        key, now = self._key(meeting_id), time.time()
        fields = await self._shared(self._redis.hgetall(key), {})
        for field, until in fields.items():
            if float(until) <= now and await self._shared(self._redis.hdel(key, field), 0):
                if _person(field) not in await self.online(meeting_id):
                    self._publish(meeting_id, _person(field), False)

    def _publish(self, meeting_id: int, user_id: int, online: bool) -> None:
        message = {"type": "presence.changed", "user_id": user_id, "online": online}
        self._hub.publish(meeting_id, dumps(message))

    def _key(self, meeting_id: int) -> str:
        return f"{self._prefix}:online:{meeting_id}"

    def _field(self, user_id: int) -> str:
        return f"{user_id}:{self._process}"

    def _fields(self, people: Any) -> dict[str, str]:
        until = str(time.time() + TTL_S)
        return {self._field(user_id): until for user_id in people}

    @staticmethod
    async def _shared(call: Any, otherwise: Any = None) -> Any:
        """Redis away: this process's own count still holds; the rest heals on renewal."""
        try:
            return await call
        except RedisError as exc:
            log.warning("presence not shared: %r", exc)
            return otherwise


def _person(field: bytes | str) -> int:
    text = field.decode() if isinstance(field, bytes) else field
    return int(text.split(":", 1)[0])
