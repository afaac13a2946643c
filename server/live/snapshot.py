"""The whole state of a meeting as one tablet may see it, assembled from the capabilities.

Most of it is the same for every tablet of a meeting (attendance, the presented page, the
speakers): those parts are read and serialized once per journal position, however many
tablets say hello at once (a hall reconnecting after a Wi-Fi drop), and kept for at most
`SHARED_TTL_S` since presence and vote counts change without a journal entry. Only the
tablet's own parts are read for each hello.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from server.house import House
from server.live.hub import dumps
from server.live.protocol import Protocol, Session, SharedReader
from server.metrics import SNAPSHOT

SHARED_TTL_S = 0.5


class Snapshots:
    """Snapshots as tablets receive them, with the meeting-wide parts made once."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._kept: dict[tuple[int, str], tuple[int, float, asyncio.Future[Any]]] = {}

    async def message(self, db: AsyncSession, session: Session, seq: int) -> str:
        """`{"type":"snapshot","seq":…,"state":{…}}` for `session`, read in the caller's
        (one) transaction so the parts agree with each other."""
        began = time.perf_counter()
        fields = [f'"type":"snapshot","seq":{seq}']
        for shared in self._protocol.shared_parts:
            text = await self.shared(db, session, seq, shared.name, _serialized(shared.read))
            fields.append(f"{dumps(shared.name)}:{text}")
        for part in self._protocol.parts:
            fields.append(f"{dumps(part.name)}:{dumps(await part.read(db, session, seq))}")
        head, *state = fields
        text = "{" + head + ',"state":{' + ",".join(state) + "}}"
        SNAPSHOT.observe(time.perf_counter() - began)
        return text

    async def shared(
        self, db: AsyncSession, session: Session, seq: int, name: str, read: SharedReader
    ) -> Any:
        """`read(db, state, meeting_id)`, once for every tablet at the same journal position
        (and within `SHARED_TTL_S`); tablets that come while it is read wait for that read."""
        key = (session.meeting_id, name)
        while (kept := self._kept.get(key)) and kept[0] == seq and kept[1] > time.monotonic():
            try:
                return await asyncio.shield(kept[2])
            except _Abandoned:
                continue  # its reader went away mid-read: read it here
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._kept[key] = (seq, time.monotonic() + SHARED_TTL_S, future)
        try:
            future.set_result(await read(db, session.state, session.meeting_id))
        except BaseException as failure:
            if self._kept.get(key, (0, 0, None))[2] is future:
                del self._kept[key]
            future.set_exception(failure if isinstance(failure, Exception) else _Abandoned())
            future.exception()  # retrieved: only the waiters, if any, raise it
            raise
        return future.result()


class _Abandoned(Exception):
    """The tablet reading a shared part was cancelled (it hung up) before it finished."""


def _serialized(read: SharedReader) -> SharedReader:
    async def serialized(db: AsyncSession, state: House, meeting_id: int) -> str:
        return dumps(await read(db, state, meeting_id))

    return serialized
