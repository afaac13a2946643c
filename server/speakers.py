"""The floor (đăng ký phát biểu): asking to speak, the chair's queue, and timed turns."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import journal
from server.house import House
from server.live.protocol import Command, Live, Refusal, Session, SharedPart, field_of
from server.models import AgendaItem, SpeakerRequest, User, utcnow

WAITING, SPEAKING, DONE, WITHDRAWN = "waiting", "speaking", "done", "withdrawn"
MAX_TURN_S = 3600


async def queue_state(db: AsyncSession, meeting_id: int) -> dict[str, Any]:
    """Who speaks now (with when the turn started and its limit) and who waits, in order."""
    rows = await db.exec(
        select(SpeakerRequest, User)
        .join(User, col(User.id) == SpeakerRequest.user_id)
        .where(
            SpeakerRequest.meeting_id == meeting_id,
            col(SpeakerRequest.status).in_((WAITING, SPEAKING)),
        )
        .order_by(SpeakerRequest.position, SpeakerRequest.id)
    )
    speaking, waiting = None, []
    for request, user in rows.all():
        entry = {
            "request_id": request.id,
            "user_id": user.id,
            "name": user.full_name,
            "item_id": request.item_id,
            "requested_at": request.requested_at.isoformat(),
        }
        if request.status == SPEAKING:
            speaking = {
                **entry,
                "started_at": request.started_at.isoformat() if request.started_at else None,
                "time_limit_s": request.time_limit_s,
            }
        else:
            waiting.append(entry)
    return {"speaking": speaking, "waiting": waiting}


async def _changed(session: Session, db: AsyncSession, why: str, **facts: Any) -> Any:
    """Journals the queue as it now stands, in the caller's transaction."""
    payload = {"why": why, **facts, **(await queue_state(db, session.meeting_id))}
    return await journal.append(
        db, session.meeting_id, "speakers.changed", payload, session.user_id
    )


async def _commit_and_tell(session: Session, db: AsyncSession, event: Any) -> dict[str, Any]:
    await db.commit()
    session.hub.publish_event(event)
    return {"seq": event.seq}


async def _request(db: AsyncSession, session: Session, request_id: int) -> SpeakerRequest:
    request = await db.get(SpeakerRequest, request_id)
    if request is None or request.meeting_id != session.meeting_id:
        raise Refusal("no_such_request", "There is no such request to speak.")
    return request


async def _open_request_of(db: AsyncSession, session: Session) -> SpeakerRequest | None:
    return (
        await db.exec(
            select(SpeakerRequest).where(
                SpeakerRequest.meeting_id == session.meeting_id,
                SpeakerRequest.user_id == session.user_id,
                col(SpeakerRequest.status).in_((WAITING, SPEAKING)),
            )
        )
    ).first()


async def ask_to_speak(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"speaker.request","id":…,"item_id":?}`: join the end of the queue once."""
    item_id = message.get("item_id")
    async with session.state.db() as db:
        if await _open_request_of(db, session) is not None:
            return {"unchanged": True}
        if item_id is not None:
            item = await db.get(AgendaItem, field_of(message, "item_id", int))
            if item is None or item.meeting_id != session.meeting_id:
                raise Refusal("not_in_meeting", "That agenda item is not part of this meeting.")
        last = (await queue_state(db, session.meeting_id))["waiting"]
        request = SpeakerRequest(
            meeting_id=session.meeting_id,
            user_id=session.user_id,
            item_id=item_id,
            position=len(last) + 1,
        )
        db.add(request)
        await db.flush()
        event = await _changed(session, db, "requested", request_id=request.id)
        return await _commit_and_tell(session, db, event)


async def withdraw(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    async with session.state.db() as db:
        request = await _open_request_of(db, session)
        if request is None or request.status != WAITING:
            return {"unchanged": True}
        request.status = WITHDRAWN
        db.add(request)
        event = await _changed(session, db, "withdrawn", request_id=request.id)
        return await _commit_and_tell(session, db, event)


async def give_the_floor(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """The chair gives the floor; whoever was speaking is done. `time_limit_s` is optional."""
    limit = message.get("time_limit_s")
    if limit is not None and (not isinstance(limit, int) or not 0 < limit <= MAX_TURN_S):
        raise Refusal("bad_time_limit", "The speaking time must be between 1 s and one hour.")
    async with session.state.db() as db:
        request = await _request(db, session, field_of(message, "request_id", int))
        if request.status != WAITING:
            raise Refusal("not_waiting", "That person is not waiting to speak.")
        await _end_current(db, session)
        request.status, request.started_at, request.time_limit_s = SPEAKING, utcnow(), limit
        db.add(request)
        await db.flush()
        event = await _changed(session, db, "given", request_id=request.id)
        return await _commit_and_tell(session, db, event)


async def _end_current(db: AsyncSession, session: Session) -> SpeakerRequest | None:
    current = (
        await db.exec(
            select(SpeakerRequest).where(
                SpeakerRequest.meeting_id == session.meeting_id,
                SpeakerRequest.status == SPEAKING,
            )
        )
    ).first()
    if current is not None:
        current.status, current.ended_at = DONE, utcnow()
        db.add(current)
        await db.flush()
    return current


async def end_turn(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    async with session.state.db() as db:
        ended = await _end_current(db, session)
        if ended is None:
            return {"unchanged": True}
        seconds = int((ended.ended_at - ended.started_at).total_seconds())
        event = await _changed(session, db, "ended", request_id=ended.id, spoke_s=seconds)
        return await _commit_and_tell(session, db, event)


async def move(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """Puts a waiting request at `position` (1 = next) in the queue."""
    position = field_of(message, "position", int)
    async with session.state.db() as db:
        request = await _request(db, session, field_of(message, "request_id", int))
        if request.status != WAITING:
            raise Refusal("not_waiting", "That person is not waiting to speak.")
        waiting = [
            r
            for r in (
                await db.exec(
                    select(SpeakerRequest)
                    .where(
                        SpeakerRequest.meeting_id == session.meeting_id,
                        SpeakerRequest.status == WAITING,
                    )
                    .order_by(SpeakerRequest.position, SpeakerRequest.id)
                )
            ).all()
            if r.id != request.id
        ]
        waiting.insert(max(0, min(position - 1, len(waiting))), request)
        for n, row in enumerate(waiting, start=1):
            row.position = n
            db.add(row)
        await db.flush()
        event = await _changed(session, db, "moved", request_id=request.id)
        return await _commit_and_tell(session, db, event)


async def speakers_state(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any]:
    return await queue_state(db, meeting_id)


LIVE = Live(
    commands=[
        Command("speaker.request", ask_to_speak, "speak"),
        Command("speaker.withdraw", withdraw, "speak"),
        Command("speaker.give", give_the_floor, "preside"),
        Command("speaker.end", end_turn, "preside"),
        Command("speaker.move", move, "preside"),
    ],
    shared_parts=[
        SharedPart("speakers", speakers_state),
    ],
)
