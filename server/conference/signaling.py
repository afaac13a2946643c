"""Joining the conference over HTTP, and the chair's and points' controls on the socket."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from sqlmodel.ext.asyncio.session import AsyncSession

from server import openapi
from server.access import meeting_permission, recorder_only
from server.conference.bridge import Control
from server.conference.program import FPS, HEIGHT, WIDTH
from server.errors import AppError
from server.house import House
from server.live.protocol import Command, Live, Part, Session, field_of
from server.models import Meeting

CONFERENCE = {"permission": "conference"}
PRESIDE = {"permission": "preside"}


class OfferIn(msgspec.Struct):
    sdp: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
    type: Literal["offer"] = "offer"


@post(
    "/meetings/{meeting_id:int}/rtc/offer",
    guards=[meeting_permission],
    opt=CONFERENCE,
    status_code=HTTP_200_OK,
)
async def offer(
    request: Request, state: House, meeting_id: FromPath[int], data: JSONBody[OfferIn]
) -> dict[str, str]:
    """An SDP offer in, the bridge's SDP answer out (every candidate gathered, no trickle)."""
    user = request.user
    answer = await state.conferences.join(meeting_id, user.id, user.full_name, data.sdp)
    state.slides.tell(meeting_id, joined=True)  # a new conference gets the page already up
    return {"sdp": answer, "type": "answer"}


@post("/recorder/meetings/{meeting_id:int}/listen", guards=[recorder_only], status_code=HTTP_200_OK)
async def listen(
    state: House, meeting_id: FromPath[int], data: JSONBody[OfferIn]
) -> dict[str, str]:
    """The recorder's receive-only offer in, an answer with the program out."""
    if await _meeting_missing(state, meeting_id):
        raise AppError(404, "not_found", "Not found: {what}.", what="meeting")
    answer = await state.conferences.listen(meeting_id, data.sdp)
    return {"sdp": answer, "type": "answer"}


async def _meeting_missing(state: House, meeting_id: int) -> bool:
    async with state.db_read() as db:
        return await db.get(Meeting, meeting_id) is None


@delete(
    "/meetings/{meeting_id:int}/rtc",
    guards=[meeting_permission],
    opt=CONFERENCE,
    status_code=HTTP_204_NO_CONTENT,
)
async def hang_up(request: Request, state: House, meeting_id: FromPath[int]) -> None:
    await state.conferences.leave(meeting_id, request.user.id)


class ProgramSize(TypedDict):
    width: int
    height: int
    fps: int


class RtcConfig(TypedDict):
    ice_servers: list[dict[str, object]]
    program: ProgramSize


@get("/meetings/{meeting_id:int}/rtc/config", guards=[meeting_permission], opt=CONFERENCE)
async def config(request: Request, state: House, meeting_id: FromPath[int]) -> RtcConfig:
    """What a browser needs before it offers: STUN/TURN servers and the program's size."""
    return {
        "ice_servers": state.settings.ice_servers(request.user.id),
        "program": {"width": WIDTH, "height": HEIGHT, "fps": FPS},
    }


@get(
    "/meetings/{meeting_id:int}/rtc/points/{user_id:int}/thumb.jpg",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.JPEG,
)
async def thumbnail(
    state: House, meeting_id: FromPath[int], user_id: FromPath[int]
) -> Response[bytes]:
    """The point's latest picture, small, for the chair's source picker."""
    jpeg = await state.conferences.thumbnail(meeting_id, user_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def _control(
    session: Session, action: str, point: int | None = None, on: bool = False
) -> None:
    control = Control(action, session.user_id, point, on)  # type: ignore[arg-type]
    await session.state.conferences.control(session.meeting_id, control)


async def pick(session: Session, message: dict[str, Any]) -> None:
    """`{"type":"rtc.pick","id":…,"point":USER_ID}`: that point on the program."""
    await _control(session, "pick", field_of(message, "point", int))


async def automatic(session: Session, message: dict[str, Any]) -> None:
    """Back to the loudest point on the program."""
    await _control(session, "pick")


async def mute(session: Session, message: dict[str, Any]) -> None:
    """`{"type":"rtc.mute","id":…,"point":USER_ID,"muted":true}`."""
    point, muted = field_of(message, "point", int), field_of(message, "muted", bool)
    await _control(session, "mute", point, muted)


async def audio_only(session: Session, message: dict[str, Any]) -> None:
    """A point on a weak link stops sending and getting video (`on`), or resumes it."""
    await _control(session, "audio_only", on=field_of(message, "on", bool))


async def conference_state(db: AsyncSession, session: Session, seq: int) -> dict[str, Any] | None:
    return await session.state.conferences.view(session.meeting_id, session.access.can("preside"))


router = Router(
    path="/api", route_handlers=[offer, listen, hang_up, config, thumbnail], tags=["conference"]
)

LIVE = Live(
    commands=[
        Command("rtc.pick", pick, "preside"),
        Command("rtc.auto", automatic, "preside"),
        Command("rtc.mute", mute, "preside"),
        Command("rtc.audio_only", audio_only, "conference"),
    ],
    parts=[Part("conference", conference_state)],
)
