"""`phonghop bridge`: the conferences in a process of their own, called by the servers.

The servers check who may do what and pass the call on with the bridge key; points send
their media straight to this process. It journals and publishes through the same database
and Redis as the servers, so what it tells a point or the console reaches their sockets
whichever server holds them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server import journal, logs, metrics
from server.access import servers_only
from server.cluster import channels_backend, redis_of
from server.conference.bridge import Conferences, Control
from server.conference.signaling import OfferIn
from server.db import make_engine, session_maker
from server.errors import AppError
from server.live.hub import Hub
from server.looplag import LoopLag
from server.settings import Settings


class PointIn(msgspec.Struct):
    user_id: int
    name: Annotated[str, msgspec.Meta(max_length=300)]
    sdp: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]


@post("/points", status_code=HTTP_200_OK)
async def join(state: State, meeting_id: FromPath[int], data: JSONBody[PointIn]) -> dict[str, str]:
    answer = await state.conferences.join(meeting_id, data.user_id, data.name, data.sdp)
    return {"sdp": answer, "type": "answer"}


@delete("/points/{user_id:int}", status_code=HTTP_204_NO_CONTENT)
async def leave(state: State, meeting_id: FromPath[int], user_id: FromPath[int]) -> None:
    await state.conferences.leave(meeting_id, user_id)


@post("/listen", status_code=HTTP_200_OK)
async def listen(
    state: State, meeting_id: FromPath[int], data: JSONBody[OfferIn]
) -> dict[str, str]:
    return {"sdp": await state.conferences.listen(meeting_id, data.sdp), "type": "answer"}


@post("/control", status_code=HTTP_204_NO_CONTENT)
async def control(state: State, meeting_id: FromPath[int], data: JSONBody[Control]) -> None:
    await state.conferences.control(meeting_id, data)


@get("/points/{user_id:int}/thumb.jpg")
async def thumbnail(
    state: State, meeting_id: FromPath[int], user_id: FromPath[int]
) -> Response[bytes]:
    jpeg = await state.conferences.thumbnail(meeting_id, user_id)
    return Response(jpeg, media_type="image/jpeg")


@post("/slide", status_code=HTTP_204_NO_CONTENT)
async def slide(
    request: Request, state: State, meeting_id: FromPath[int], seq: FromQuery[int]
) -> None:
    """The presented page's image as the body (empty: no page) for the meeting's slide."""
    image = await request.body()
    await state.conferences.present(meeting_id, seq, image or None)


@get("/view")
async def view(
    state: State, meeting_id: FromPath[int], console: FromQuery[bool]
) -> dict[str, Any] | None:
    return await state.conferences.view(meeting_id, console)


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def untranslated(request: Request, exc: AppError) -> Response[dict[str, Any]]:
    """A refusal as the calling server re-raises it: the English msgid and its parameters."""
    body = {"code": exc.code, "message": exc.message, "params": exc.params}
    return Response(body, status_code=exc.status)


def create_bridge_app(settings: Settings) -> Litestar:
    engine = make_engine(settings.database_url)
    redis = redis_of(settings)
    channels = ChannelsPlugin(backend=channels_backend(redis), arbitrary_channels_allowed=True)
    state = State(
        {
            "settings": settings,
            "db": session_maker(engine),
            "hub": Hub(channels, journal.Reader(engine), prefix=settings.redis_prefix),
        }
    )
    state.conferences = Conferences(state)
    state.loop_lag = LoopLag()
    # Its points and frames exist only here: Prometheus scrapes each bridge as it does a server.
    state.metrics = metrics.Metrics(
        [
            metrics.LOOP_LAG,
            metrics.loop_lag_max(state.loop_lag),
            *metrics.bridge(state.conferences),
        ],
        settings.metrics_token,
        settings.metrics_allow,
    )
    logs.carry_context()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        state.loop_lag.start()
        try:
            yield
        finally:
            await state.loop_lag.stop()
            await state.conferences.stop()
            await state.hub.close()
            await engine.dispose()
            if redis is not None:
                await redis.aclose()

    meetings = Router(
        path="/bridge/meetings/{meeting_id:int}",
        route_handlers=[join, leave, listen, control, thumbnail, view, slide],
        guards=[servers_only],
    )
    return Litestar(
        route_handlers=[meetings, healthz, metrics.metrics],
        state=state,
        plugins=[channels],
        lifespan=[lifespan],
        middleware=[logs.LogContext],
        exception_handlers={AppError: untranslated},
        logging_config=None,
        openapi_config=None,
    )
