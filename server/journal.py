"""The meeting journal: every change of a live meeting, numbered per meeting, never rewritten."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

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
