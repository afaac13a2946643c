"""Builds the Litestar app from settings, in one place; nothing configures itself on import."""

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import datetime, tzinfo
from typing import Any

from jinja2 import pass_context
from litestar import Litestar, Request
from litestar.channels import ChannelsPlugin
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

import web
from agenda import isolation
from server import (
    annotations,
    attendance,
    auth,
    bodies,
    calendar_links,
    checkin,
    health,
    i18n,
    invitations,
    journal,
    logs,
    metrics,
    minutes,
    notifications,
    oparl,
    openapi,
    opinions,
    presenting,
    public,
    record,
    recordings,
    speakers,
    tablet,
    verification,
    votes,
    written_votes,
)
from server.admin.routes import ROUTES as ADMIN_ROUTES
from server.auth import LoginThrottle, SessionAuthMiddleware, Sessions, password_first
from server.cluster import channels_backend, redis_of, shared_store
from server.conference import pages as conference_pages
from server.conference import signaling
from server.conference.bridge import Conferences
from server.conference.remote import Bridges
from server.db import make_engine, make_sync_engine, session_maker
from server.documents import api as documents_api
from server.documents import pages as documents_pages
from server.documents.rendering import PageRenderer
from server.errors import EXCEPTION_HANDLERS
from server.house import House
from server.i18n import LANGUAGES, language_of, translations
from server.ids import IdsInRange
from server.live.hub import Hub
from server.live.presence import Presence
from server.live.protocol import Protocol
from server.live.rights import Rights
from server.live.snapshot import Snapshots
from server.live.socket import meeting_socket
from server.looplag import LoopLag
from server.mail import mail_enabled, send_mail
from server.meetings import api as meetings_api
from server.meetings import pages as meetings_pages
from server.meetings import publish
from server.meetings.publish import Publisher
from server.meetings.rules import flatten
from server.origins import OriginCheck
from server.passwords import Passwords
from server.recent import Recent
from server.recordings.state import live_meetings, recover
from server.settings import Settings
from server.signing import api as signing_api
from server.signing import pages as signing_pages
from server.signing import written_votes as signing_written_votes

log = logging.getLogger("phonghop")


def recover_recordings(settings: Settings) -> None:
    """Recordings cut off by a crash are marked interrupted, their playlist rebuilt."""
    engine = make_sync_engine(settings.database_url)
    try:
        with Session(engine) as db:
            for recording in recover(db, settings.data_dir):
                log.warning("recording %s was interrupted; its segments are kept", recording.id)
    finally:
        engine.dispose()


async def provide_db(state: House, request: Request) -> AsyncGenerator[AsyncSession, None]:
    """A session per request; what a handler does not commit is rolled back.

    GET and HEAD only read, so they never take SQLite's write lock.
    """
    maker = state.db_read if request.method in ("GET", "HEAD") else state.db
    async with maker() as session:
        yield session


@pass_context
def _gettext(context: Any, message: str, **params: Any) -> str:
    text = translations(language_of(context["request"])).gettext(message)
    return text.format(**params) if params else text


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int, **params: Any) -> str:
    """`singular` or `plural` by the count `n` (English has two forms, Vietnamese one);
    `{n}` in the message is the count."""
    text = translations(language_of(context["request"])).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def _local_time(value: datetime, tz: tzinfo, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return value.astimezone(tz).strftime(fmt)


def _template_engine(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals.update(
        _=_gettext, ngettext=_ngettext, LANGUAGES=LANGUAGES, language_of=language_of
    )
    engine.engine.filters.update(local=_local_time, flatten=flatten)


# Every capability that speaks on the meeting socket, in the order its parts enter a snapshot.
LIVE = [
    attendance.LIVE,
    presenting.LIVE,
    speakers.LIVE,
    annotations.LIVE,
    votes.LIVE,
    signaling.LIVE,
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    # Live events have a Redis client of their own: nothing else may hold up a publish.
    live_redis, redis = redis_of(settings), redis_of(settings)
    channels = ChannelsPlugin(backend=channels_backend(live_redis), arbitrary_channels_allowed=True)
    state = House()
    state.settings, state.engine = settings, engine
    state.db = session_maker(engine)
    state.db_read = session_maker(engine.execution_options(phonghop_read_only=True))
    state.passwords = Passwords(settings)
    state.sessions = Sessions(
        FileStore(settings.data_dir / "sessions"), settings.session_idle_minutes * 60
    )
    state.throttle = LoginThrottle(settings, redis)
    state.loop_lag = LoopLag()
    # rights are live within a second: remembered no longer than that
    state.recent_access, state.recent_users = Recent(ttl_s=1), Recent(ttl_s=1)
    state.publisher = Publisher(shared_store(settings, redis, "publish"))
    state.recorders = recordings.Recorders()
    state.hub = Hub(channels, journal.Reader(engine), prefix=settings.redis_prefix)
    state.votes = votes.Votes(state.db, state.db_read, state.hub)
    state.written_votes = written_votes.WrittenVotes(state.db, state.db_read, settings)
    state.protocol = Protocol(LIVE)
    state.snapshots = Snapshots(state.protocol)
    state.renderer = PageRenderer(settings.data_dir / "cache", settings.render_workers or None)
    state.conferences = Bridges(settings) if settings.bridge_urls else Conferences(state)
    state.slides = presenting.ConferenceSlides(state)
    state.postman = notifications.Postman(
        state.db,
        functools.partial(send_mail, settings) if mail_enabled(settings) else None,
        settings.tz,
        base_url=settings.allowed_origins[0] if settings.allowed_origins else "",
        read=state.db_read,
    )
    state.presence = Presence(state.hub, redis, settings.redis_prefix)
    state.metrics = metrics.Metrics(
        [
            *metrics.PROCESS,
            metrics.sockets(state.hub),
            metrics.loop_lag_max(state.loop_lag),
            metrics.recordings(functools.partial(live_meetings, state)),
            *(metrics.bridge(state.conferences) if not settings.bridge_urls else []),
        ],
        settings.metrics_token,
        settings.metrics_allow,
    )
    logs.carry_context()
    state.rights = Rights(
        state.hub,
        channels,
        state.db_read,
        settings.redis_prefix,
        [state.recent_access, state.recent_users],
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        # The worker fork server starts before any render pool, so it preloads PDF work.
        await asyncio.to_thread(isolation.warm_up)
        state.loop_lag.start()
        state.votes.start()
        state.written_votes.start()
        state.presence.start()
        state.postman.start()
        await state.rights.start()
        await asyncio.to_thread(recover_recordings, settings)
        try:
            yield
        finally:
            await state.loop_lag.stop()
            await state.presence.stop()
            await state.postman.stop()
            await state.rights.stop()
            await state.hub.close()
            await state.recorders.stop_all()
            await state.slides.stop()
            await state.conferences.stop()
            await state.votes.stop()
            await state.written_votes.stop()
            await state.publisher.wait()
            state.passwords.close()
            state.renderer.close()
            await engine.dispose()
            for client in (live_redis, redis):
                if client is not None:
                    await client.aclose()

    return Litestar(
        route_handlers=[
            *auth.ROUTES,
            health.healthz,
            metrics.metrics,
            i18n.choose_language,
            meetings_api.router,
            documents_api.router,
            votes.router,
            signaling.router,
            *conference_pages.ROUTES,
            *meetings_pages.ROUTES,
            *publish.ROUTES,
            *documents_pages.ROUTES,
            meeting_socket,
            *attendance.ROUTES,
            *annotations.ROUTES,
            *presenting.ROUTES,
            *minutes.ROUTES,
            *record.ROUTES,
            *bodies.ROUTES,
            *recordings.ROUTES,
            *ADMIN_ROUTES,
            *tablet.ROUTES,
            *signing_api.ROUTES,
            *signing_pages.ROUTES,
            *signing_written_votes.ROUTES,
            *verification.ROUTES,
            *calendar_links.ROUTES,
            *invitations.ROUTES,
            *written_votes.ROUTES,
            *opinions.ROUTES,
            *notifications.ROUTES,
            *checkin.ROUTES,
            oparl.router,
            *public.ROUTES,
            create_static_files_router(path="/static", directories=[web.STATIC], name="static"),
        ],
        state=state,
        plugins=[channels, openapi.ApiContract()],
        lifespan=[lifespan],
        before_request=password_first,  # a reset account chooses its password before anything
        dependencies={"db": Provide(provide_db)},
        middleware=[
            DefineMiddleware(SessionAuthMiddleware, exclude=["^/static/"]),
            logs.LogContext,
            IdsInRange,
            OriginCheck,
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.secure_cookies,
            # bearer-token routes of the recorder (no cookies); /api/verify changes nothing
            # and answers anyone, so a script may post a PDF to it without a session
            # the open data (OParl, /public) is read by anyone without cookies and cached
            exclude=["/api/recorder/", "^/api/verify$", "^/oparl/", "^/public"],
        ),
        template_config=TemplateConfig(
            directory=web.TEMPLATES,
            engine=JinjaTemplateEngine,
            engine_callback=_template_engine,
        ),
        openapi_config=openapi.openapi_config(),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        logging_config=None,
        request_max_body_size=settings.max_upload_mb * 1024 * 1024,
    )
