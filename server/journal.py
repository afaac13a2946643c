"""The meeting journal: every change of a live meeting, numbered per meeting, never rewritten."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import chain
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
    the sequence has no gaps and no repeats whichever process writes; the previous event's
    hash, read after the bump, is the one this event chains to (server/chain.py).
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
    previous = await _hash_at(db, meeting_id, seq - 1)
    event.hash = chain.event_hash(
        previous, meeting_id, seq, type, payload, actor_id, private_to, event.at
    )
    db.add(event)
    return event


async def _hash_at(db: AsyncSession, meeting_id: int, seq: int) -> str:
    """The hash of the meeting's event `seq` ("" before the first), also when this
    transaction appended it and has not flushed it yet."""
    if seq < 1:
        return chain.GENESIS
    for pending in db.new:
        if (
            isinstance(pending, JournalEvent)
            and pending.meeting_id == meeting_id
            and pending.seq == seq
        ):
            return pending.hash
    found = await db.exec(
        select(JournalEvent.hash).where(
            JournalEvent.meeting_id == meeting_id, JournalEvent.seq == seq
        )
    )
    return found.first() or chain.GENESIS


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


# --- is the chain whole? -----------------------------------------------------------------


async def verify_meeting(db: AsyncSession, meeting_id: int) -> chain.Verdict:
    """Walks the meeting's chain; the rows are read as plain tuples and hashed in a worker
    thread, so a long journal does not hold the event loop."""
    rows = await db.exec(
        select(  # type: ignore[call-overload]
            JournalEvent.meeting_id,
            JournalEvent.seq,
            JournalEvent.type,
            JournalEvent.payload,
            JournalEvent.actor_id,
            JournalEvent.private_to,
            JournalEvent.at,
            JournalEvent.hash,
        )
        .where(JournalEvent.meeting_id == meeting_id)
        .order_by(JournalEvent.seq)
    )
    listed = [chain.Row(*row) for row in rows.all()]
    last_seq = (await db.exec(select(Meeting.last_seq).where(Meeting.id == meeting_id))).first()
    return await asyncio.to_thread(chain.verify, meeting_id, listed, last_seq)


async def hash_at(db: AsyncSession, meeting_id: int, seq: int) -> str:
    """The stored hash of the meeting's event `seq` ("" before the first)."""
    return await _hash_at(db, meeting_id, seq)


PROBLEMS = {
    "changed": "dòng đã bị sửa (không khớp mã băm)",
    "missing": "thiếu sự kiện (dòng đã bị xóa)",
    "reordered": "thứ tự bị đảo",
}


def say(verdict: chain.Verdict) -> str:
    """The verdict in Vietnamese, as `phonghop journal verify` prints it."""
    if verdict.broken is None:
        return (
            f"chuỗi nhật ký nguyên vẹn: {verdict.events} sự kiện, "
            f"đầu chuỗi {verdict.head_hash[: chain.SHORT] or '(trống)'}"
        )
    broken = verdict.broken
    words = PROBLEMS.get(broken.problem, broken.problem)
    return (
        f"CHUỖI NHẬT KÝ BỊ PHÁ VỠ tại sự kiện #{broken.seq}: {words} ({broken.detail}); "
        f"{verdict.events} sự kiện đầu còn nguyên vẹn"
    )
