"""Councils (Body) as an admin keeps them: the list, a new council, and its details; the rules of
a change (kind, total membership against meetings' voters) are server/bodies.py's."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council
from server.access import admin_only
from server.admin.audit import record
from server.bodies import BodyOut, BodyPatch, body_json, update_body
from server.errors import AppError, not_found
from server.models import Body, BodyKind, User


class NewCouncil(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    kind: str = BodyKind.hdnd
    term: Annotated[str, msgspec.Meta(max_length=64)] = ""
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    members: Annotated[int, msgspec.Meta(ge=1, le=council.MAX_MEMBERS)] | None = None


async def all_councils(db: AsyncSession) -> list[Body]:
    return list((await db.exec(select(Body).order_by(Body.name))).all())


async def get_council(db: AsyncSession, body_id: int) -> Body:
    body = await db.get(Body, body_id)
    if body is None:
        raise not_found("council")
    return body


async def create_council(db: AsyncSession, actor: User, new: NewCouncil) -> Body:
    name = " ".join(new.name.split())
    if not name:
        raise AppError(400, "no_council_name", "Enter the council's name.")
    if new.kind not in BodyKind.__members__:
        raise AppError(400, "bad_body_kind", "A council is an HĐND, a UBND or another body.")
    if (await db.exec(select(Body.id).where(Body.name == name))).first() is not None:
        raise AppError(409, "council_name_taken", "A council of this name exists already.")
    body = Body(
        name=name,
        kind=new.kind,
        term=new.term.strip(),
        place=new.place.strip(),
        members=new.members,
    )
    db.add(body)
    await db.flush()
    record(db, actor, "body.create", f"body:{body.id} {body.name}", kind=body.kind)
    await db.commit()
    return body


async def change_council(db: AsyncSession, actor: User, body: Body, data: BodyPatch) -> Body:
    await update_body(db, actor, body, data)
    await db.commit()
    return body


@get("/api/admin/councils", guards=[admin_only])
async def list_councils(db: NamedDependency[AsyncSession]) -> list[BodyOut]:
    return [body_json(b) for b in await all_councils(db)]


@post("/api/admin/councils", guards=[admin_only])
async def add_council(
    request: Request, db: NamedDependency[AsyncSession], data: JSONBody[NewCouncil]
) -> BodyOut:
    return body_json(await create_council(db, request.user, data))


ROUTES = [list_councils, add_council]
