"""Who may do what: global account roles, per-meeting roles, and the guards that check them."""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.errors import AppError, forbidden, not_found
from server.house import house_of
from server.models import (
    AgendaItem,
    Document,
    Meeting,
    MeetingRole,
    Member,
    Participant,
    Role,
    User,
    Vote,
)

COUNCIL_LEADERS = ("chủ tịch", "phó chủ tịch")
# What each meeting role may do. Accounts that run the body's meetings count as secretary.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(MeetingRole),
    "manage": frozenset({MeetingRole.secretary}),
    "preside": frozenset({MeetingRole.chair, MeetingRole.secretary}),
    "vote": frozenset({MeetingRole.chair, MeetingRole.delegate}),
    "speak": frozenset({MeetingRole.chair, MeetingRole.delegate, MeetingRole.ward_point}),
    "conference": frozenset({MeetingRole.chair, MeetingRole.secretary, MeetingRole.ward_point}),
}


@dataclass(frozen=True)
class MeetingAccess:
    """The caller's standing in one meeting."""

    meeting: Meeting
    role: str | None  # participant role, None when not a participant
    runs_body: bool  # an admin, or a secretary account of the meeting's body

    def roles(self) -> set[str]:
        held = {self.role} if self.role else set()
        if self.runs_body:
            held.add(MeetingRole.secretary)
        return held

    def can(self, permission: str) -> bool:
        return bool(self.roles() & PERMISSIONS[permission])


def runs_body(user: User, body_id: int) -> bool:
    return _runs(user.role, user.body_id, body_id)


def _runs(account_role: str, account_body: int | None, body_id: int) -> bool:
    if account_role == Role.admin:
        return True
    return account_role == Role.secretary and account_body == body_id


def founds_first_council(user: User) -> bool:
    """Who may name the install's first council with its first meeting: an admin, or a
    secretary who belongs to no council yet (and then runs the one they name)."""
    return user.role == Role.admin or (user.role == Role.secretary and user.body_id is None)


def may_copy(access: MeetingAccess, user: User) -> bool:
    """Copying a meeting makes a new one: the caller must manage this one and create meetings
    in its council (a participant secretary from elsewhere may not)."""
    return access.can("manage") and runs_body(user, access.meeting.body_id)


def may_keep_minutes(user: User, body_id: int, meeting_role: str | None) -> bool:
    """Who may be named a meeting's secretary (thư ký kỳ họp): an active secretary account of
    its council (or of none), or a participant the meeting gave the secretary's role."""
    if not user.active:
        return False
    if meeting_role == MeetingRole.secretary:
        return True
    return user.role == Role.secretary and user.body_id in (None, body_id)


def may_chair(user: User, meeting_role: str | None) -> bool:
    """Who may preside (chủ tọa): an active participant seated as chair or delegate, whose
    account is a person's, not a ward point's or an observer's."""
    return (
        user.active
        and meeting_role in (MeetingRole.chair, MeetingRole.delegate)
        and user.role not in (Role.ward, Role.observer)
    )


@dataclass(frozen=True)
class CouncilStanding:
    """The caller's standing in a council between sessions (written votes)."""

    member: bool  # on its roster with an active person's account: is asked and answers
    drafts: bool  # may draft a written vote: its secretary, an admin, or one who leads it
    leads: bool  # may send one and close it: a Chủ tịch or Phó Chủ tịch on its roster


async def council_standing(db: AsyncSession, user: User, body_id: int) -> CouncilStanding:
    """Read from the roster every time: who leads is the title on this council's roster, e.g.
    "Chủ tịch HĐND phường" — the standing committee that puts questions in writing. (Not the
    account's title: a Chủ tịch UBND seated on the HĐND does not lead the HĐND.)"""
    seat = (
        await db.exec(select(Member).where(Member.body_id == body_id, Member.user_id == user.id))
    ).first()
    member = seat is not None and user.active and user.role not in (Role.ward, Role.observer)
    title = unicodedata.normalize("NFC", seat.title if seat else "").strip().lower()
    leads = member and title.startswith(COUNCIL_LEADERS)
    return CouncilStanding(member, leads or runs_body(user, body_id), leads)


async def meeting_access(db: AsyncSession, user: User, meeting_id: int) -> MeetingAccess:
    """The caller's access to a meeting; 404 when it does not exist or they cannot see it."""
    found = (
        await db.exec(
            select(Meeting, Participant.role)
            .outerjoin(
                Participant,
                (col(Participant.meeting_id) == Meeting.id) & (Participant.user_id == user.id),
            )
            .where(Meeting.id == meeting_id)
        )
    ).first()
    if found is None:
        raise not_found("meeting")
    meeting, role = found
    access = MeetingAccess(meeting, role, runs_body(user, meeting.body_id))
    if not access.can("view"):
        raise not_found("meeting")  # do not reveal meetings the caller is not part of
    return access


@dataclass(frozen=True)
class Standing:
    """What an open socket may do now: its access, or None when it must be closed."""

    access: MeetingAccess | None
    credential: str  # the account's password hash: a reset changes it


async def standings(
    db: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], Standing]:
    """The access of each (meeting, user) pair, read afresh in three queries, by the same rule
    as `meeting_access`; an inactive account or a meeting gone has none."""
    meeting_ids = {m for m, _ in pairs}
    user_ids = {u for _, u in pairs}
    meetings = {
        m.id: m for m in (await db.exec(select(Meeting).where(col(Meeting.id).in_(meeting_ids))))
    }
    accounts = {
        row.id: row
        for row in await db.exec(
            select(User.id, User.active, User.role, User.body_id, User.password_hash).where(
                col(User.id).in_(user_ids)
            )
        )
    }
    roles = {
        (m, u): role
        for m, u, role in await db.exec(
            select(Participant.meeting_id, Participant.user_id, Participant.role).where(
                col(Participant.meeting_id).in_(meeting_ids), col(Participant.user_id).in_(user_ids)
            )
        )
    }
    found = {}
    for meeting_id, user_id in pairs:
        meeting, account = meetings.get(meeting_id), accounts.get(user_id)
        if meeting is None or account is None or not account.active:
            found[meeting_id, user_id] = Standing(None, "")
            continue
        runs = _runs(account.role, account.body_id, meeting.body_id)
        access = MeetingAccess(meeting, roles.get((meeting_id, user_id)), runs)
        found[meeting_id, user_id] = Standing(
            access if access.can("view") else None, account.password_hash
        )
    return found


async def _meeting_id_of(db: AsyncSession, connection: ASGIConnection) -> int:
    params = connection.path_params
    if "meeting_id" in params:
        return int(params["meeting_id"])
    if "item_id" in params:
        item = await db.get(AgendaItem, int(params["item_id"]))
        if item is None:
            raise not_found("agenda item")
        return item.meeting_id
    if "document_id" in params:
        document = await db.get(Document, int(params["document_id"]))
        if document is None:
            raise not_found("document")
        return document.meeting_id
    if "vote_id" in params:
        vote = await db.get(Vote, int(params["vote_id"]))
        if vote is None:
            raise not_found("vote")
        return vote.meeting_id
    raise RuntimeError(f"no meeting in the path of {connection.url.path}")


async def _document_access(connection: ASGIConnection) -> MeetingAccess:
    """Access to a document's meeting, remembered for a few seconds: tablets ask for many
    pages of one document, and each page must not cost three queries."""
    document_id = int(connection.path_params["document_id"])
    key = (connection.user.id, document_id)
    recent = house_of(connection).recent_access
    found = recent.get(key)
    if found is None:
        async with house_of(connection).db_read() as db:
            document = await db.get(Document, document_id)
            if document is None:
                raise not_found("document")
            found = (document, await meeting_access(db, connection.user, document.meeting_id))
        recent.put(key, found)
    connection.state.document = found[0]
    return found[1]


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException()


def account_role(*roles: Role):  # type: ignore[no-untyped-def]
    """Guard: the caller's global role is one of `roles`."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        signed_in(connection, _)
        if connection.user.role not in roles:
            raise forbidden()

    return guard


async def meeting_permission(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: the caller holds `opt["permission"]` in the meeting the path points at.

    The resolved MeetingAccess is kept on the connection's state for the handler.
    """
    signed_in(connection, handler)
    permission = handler.opt.get("permission", "view")
    if "document_id" in connection.path_params and permission == "view":
        access = await _document_access(connection)
    else:
        async with house_of(connection).db_read() as db:
            meeting_id = await _meeting_id_of(db, connection)
            access = await meeting_access(db, connection.user, meeting_id)
    if not access.can(permission):
        raise forbidden()
    connection.state.access = access


admin_only = account_role(Role.admin)


async def keeps_roster(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: the caller runs the council whose roster the path points at (an admin, or a
    secretary of that council); a secretary of another council is refused."""
    signed_in(connection, handler)
    params = connection.path_params
    if "member_id" in params:
        async with house_of(connection).db_read() as db:
            member = await db.get(Member, int(params["member_id"]))
        if member is None:
            raise not_found("roster member")
        body_id = member.body_id
    else:
        body_id = int(params["body_id"])
    if not runs_body(connection.user, body_id):
        raise forbidden()


def _holds(connection: ASGIConnection, key: str) -> bool:
    given = connection.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def recorder_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: the caller is the recorder, holding `Authorization: Bearer <recorder key>`."""
    if not _holds(connection, house_of(connection).settings.recorder_key):
        raise AppError(401, "not_recorder", "Only the recorder may do this.")


def servers_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard of the bridge process: the caller is a server, holding the bridge key."""
    if not _holds(connection, house_of(connection).settings.bridge_key):
        raise AppError(401, "not_server", "Only the servers may call the bridge.")
