"""A council's roster (Member): who sits on it, as what, on which seat, in which group (tổ đại
biểu). An admin or a secretary of that council keeps it (access.keeps_roster)."""

from __future__ import annotations

from typing import Annotated, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, UnsetType
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import keeps_roster
from server.admin.audit import record
from server.errors import AppError, not_found
from server.models import Body, Member, User

Seat = Annotated[str, msgspec.Meta(max_length=32)]
Text = Annotated[str, msgspec.Meta(max_length=200)]


class NewMember(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    title: Text = ""
    seat: Seat = ""
    group: Text = ""


class MemberPatch(msgspec.Struct):
    title: Text | UnsetType = UNSET
    seat: Seat | UnsetType = UNSET
    group: Text | UnsetType = UNSET


class MemberOut(TypedDict):
    id: int | None
    user_id: int | None
    username: str
    full_name: str
    title: str
    seat: str
    group: str


class Done(TypedDict):
    ok: bool


def member_json(member: Member, user: User) -> MemberOut:
    return {
        "id": member.id,
        "user_id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "title": member.title,
        "seat": member.seat,
        "group": member.group,
    }


async def roster_of(db: AsyncSession, body_id: int) -> list[tuple[Member, User]]:
    """The roster in its order: by group, then seat, then name."""
    found = await db.exec(
        select(Member, User)
        .join(User, col(User.id) == Member.user_id)
        .where(Member.body_id == body_id)
        .order_by(col(Member.group), col(Member.position), col(Member.seat), User.full_name)
    )
    return list(found.all())


def _target(body_id: int, user: User) -> str:
    return f"body:{body_id} user:{user.id} {user.username}"


async def add_member(db: AsyncSession, actor: User, body: Body, new: NewMember) -> Member:
    username = new.username.strip().lower()
    user = (await db.exec(select(User).where(User.username == username))).first()
    if user is None:
        raise AppError(404, "no_account", "No account is named {username}.", username=username)
    taken = select(Member.id).where(Member.body_id == body.id, Member.user_id == user.id)
    if (await db.exec(taken)).first() is not None:
        raise AppError(
            409, "already_member", "{name} is on this roster already.", name=user.full_name
        )
    last = select(sa.func.coalesce(sa.func.max(Member.position), 0)).where(
        Member.body_id == body.id
    )
    member = Member(
        body_id=body.id or 0,
        user_id=user.id or 0,
        title=new.title.strip() or user.title,
        seat=new.seat.strip(),
        group=new.group.strip(),
        position=int((await db.exec(last)).one()) + 1,
    )
    db.add(member)
    record(db, actor, "member.add", _target(member.body_id, user), seat=member.seat)
    await db.commit()
    return member


async def get_member(db: AsyncSession, member_id: int) -> tuple[Member, User]:
    member = await db.get(Member, member_id)
    user = await db.get(User, member.user_id) if member else None
    if member is None or user is None:
        raise not_found("roster member")
    return member, user


async def change_member(db: AsyncSession, actor: User, member_id: int, data: MemberPatch) -> Member:
    member, user = await get_member(db, member_id)
    changed = {}
    for field in ("title", "seat", "group"):
        value = getattr(data, field)
        if value is not UNSET and value.strip() != getattr(member, field):
            changed[field] = [getattr(member, field), value.strip()]
            setattr(member, field, value.strip())
    if changed:
        record(db, actor, "member.edit", _target(member.body_id, user), changed=changed)
    db.add(member)
    await db.commit()
    return member


async def remove_member(db: AsyncSession, actor: User, member_id: int) -> int:
    """Takes the person off the roster; their account stays. The council's id is returned."""
    member, user = await get_member(db, member_id)
    record(db, actor, "member.remove", _target(member.body_id, user), seat=member.seat)
    await db.delete(member)
    await db.commit()
    return member.body_id


async def _council(db: AsyncSession, body_id: int) -> Body:
    body = await db.get(Body, body_id)
    if body is None:
        raise not_found("council")
    return body


@get("/api/councils/{body_id:int}/members", guards=[keeps_roster])
async def list_members(
    db: NamedDependency[AsyncSession], body_id: FromPath[int]
) -> list[MemberOut]:
    await _council(db, body_id)
    return [member_json(m, u) for m, u in await roster_of(db, body_id)]


@post("/api/councils/{body_id:int}/members", guards=[keeps_roster])
async def add_member_api(
    request: Request,
    db: NamedDependency[AsyncSession],
    body_id: FromPath[int],
    data: JSONBody[NewMember],
) -> MemberOut:
    member = await add_member(db, request.user, await _council(db, body_id), data)
    return member_json(*await get_member(db, member.id or 0))


@patch("/api/members/{member_id:int}", guards=[keeps_roster])
async def change_member_api(
    request: Request,
    db: NamedDependency[AsyncSession],
    member_id: FromPath[int],
    data: JSONBody[MemberPatch],
) -> MemberOut:
    member = await change_member(db, request.user, member_id, data)
    return member_json(*await get_member(db, member.id or 0))


@delete("/api/members/{member_id:int}", guards=[keeps_roster], status_code=200)
async def remove_member_api(
    request: Request, db: NamedDependency[AsyncSession], member_id: FromPath[int]
) -> Done:
    await remove_member(db, request.user, member_id)
    return {"ok": True}


ROUTES = [list_members, add_member_api, change_member_api, remove_member_api]
