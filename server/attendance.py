"""Attendance: who is in the session (checked in by device or by the secretary), who is
connected right now, and how that stands against the quorum."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Request, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council, journal, recordings
from server.access import meeting_permission
from server.errors import AppError
from server.house import House, house_of
from server.live.protocol import Command, Live, Refusal, Session, SharedPart, field_of
from server.models import (
    Attendance,
    Invitation,
    Meeting,
    MeetingRole,
    MeetingStatus,
    Participant,
    User,
    utcnow,
)

STATUSES = ("present", "remote", "excused", "absent")
MEMBERS = council.VOTERS  # who counts toward the quorum


async def mark(
    db: AsyncSession,
    meeting_id: int,
    user_id: int,
    status: str,
    reason: str,
    by: int,
) -> Any:
    """Sets one person's attendance and journals it; None when nothing changed."""
    row = (
        await db.exec(
            select(Attendance).where(
                Attendance.meeting_id == meeting_id, Attendance.user_id == user_id
            )
        )
    ).first() or Attendance(meeting_id=meeting_id, user_id=user_id)
    if row.id is not None and (row.status, row.reason) == (status, reason):
        return None
    row.status, row.reason, row.updated_at = status, reason, utcnow()
    if status in ("present", "remote") and row.checked_in_at is None:
        row.checked_in_at = utcnow()
    db.add(row)
    await db.flush()
    payload = {
        "user_id": user_id,
        "status": status,
        "reason": reason,
        "by": by,
        "quorum": quorum(
            await _member_statuses(db, meeting_id), await council.membership(db, meeting_id)
        ),
    }
    return await journal.append(db, meeting_id, "attendance.changed", payload, by)


async def _member_statuses(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    rows = await db.exec(
        select(Participant.role, Attendance.status)
        .outerjoin(
            Attendance,
            (col(Attendance.user_id) == Participant.user_id)
            & (col(Attendance.meeting_id) == Participant.meeting_id),
        )
        .where(Participant.meeting_id == meeting_id)
    )
    return [{"role": role, "status": status or "absent"} for role, status in rows.all()]


async def check_in(session: Session) -> None:
    """A member who opens a live meeting on a device is there (a ward point, remotely)."""
    if session.access.role not in (*MEMBERS, MeetingRole.ward_point, MeetingRole.secretary):
        return
    async with session.state.db_read() as db:  # most connections change nothing: read first
        meeting = await db.get_one(Meeting, session.meeting_id)
        current = (
            await db.exec(
                select(Attendance.status).where(
                    Attendance.meeting_id == session.meeting_id,
                    Attendance.user_id == session.user_id,
                )
            )
        ).first()
    if meeting.status != MeetingStatus.live or current in ("present", "remote"):
        return
    status = "remote" if session.access.role == MeetingRole.ward_point else "present"
    try:
        async with session.state.db() as db:
            event = await mark(db, session.meeting_id, session.user_id, status, "", session.user_id)
            await db.commit()
    except IntegrityError:  # another device of theirs, maybe on another server, was first
        return
    if event is not None:
        session.hub.publish_event(event)


async def came_online(session: Session) -> None:
    await session.state.presence.arrived(session.meeting_id, session.user_id)
    if session.access.meeting.status == MeetingStatus.live:  # as read a moment ago; a start
        await check_in(session)  # after it reaches the tablet, which says attendance.here


async def went_offline(session: Session) -> None:
    await session.state.presence.departed(session.meeting_id, session.user_id)


async def here(session: Session, message: dict[str, Any]) -> None:
    """Sent by a tablet when the session starts while it is already open."""
    await check_in(session)


async def set_attendance(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """The secretary marks someone present, remote, excused or absent (with a reason)."""
    user_id = field_of(message, "user_id", int)
    status = message.get("status")
    reason = message.get("reason", "")
    if status not in STATUSES or not isinstance(reason, str) or len(reason) > 300:
        raise Refusal("bad_attendance", "Choose present, remote, excused or absent.")
    async with session.state.db() as db:
        await _participant(db, session.meeting_id, user_id)
        event = await mark(db, session.meeting_id, user_id, status, reason.strip(), session.user_id)
        await db.commit()
    if event is None:
        return {"unchanged": True}
    session.hub.publish_event(event)
    return {"seq": event.seq}


async def _participant(db: AsyncSession, meeting_id: int, user_id: int) -> Participant:
    row = (
        await db.exec(
            select(Participant).where(
                Participant.meeting_id == meeting_id, Participant.user_id == user_id
            )
        )
    ).first()
    if row is None:
        raise Refusal("not_a_participant", "That person is not part of this meeting.")
    return row


async def attendance_state(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any]:
    """Everyone's attendance, who is connected (to any server), and the quorum count."""
    rows = await db.exec(
        select(Participant, User, Attendance, Invitation.reply)
        .join(User, col(User.id) == Participant.user_id)
        .outerjoin(
            Attendance,
            (col(Attendance.user_id) == Participant.user_id)
            & (col(Attendance.meeting_id) == Participant.meeting_id),
        )
        .outerjoin(
            Invitation,
            (col(Invitation.user_id) == Participant.user_id)
            & (col(Invitation.meeting_id) == Participant.meeting_id),
        )
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.role, User.full_name)
    )
    online = await state.presence.online(meeting_id)
    people = [
        {
            "user_id": user.id,
            "name": user.full_name,
            "role": participant.role,
            "status": attendance.status if attendance else "absent",
            "reason": attendance.reason if attendance else "",
            "online": user.id in online,
            "expected": reply or "",  # the reply to the giấy mời (server/invitations.py)
        }
        for participant, user, attendance, reply in rows.all()
    ]
    return {"people": people, "quorum": quorum(people, await council.membership(db, meeting_id))}


async def meeting_state(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any]:
    meeting = await db.get_one(Meeting, meeting_id)
    return {"status": meeting.status, "title": meeting.title}


def quorum(people: list[dict[str, Any]], membership: council.Membership) -> dict[str, Any]:
    """Members present (or remote) against what the law asks of the body: two thirds of all
    delegates for an HĐND session, more than half of all members for a UBND."""
    here = [p for p in people if p["role"] in MEMBERS and p["status"] in ("present", "remote")]
    present = len(here)
    needed = council.quorum_needed(membership.kind, membership.total)
    return {
        "members": membership.total,
        "present": present,
        "needed": needed,
        "met": present >= needed,
        "kind": membership.kind,
    }


class MeetingStatusNow(TypedDict):
    status: str


class SessionState(MeetingStatusNow, total=False):
    """The meeting's status after `start` or `end`, with the journal's `seq` when it changed."""

    seq: int
    unchanged: bool


@post(
    "/api/meetings/{meeting_id:int}/session/{action:str}",
    guards=[meeting_permission],
    opt={"permission": "preside"},
    status_code=HTTP_200_OK,
)
async def open_or_close(
    request: Request, meeting_id: FromPath[int], action: FromPath[str]
) -> SessionState:
    """`start` makes the meeting live (devices check in); `end` closes it."""
    if action not in ("start", "end"):
        raise AppError(404, "not_found", "Not found: {what}.", what=action)
    state = house_of(request)
    status = MeetingStatus.live if action == "start" else MeetingStatus.closed
    async with state.db() as db:
        meeting = await db.get_one(Meeting, meeting_id)
        if meeting.status == status:
            return {"status": status, "unchanged": True}
        meeting.status = status
        meeting.updated_at = utcnow()
        db.add(meeting)
        kind = "meeting.started" if action == "start" else "meeting.ended"
        event = await journal.append(db, meeting_id, kind, {"status": status}, request.user.id)
        await db.commit()
    state.hub.publish_event(event)
    await recordings.follow_session(request, meeting_id, live=status == MeetingStatus.live)
    return {"status": status, "seq": event.seq}


ROUTES = [open_or_close]

LIVE = Live(
    commands=[
        Command("attendance.here", here),
        Command("attendance.set", set_attendance, "manage"),
    ],
    shared_parts=[
        SharedPart("attendance", attendance_state),
        SharedPart("meeting", meeting_state),
    ],
    on_connect=[came_online],
    on_disconnect=[went_offline],
)
