"""A meeting set up in minutes: participants from the council's roster, people found by name,
the chair and the secretary picked from those who may hold the role, and a copy of a meeting
for the session that repeats every month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.render import fold
from server.access import MeetingAccess, may_chair, may_copy
from server.errors import AppError, forbidden
from server.meetings import rules
from server.models import (
    AgendaItem,
    Meeting,
    MeetingRole,
    MeetingStatus,
    Member,
    Participant,
    User,
)

MAX_FOUND = 12


def id_of(row: Meeting | User) -> int:
    """The id of a row read from the database (only a row not yet flushed has none)."""
    assert row.id is not None
    return row.id


@dataclass(frozen=True)
class RosterAdded:
    """What one "add the roster" did: who came in, who was already there, who was left out
    because their account is deactivated."""

    added: int
    already: int
    inactive: int

    def json(self) -> dict[str, int]:
        return {"added": self.added, "already": self.already, "inactive": self.inactive}


async def roster(db: AsyncSession, body_id: int, group: str = "") -> list[tuple[Member, User]]:
    query = (
        select(Member, User)
        .join(User, col(User.id) == Member.user_id)
        .where(Member.body_id == body_id)
        .order_by(col(Member.position), col(User.full_name))
    )
    if group:
        query = query.where(Member.group == group)
    return list((await db.exec(query)).all())


async def roster_groups(db: AsyncSession, body_id: int) -> list[str]:
    """The council's groups (tổ đại biểu), in name order."""
    rows = await db.exec(
        select(Member.group).where(Member.body_id == body_id, Member.group != "").distinct()
    )
    return sorted(rows.all())


async def add_roster(
    db: AsyncSession, meeting: Meeting, *, group: str = "", role: str = MeetingRole.delegate
) -> RosterAdded:
    """Adds every member of the council's roster, or of one group, at their roster seat."""
    group = group.strip()
    if role not in MeetingRole.__members__:
        raise AppError(400, "bad_role", "Unknown meeting role: {role}.", role=role)
    if role == MeetingRole.chair:
        raise AppError(400, "one_chair", "A meeting has one chair: pick them in the details.")
    if group and group not in await roster_groups(db, meeting.body_id):
        raise AppError(400, "no_such_group", "The roster has no group named {group}.", group=group)
    members = await roster(db, meeting.body_id, group)
    if not members:
        raise AppError(
            400, "empty_roster", "The council's roster is empty: the administrator fills it in."
        )
    present = await _taking_part(db, id_of(meeting))
    added = already = inactive = 0
    for member, user in members:
        if user.id in present:
            already += 1
        elif not user.active:
            inactive += 1
        else:
            user_id = id_of(user)
            db.add(
                Participant(meeting_id=id_of(meeting), user_id=user_id, role=role, seat=member.seat)
            )
            present.add(user_id)
            added += 1
    await db.commit()
    return RosterAdded(added, already, inactive)


@dataclass(frozen=True)
class Found:
    """One person the picker offers."""

    user: User
    member: Member | None  # their line in this council's roster
    taking_part: bool  # already a participant of the meeting


def _matches(words: list[str], user: User) -> bool:
    name = fold(user.full_name)
    return all(w in name or w in user.username for w in words)


async def find_people(db: AsyncSession, meeting: Meeting, query: str) -> list[Found]:
    """Active accounts whose name (diacritics optional: "nguyen van an" finds "Nguyễn Văn An")
    or username holds every word of `query`; the council's roster first."""
    words = fold(query).split()[:6]
    if not words:
        return []
    members = {
        m.user_id: m for m in await db.exec(select(Member).where(Member.body_id == meeting.body_id))
    }
    present = await _taking_part(db, id_of(meeting))
    users = await db.exec(select(User).where(User.active).order_by(User.full_name))
    found = [Found(u, members.get(id_of(u)), u.id in present) for u in users if _matches(words, u)]
    found.sort(key=lambda f: (f.member is None, f.user.body_id != meeting.body_id))
    return found[:MAX_FOUND]


async def _taking_part(db: AsyncSession, meeting_id: int) -> set[int]:
    rows = await db.exec(select(Participant.user_id).where(Participant.meeting_id == meeting_id))
    return set(rows.all())


def by_seat(people: list[tuple[Participant, User]]) -> list[tuple[Participant, User]]:
    """As the hall is seated: the chair and the secretary first, then by seat number, the
    unseated last, each by name."""
    rank: dict[str, int] = {role.value: n for n, role in enumerate(MeetingRole)}
    return sorted(
        people,
        key=lambda pu: (
            rank.get(pu[0].role, len(rank)),
            not pu[0].seat,
            pu[0].seat.zfill(8),
            fold(pu[1].full_name),
        ),
    )


# --- the chair and the secretary ---------------------------------------------------------


async def chair_choices(db: AsyncSession, meeting: Meeting) -> list[tuple[Participant, User]]:
    """Participants who may preside."""
    return [(p, u) for p, u in await rules.participants(db, id_of(meeting)) if may_chair(u, p.role)]


def chair_of(people: list[tuple[Participant, User]]) -> int | None:
    return next((u.id for p, u in people if p.role == MeetingRole.chair), None)


async def set_chair(db: AsyncSession, meeting: Meeting, user_id: int | None) -> None:
    """Seats `user_id` as the meeting's chair; whoever presided before becomes a delegate.
    None leaves the meeting without a chair."""
    people = await rules.participants(db, id_of(meeting))
    chosen = next(((p, u) for p, u in people if u.id == user_id), None)
    if user_id is not None:
        if chosen is None:
            raise AppError(
                400, "chair_not_participant", "The chair must be a participant of the meeting."
            )
        if not may_chair(chosen[1], chosen[0].role):
            raise AppError(
                400,
                "bad_chair",
                "{name} cannot preside: the chair is an active delegate of the meeting.",
                name=chosen[1].full_name or chosen[1].username,
            )
    for participant, user in people:
        role = MeetingRole.chair if user.id == user_id else MeetingRole.delegate
        if participant.role == MeetingRole.chair or user.id == user_id:
            participant.role = role
            db.add(participant)
    await db.commit()


# --- copy --------------------------------------------------------------------------------


async def copy_meeting(
    db: AsyncSession, user: User, access: MeetingAccess, *, title: str, starts_at: datetime
) -> Meeting:
    """A new draft with the same council, place, agenda (tree and order), participants and
    secretary; documents, votes, journal, attendance and minutes stay with the original."""
    if not may_copy(access, user):
        raise forbidden()
    source = access.meeting
    copy = Meeting(
        body_id=source.body_id,
        title=rules.required(title, "title"),
        starts_at=starts_at,
        place=source.place,
        description=source.description,
        status=MeetingStatus.draft,
        created_by=user.id,
        secretary_id=source.secretary_id,
    )
    db.add(copy)
    await db.flush()
    await _copy_agenda(db, rules.agenda_tree(await rules.agenda_items(db, id_of(source))), copy)
    for participant, _ in await rules.participants(db, id_of(source)):
        db.add(
            Participant(
                meeting_id=id_of(copy),
                user_id=participant.user_id,
                role=participant.role,
                seat=participant.seat,
                vote_weight=participant.vote_weight,
            )
        )
    await db.commit()
    return copy


async def _copy_agenda(
    db: AsyncSession, nodes: list[dict[str, Any]], copy: Meeting, parent_id: int | None = None
) -> None:
    for position, node in enumerate(nodes):
        item: AgendaItem = node["item"]
        new = AgendaItem(
            meeting_id=id_of(copy),
            parent_id=parent_id,
            position=position,
            title=item.title,
            presenter=item.presenter,
            duration_minutes=item.duration_minutes,
            notes=item.notes,
        )
        db.add(new)
        await db.flush()
        await _copy_agenda(db, node["children"], copy, new.id)
