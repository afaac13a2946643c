"""The meeting journal: every change of a live meeting, numbered per meeting, never rewritten."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db import session_maker
from server.models import JournalEvent, Meeting


async def append(
    db: AsyncSession,
    meeting_id: int,
    type: str,
    payload: dict[str, Any],
    actor_id: int | None,
    private_to: int | None = None,
) -> JournalEvent:
    """Adds an event with the meeting's next `seq`, in the caller's transaction (commit is theirs).

    Bumping `Meeting.last_seq` in the same transaction serializes writers of one meeting, so
    the sequence has no gaps and no repeats whichever process writes.
    """
    bump = (
        sa.update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(last_seq=Meeting.last_seq + 1)
        .returning(Meeting.last_seq)
    )
    seq = (await db.exec(bump)).scalar_one()  # type: ignore[call-overload]
    event = JournalEvent(
        meeting_id=meeting_id,
        seq=seq,
        type=type,
        payload=payload,
        actor_id=actor_id,
        private_to=private_to,
    )
    db.add(event)
    return event


class Reader:
    """Reads the journal for the live hub, which fills holes in what the channel delivered."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_maker(engine.execution_options(phonghop_read_only=True))

    async def last_seq(self, meeting_id: int) -> int:
        async with self._sessions() as db:
            meeting = await db.get(Meeting, meeting_id)
            return meeting.last_seq if meeting is not None else 0

    async def between(self, meeting_id: int, after: int, before: int) -> list[JournalEvent]:
        """The meeting's events with `after` < seq < `before`, in order."""
        async with self._sessions() as db:
            rows = await db.exec(
                select(JournalEvent)
                .where(
                    JournalEvent.meeting_id == meeting_id,
                    JournalEvent.seq > after,
                    JournalEvent.seq < before,
                )
                .order_by(JournalEvent.seq)
            )
            return list(rows.all())
