"""Calendar feeds at secret-token URLs (`/calendar/feed/{token}.ics`, no sign-in: the token
is the key): a person's meetings, the ones they take part in, or a council's published
meetings. A person makes and revokes their own links on `/calendar`; a council's secretary
(or an admin) makes and revokes the council's. A revoked or unknown token answers 404 / 410
with a message, never the feed."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import calendars
from server.access import runs_body, signed_in
from server.errors import AppError, forbidden, form_of, not_found
from server.house import House
from server.models import (
    Body,
    CalendarLink,
    Meeting,
    MeetingStatus,
    Participant,
    Role,
    User,
    utcnow,
)

PERSON, COUNCIL = "person", "council"
IN_THREAD_FROM = 300  # meetings: a feed this long is written off the event loop


def new_token() -> str:
    return secrets.token_urlsafe(24)


def feed_path(link: CalendarLink) -> str:
    return f"/calendar/feed/{link.token}.ics"


async def _bodies_run_by(db: AsyncSession, user: User) -> list[Body]:
    if user.role == Role.admin:
        return list(await db.exec(select(Body).order_by(col(Body.name))))
    if user.role == Role.secretary and user.body_id is not None:
        body = await db.get(Body, user.body_id)
        return [body] if body else []
    return []


async def _live_links(db: AsyncSession, kind: str, owner: int | None) -> list[CalendarLink]:
    query = select(CalendarLink).where(
        col(CalendarLink.revoked_at).is_(None), CalendarLink.kind == kind
    )
    if kind == PERSON:
        query = query.where(CalendarLink.user_id == owner)
    else:
        query = query.where(CalendarLink.body_id == owner)
    return list(await db.exec(query.order_by(col(CalendarLink.created_at))))


@get("/calendar", guards=[signed_in])
async def calendar_page(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    user = request.user
    base = str(request.base_url).rstrip("/")
    councils = [
        (body, await _live_links(db, COUNCIL, body.id)) for body in await _bodies_run_by(db, user)
    ]
    return Template(
        "calendar.html",
        context={
            "mine": await _live_links(db, PERSON, user.id),
            "councils": councils,
            "base": base,
            "webcal": "webcal://" + base.split("://", 1)[-1],
            "feed_path": feed_path,
            "tz": state.settings.tz,
        },
    )


@post("/calendar/links", guards=[signed_in])
async def make_link(request: Request, db: NamedDependency[AsyncSession]) -> Response:
    form = await form_of(request)
    kind = str(form.get("kind") or PERSON)
    user = request.user
    link = CalendarLink(token=new_token(), kind=kind, created_by=user.id)
    if kind == PERSON:
        link.user_id = user.id
    elif kind == COUNCIL:
        try:
            body_id = int(str(form.get("body_id") or ""))
        except ValueError:
            raise AppError(400, "bad_body", "Choose a council.") from None
        if await db.get(Body, body_id) is None:
            raise not_found("council")
        if not runs_body(user, body_id):
            raise forbidden()
        link.body_id = body_id
    else:
        raise AppError(400, "bad_kind", "A calendar is a person's or a council's.")
    db.add(link)
    await db.commit()
    return Redirect("/calendar", status_code=303)


@post("/calendar/links/{link_id:int}/revoke", guards=[signed_in])
async def revoke_link(
    request: Request, db: NamedDependency[AsyncSession], link_id: FromPath[int]
) -> Response:
    link = await db.get(CalendarLink, link_id)
    user = request.user
    mine = link is not None and (
        (link.kind == PERSON and link.user_id == user.id)
        or (link.kind == COUNCIL and link.body_id is not None and runs_body(user, link.body_id))
    )
    if link is None or not mine:
        raise not_found("calendar link")  # another's link is not revealed
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.add(link)
        await db.commit()
    return Redirect("/calendar", status_code=303)


def _event(meeting: Meeting, council: str, base: str) -> calendars.Event:
    page = f"{base}/meetings/{meeting.id}"
    return calendars.Event(
        uid=f"meeting-{meeting.id}@phonghop",
        starts_at=meeting.starts_at,
        ends_at=meeting.starts_at + calendars.DEFAULT_LENGTH,
        summary=meeting.title,
        location=meeting.place,
        description=f"{council}\n{page}",
        url=page,
        sequence=meeting.sequence,
        last_modified=meeting.updated_at,
        status="TENTATIVE" if meeting.status == MeetingStatus.draft else "CONFIRMED",
    )


async def _feed_rows(db: AsyncSession, link: CalendarLink) -> tuple[str, list[Any]]:
    query = select(Meeting, Body.name).join(Body, col(Body.id) == Meeting.body_id)
    if link.kind == PERSON:
        user = await db.get(User, link.user_id) if link.user_id else None
        if user is None or not user.active:
            raise _refused()
        # only meetings the person is a participant of: exactly those they may open
        query = query.join(Participant, col(Participant.meeting_id) == Meeting.id).where(
            Participant.user_id == user.id
        )
        name = user.full_name or user.username
    else:
        body = await db.get(Body, link.body_id) if link.body_id else None
        if body is None:
            raise _refused()
        # a draft is shown to its participants only, never in a council's shared feed
        query = query.where(Meeting.body_id == body.id, Meeting.status != MeetingStatus.draft)
        name = body.name
    rows = list(await db.exec(query.order_by(col(Meeting.starts_at))))
    return name, rows


def _refused() -> AppError:
    return AppError(410, "calendar_revoked", "This calendar link was revoked; ask for a new one.")


@get("/calendar/feed/{name:str}")
async def calendar_feed(
    request: Request, db: NamedDependency[AsyncSession], name: FromPath[str]
) -> Response:
    token = name.removesuffix(".ics")
    link = (await db.exec(select(CalendarLink).where(CalendarLink.token == token))).first()
    if link is None or not name.endswith(".ics"):
        raise not_found("calendar")
    if link.revoked_at is not None:
        raise _refused()
    title, rows = await _feed_rows(db, link)
    base = str(request.base_url).rstrip("/")
    events = [_event(meeting, council, base) for meeting, council in rows]
    now: datetime = utcnow()
    if len(events) >= IN_THREAD_FROM:
        text = await asyncio.to_thread(calendars.feed, title, events, now)
    else:
        text = calendars.feed(title, events, now)
    return Response(
        text,
        media_type="text/calendar",
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [calendar_page, make_link, revoke_link, calendar_feed]
