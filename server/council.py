"""What the law sets for a council: its membership, the default majority and the quorum.

Law on Organisation of Local Government: an HĐND resolution passes with more than half of
*all* delegates of the council, dismissal needs at least two thirds of all delegates, and a
session may proceed with at least two thirds of all delegates present; a UBND decides with
more than half of all its members. "All" is the body's total membership (`Body.members`),
not those present and not those voting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.models import Attendance, Body, BodyKind, Meeting, MeetingRole, Participant

VOTERS = (MeetingRole.chair, MeetingRole.delegate)
MAX_MEMBERS = 10_000
DEFAULT_MAJORITY = {
    BodyKind.hdnd: ("members", "half"),
    BodyKind.ubnd: ("members", "half"),
    BodyKind.other: ("cast", "half"),
}
QUORUM_SHARE = {  # None: more than half; a fraction: at least that share
    BodyKind.hdnd: Fraction(2, 3),
    BodyKind.ubnd: None,
    BodyKind.other: Fraction(2, 3),
}


@dataclass(frozen=True)
class Membership:
    """A meeting's council as the rules count it."""

    kind: str
    total: int
    """All delegates (or members) of the body: `Body.members`, else the meeting's voters."""
    voters: int
    """The vote weight of the meeting's voting participants: the most a vote can gather."""


def at_least(share: Fraction | None, base: int) -> int:
    """The smallest count that meets `share` of `base` (None: more than half)."""
    if share is None:
        return base // 2 + 1
    return max(1, math.ceil(share * base))


def quorum_needed(kind: str, total: int) -> int:
    return at_least(QUORUM_SHARE.get(kind, Fraction(2, 3)), total)


async def voters_weight(db: AsyncSession, meeting_id: int, present_only: bool = False) -> int:
    query = select(sa.func.coalesce(sa.func.sum(Participant.vote_weight), 0)).where(
        Participant.meeting_id == meeting_id, col(Participant.role).in_(VOTERS)
    )
    if present_only:
        present = select(Attendance.user_id).where(
            Attendance.meeting_id == meeting_id,
            col(Attendance.status).in_(("present", "remote")),
        )
        query = query.where(col(Participant.user_id).in_(present))
    return int((await db.exec(query)).one())


async def membership(db: AsyncSession, meeting_id: int) -> Membership:
    body = (
        await db.exec(
            select(Body)
            .join(Meeting, col(Meeting.body_id) == Body.id)
            .where(Meeting.id == meeting_id)
        )
    ).one()
    voters = await voters_weight(db, meeting_id)
    return Membership(body.kind, body.members or voters, voters)
