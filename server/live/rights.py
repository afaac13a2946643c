"""Rights follow the roster on open sockets.

A socket's access is decided at connect and again whenever it may have changed: every
`SWEEP_S`, and at once when any server says something changed (a participant added or
removed, signing out). Each check reads the source of truth for all of this process's
sockets in three queries (`server.access.standings`). A socket that may no longer see the
meeting, whose account was deactivated, whose password was reset or whose session was
signed out is closed with 4403; one whose role changed gets its new rights and is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from litestar.channels import ChannelsPlugin, Subscriber

from server.access import standings
from server.live.hub import CLOSE_FORBIDDEN, Connection, Hub, dumps
from server.recent import Recent

log = logging.getLogger("phonghop.live")

SWEEP_S = 0.5  # the longest a change made outside the server (a CLI, the database) waits


class Rights:
    """Keeps the rights of this process's sockets in step with the database."""

    def __init__(
        self,
        hub: Hub,
        channels: ChannelsPlugin,
        db_read: Callable[[], Any],
        prefix: str,
        remembered: list[Recent],
    ) -> None:
        self._hub = hub
        self._remembered = remembered  # answers of access checks, forgotten on a change
        self._channels = channels
        self._db_read = db_read
        self._channel = f"{prefix}:rights"
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriber: Subscriber | None = None

    async def start(self) -> None:
        self._subscriber = await self._channels.subscribe(self._channel)
        self._tasks = [
            asyncio.create_task(self._listen(self._subscriber)),
            asyncio.create_task(self._keep_checking()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._subscriber is not None:
            with contextlib.suppress(Exception):
                await self._channels.unsubscribe(self._subscriber)

    def changed(self) -> None:
        """Something that decides access changed: every server checks its sockets now."""
        self._forget()
        self._tell({})

    def _forget(self) -> None:
        for recent in self._remembered:
            recent.clear()

    def signed_out(self, key: str) -> None:
        """The session `key` (hashed) ended: its sockets close on every server."""
        self._tell({"signed_out": key})

    def _tell(self, notice: dict[str, Any]) -> None:
        try:
            self._channels.publish(dumps(notice).encode(), self._channel)
        except RuntimeError:  # the server is stopping
            log.info("rights notice not sent, the server is stopping")

    async def _listen(self, subscriber: Subscriber) -> None:
        async for raw in subscriber.iter_events():
            key = json.loads(raw).get("signed_out")
            if key:
                for _, room in self._hub.rooms():
                    for connection in room:
                        if connection.key == key:
                            connection.turn_away(CLOSE_FORBIDDEN, "signed out")
            self._forget()
            self._wake.set()

    async def _keep_checking(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SWEEP_S)
            self._wake.clear()
            try:
                await self.check()
            except Exception:
                log.exception("could not check the rights of open sockets")

    async def check(self) -> None:
        """Reads every socket's standing afresh and acts on what changed."""
        sockets = [(m, c) for m, room in self._hub.rooms() for c in room if not c.ended]
        if not sockets:
            return
        async with self._db_read() as db:
            found = await standings(db, {(m, c.user_id) for m, c in sockets})
        changed = [_apply(c, found[m, c.user_id]) for m, c in sockets]
        if any(changed):
            self._forget()  # their HTTP requests stop now too


def _apply(connection: Connection, standing: Any) -> bool:
    """Acts on the socket's standing; True when its rights changed."""
    if standing.access is None:
        connection.turn_away(CLOSE_FORBIDDEN, "no longer allowed in the meeting")
    elif standing.credential != connection.credential:
        connection.turn_away(CLOSE_FORBIDDEN, "password changed")
    elif standing.access.roles() != connection.roles:
        connection.grant(standing.access)
        connection.send(dumps(access_message(standing.access)))
    else:
        connection.access = standing.access  # the same rights; the meeting row read afresh
        return False
    return True


def access_message(access: Any) -> dict[str, Any]:
    """`{"type":"access.changed","role":…,"can":{…}}`: the tablet's new rights (it reloads)."""
    permissions = ("manage", "preside", "vote", "speak", "conference")
    return {
        "type": "access.changed",
        "role": access.role,
        "can": {p: access.can(p) for p in permissions},
    }
