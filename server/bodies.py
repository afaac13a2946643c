"""Councils (Body): their kind and total membership by law, which set votes' and quorums'
defaults (server/council.py). Read by anyone signed in; changed by an admin or a secretary
of that council."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, get, patch
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, UnsetType
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council
from server.access import founds_first_council, runs_body, signed_in
from server.admin import audit
from server.errors import AppError, not_found
from server.i18n import N_
from server.models import Body, BodyKind, Meeting, MeetingStatus, Participant, User
from server.users import COUNCIL_NAME_MAX

KIND_NAMES = {
    BodyKind.hdnd: N_("People's Council (HĐND)"),
    BodyKind.ubnd: N_("People's Committee (UBND)"),
    BodyKind.other: N_("Other body"),
}


class BodyPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    place: Annotated[str, msgspec.Meta(max_length=200)] | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    members: Annotated[int, msgspec.Meta(ge=1, le=council.MAX_MEMBERS)] | None | UnsetType = UNSET
    term: Annotated[str, msgspec.Meta(max_length=64)] | UnsetType = UNSET


class BodyOut(TypedDict):
    """A council as the JSON routes show it."""

    id: int | None
    name: str
    place: str
    kind: str
    members: int | None
    term: str


def body_json(body: Body) -> BodyOut:
    return {
        "id": body.id,
        "name": body.name,
        "place": body.place,
        "kind": body.kind,
        "members": body.members,
        "term": body.term,
    }


async def _most_voters(db: AsyncSession, body_id: int) -> int:
    """The most voting delegates any open meeting of the body has."""
    per_meeting = (
        select(sa.func.coalesce(sa.func.sum(Participant.vote_weight), 0).label("weight"))
        .join(Meeting, col(Meeting.id) == Participant.meeting_id)
        .where(
            Meeting.body_id == body_id,
            Meeting.status != MeetingStatus.closed,
            col(Participant.role).in_(council.VOTERS),
        )
        .group_by(Participant.meeting_id)
        .subquery()
    )
    most = select(sa.func.coalesce(sa.func.max(per_meeting.c.weight), 0))
    return int((await db.exec(most)).one())


async def sole_council_id(db: AsyncSession) -> int | None:
    """The install's council when it has exactly one: meetings and accounts go there by default."""
    found = (await db.exec(select(Body.id).limit(2))).all()
    return found[0] if len(found) == 1 else None


async def found_first_council(db: AsyncSession, user: User, name: str, kind: str) -> Body:
    """The install's first council, named with its first meeting; every account without a
    council joins it (so the secretary who made it runs it). Left for the caller to commit."""
    if not founds_first_council(user):
        raise AppError(403, "forbidden", "Only an administrator or a secretary may do this.")
    if (await db.exec(select(Body.id).limit(1))).first() is not None:
        raise AppError(409, "council_exists", "A council exists already: choose it.")
    name = " ".join(name.split())
    if not name:
        raise AppError(400, "no_council_name", "Enter the council's name.")
    if len(name) > COUNCIL_NAME_MAX:
        raise AppError(400, "council_name_long", "The council's name is too long.")
    if kind not in BodyKind.__members__:
        raise AppError(400, "bad_body_kind", "A council is an HĐND, a UBND or another body.")
    body = Body(name=name, kind=kind)
    db.add(body)
    await db.flush()
    audit.record(db, user, "body.create", f"body:{body.id} {body.name}", kind=kind)
    without = (await db.exec(select(User).where(col(User.body_id).is_(None)))).all()
    for account in without:
        account.body_id = body.id
        db.add(account)
        audit.record(db, user, "user.council", audit.user_target(account), body_id=body.id)
    return body


@get("/api/bodies", guards=[signed_in])
async def list_bodies(db: NamedDependency[AsyncSession]) -> list[BodyOut]:
    return [body_json(b) for b in (await db.exec(select(Body).order_by(Body.name))).all()]


@get("/api/bodies/{body_id:int}", guards=[signed_in])
async def show_body(db: NamedDependency[AsyncSession], body_id: FromPath[int]) -> BodyOut:
    body = await db.get(Body, body_id)
    if body is None:
        raise not_found("council")
    return body_json(body)


@patch("/api/bodies/{body_id:int}", guards=[signed_in])
async def change_body(
    request: Request,
    db: NamedDependency[AsyncSession],
    body_id: FromPath[int],
    data: JSONBody[BodyPatch],
) -> BodyOut:
    body = await db.get(Body, body_id)
    if body is None:
        raise not_found("council")
    if not runs_body(request.user, body_id):
        raise AppError(403, "forbidden", "You may not change this council.")
    await update_body(db, request.user, body, data)
    await db.commit()
    return body_json(body)


async def update_body(db: AsyncSession, actor: User, body: Body, data: BodyPatch) -> Body:
    """Checks and applies a change of a council, listed in the audit; the caller commits."""
    if data.kind is not UNSET and data.kind not in BodyKind.__members__:
        raise AppError(400, "bad_body_kind", "A council is an HĐND, a UBND or another body.")
    most = await _most_voters(db, body.id or 0)
    if data.members not in (UNSET, None) and data.members < most:
        raise AppError(
            409,
            "members_too_few",
            "A meeting of this council has {voters} voting delegates: the council cannot "
            "have fewer members.",
            voters=most,
        )
    if data.name is not UNSET and await _name_taken(db, data.name.strip(), body.id):
        raise AppError(409, "council_name_taken", "A council of this name exists already.")
    before: dict[str, Any] = dict(body_json(body))
    for field in ("name", "place", "kind", "members", "term"):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(body, field, value.strip() if isinstance(value, str) else value)
    after: dict[str, Any] = dict(body_json(body))
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit.record(db, actor, "body.edit", f"body:{body.id} {body.name}", changed=changed)
    db.add(body)
    return body


async def _name_taken(db: AsyncSession, name: str, body_id: int | None) -> bool:
    found = await db.exec(select(Body.id).where(Body.name == name, Body.id != body_id))
    return found.first() is not None


ROUTES = [list_bodies, show_body, change_body]
