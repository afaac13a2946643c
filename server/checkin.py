"""Check-in at the door: the secretary reads the QR code of a delegate's giấy mời (or finds
them by name) and they are present at once on every console, through `attendance.mark`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.render import fold
from server import attendance
from server.access import meeting_permission
from server.errors import AppError
from server.house import house_of
from server.i18n import translate
from server.models import (
    Attendance,
    Invitation,
    Meeting,
    MeetingStatus,
    Participant,
    User,
    utcnow,
)

MAX_FOUND = 12
# What an invitation's QR code may hold: its URL `{base}/invitations/{token}` or the token.
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")
HERE = ("present", "remote")


class CodeIn(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=500)]


def token_of(code: str) -> str | None:
    """The token in what the camera read: the invitation's URL or the bare token."""
    code = code.strip()
    if "/invitations/" in code:
        code = code.rsplit("/invitations/", 1)[1]
        code = re.split(r"[/?#]", code, maxsplit=1)[0]
    return code if TOKEN.fullmatch(code) else None


def _refused_code() -> AppError:
    return AppError(
        404,
        "unknown_invitation",
        "This QR code is not an invitation we issued (forged, damaged or mistyped); "
        "nobody was checked in.",
    )


async def _invitation(db: AsyncSession, code: str, meeting_id: int) -> Invitation:
    token = token_of(code)
    found = None
    if token is not None:
        found = (await db.exec(select(Invitation).where(Invitation.token == token))).first()
    if found is None:
        raise _refused_code()
    if found.meeting_id != meeting_id:
        raise AppError(
            409,
            "other_meeting",
            "This is an invitation to another meeting, not to this one; nobody was checked in.",
        )
    return found


async def _person(db: AsyncSession, meeting_id: int, user_id: int) -> tuple[Participant, User]:
    found = (
        await db.exec(
            select(Participant, User)
            .join(User, col(User.id) == Participant.user_id)
            .where(Participant.meeting_id == meeting_id, Participant.user_id == user_id)
        )
    ).first()
    if found is None:
        raise AppError(
            409,
            "not_a_participant",
            "That person is not a participant of this meeting; nobody was checked in.",
        )
    if not found[1].active:
        raise AppError(
            409, "account_inactive", "That account is deactivated; nobody was checked in."
        )
    return found[0], found[1]


async def _not_here_yet(request: Request, db: AsyncSession, meeting_id: int, user: User) -> None:
    """Already present (by either path) is said with its time; someone marked online may
    still come in person."""
    row = (
        await db.exec(
            select(Attendance).where(
                Attendance.meeting_id == meeting_id, Attendance.user_id == user.id
            )
        )
    ).first()
    if row is not None and row.status == "present":
        raise _already(request, user, row.checked_in_at)


def _open(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.closed:
        raise AppError(409, "session_ended", "The session has ended; check-in is closed.")


def _clock(request: Request, at: datetime) -> str:
    return at.astimezone(house_of(request).settings.tz).strftime("%H:%M")


def _already(request: Request, user: User, at: datetime | None) -> AppError:
    if at is None:  # marked present with no time kept (before check-in times were kept)
        return AppError(
            409, "already_checked_in", "{name} is already checked in.", name=_name(user)
        )
    return AppError(
        409,
        "already_checked_in",
        "{name} already checked in at {time}; nothing was changed.",
        name=_name(user),
        time=_clock(request, at),
    )


def _name(user: User) -> str:
    return user.full_name or user.username


class Arrived(TypedDict):
    """Who was marked present, when, and the line the desk shows."""

    user_id: int | None
    name: str
    status: str
    checked_in_at: str
    time: str
    seq: int | None
    message: str


class ParticipantFound(TypedDict):
    user_id: int | None
    name: str
    username: str
    role: str
    seat: str
    status: str
    time: str


async def _arrive(
    request: Request, db: AsyncSession, meeting_id: int, user: User, at: datetime
) -> Arrived:
    """Marks `user` present (journaled), commits and tells every console."""
    assert user.id is not None
    try:
        event = await attendance.mark(db, meeting_id, user.id, "present", "", request.user.id)
        await db.commit()
    except IntegrityError as exc:  # their tablet checked them in at this very moment
        await db.rollback()
        raise AppError(
            409,
            "try_again",
            "{name} was marked at this very moment; try once more.",
            name=_name(user),
        ) from exc
    if event is not None:
        house_of(request).hub.publish_event(event)
    time = _clock(request, at)
    return {
        "user_id": user.id,
        "name": _name(user),
        "status": "present",
        "checked_in_at": at.isoformat(),
        "time": time,
        "seq": event.seq if event is not None else None,
        "message": translate(request, "Checked in: {name} — {time}", name=_name(user), time=time),
    }


@post(
    "/api/meetings/{meeting_id:int}/checkin",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_200_OK,
)
async def check_in_by_code(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    data: JSONBody[CodeIn],
) -> Arrived:
    """The QR code of a giấy mời, read at the door: its invitee is present. A code that is no
    invitation (404), another meeting's (409) or one already used (409) keeps nothing."""
    meeting = await db.get_one(Meeting, meeting_id)
    _open(meeting)
    invitation = await _invitation(db, data.code, meeting_id)
    _, user = await _person(db, meeting_id, invitation.user_id)
    if invitation.checked_in_at is not None:
        raise _already(request, user, invitation.checked_in_at)
    await _not_here_yet(request, db, meeting_id, user)
    at = utcnow()
    # Two scanners reading one code at once: only the first sets the time.
    used = await db.exec(  # type: ignore[call-overload]
        sa.update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.checked_in_at).is_(None))
        .values(checked_in_at=at)
    )
    if used.rowcount != 1:
        await db.rollback()
        await db.refresh(invitation)
        raise _already(request, user, invitation.checked_in_at)
    return await _arrive(request, db, meeting_id, user, at)


@post(
    "/api/meetings/{meeting_id:int}/checkin/people/{user_id:int}",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_200_OK,
)
async def check_in_by_name(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    user_id: FromPath[int],
) -> Arrived:
    """The secretary found the person by name: present, with their invitation's check-in
    time set when they have one (its QR code then says it was used)."""
    meeting = await db.get_one(Meeting, meeting_id)
    _open(meeting)
    _, user = await _person(db, meeting_id, user_id)
    await _not_here_yet(request, db, meeting_id, user)
    at = utcnow()
    await db.exec(  # type: ignore[call-overload]
        sa.update(Invitation)
        .where(
            col(Invitation.meeting_id) == meeting_id,
            col(Invitation.user_id) == user_id,
            col(Invitation.checked_in_at).is_(None),
        )
        .values(checked_in_at=at)
    )
    return await _arrive(request, db, meeting_id, user, at)


@get(
    "/api/meetings/{meeting_id:int}/checkin/people",
    guards=[meeting_permission],
    opt={"permission": "manage"},
)
async def find_participants(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    q: FromQuery[str] = "",
) -> list[ParticipantFound]:
    """Participants whose name (diacritics optional: "nguyen van an" finds "Nguyễn Văn An")
    or username holds every word of `q`, with their attendance now."""
    words = fold(q[:200]).split()[:6]
    if not words:
        return []
    rows = await db.exec(
        select(Participant, User, Attendance)
        .join(User, col(User.id) == Participant.user_id)
        .outerjoin(
            Attendance,
            (col(Attendance.user_id) == Participant.user_id)
            & (col(Attendance.meeting_id) == Participant.meeting_id),
        )
        .where(Participant.meeting_id == meeting_id)
        .order_by(User.full_name)
    )
    found: list[ParticipantFound] = []
    for participant, user, row in rows.all():
        name = fold(user.full_name)
        if not all(w in name or w in user.username for w in words):
            continue
        here = row is not None and row.status in HERE
        at = row.checked_in_at if here and row is not None else None
        found.append(
            {
                "user_id": user.id,
                "name": _name(user),
                "username": user.username,
                "role": participant.role,
                "seat": participant.seat,
                "status": row.status if row is not None else "absent",
                "time": _clock(request, at) if at else "",
            }
        )
    return found[:MAX_FOUND]


ROUTES = [check_in_by_code, check_in_by_name, find_participants]
