"""The app's state, typed: what `create_app` makes once and every handler may reach.

Handlers ask for it as `state: House`; Litestar hands them the app's one instance's entries.
The types are named for the checker only, so this module imports nothing that imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.connection import ASGIConnection
from litestar.datastructures import State

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    from server.auth import LoginThrottle, Sessions
    from server.conference.bridge import Conferences
    from server.conference.remote import Bridges
    from server.documents.rendering import PageRenderer
    from server.live.hub import Hub
    from server.live.presence import Presence
    from server.live.protocol import Protocol
    from server.live.rights import Rights
    from server.live.snapshot import Snapshots
    from server.looplag import LoopLag
    from server.meetings.publish import Publisher
    from server.metrics import Metrics
    from server.notifications import Postman
    from server.passwords import Passwords
    from server.presenting import ConferenceSlides
    from server.recent import Recent
    from server.recordings.recorders import Recorders
    from server.settings import Settings
    from server.votes.desk import Votes
    from server.written_votes import WrittenVotes


class House(State):
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    db_read: async_sessionmaker[AsyncSession]  # never takes a write lock
    passwords: Passwords
    sessions: Sessions
    throttle: LoginThrottle
    loop_lag: LoopLag
    recent_access: Recent  # rights are live within a second: remembered no longer than that
    recent_users: Recent
    publisher: Publisher
    votes: Votes
    written_votes: WrittenVotes  # closes written votes at their deadline
    recorders: Recorders
    hub: Hub
    protocol: Protocol
    snapshots: Snapshots
    renderer: PageRenderer
    conferences: Conferences | Bridges
    slides: ConferenceSlides  # the presented page, given to the meeting's conference
    presence: Presence
    rights: Rights
    postman: Postman  # due reminders and e-mails (server/notifications.py)
    metrics: Metrics  # what GET /metrics shows, and to whom


def house_of(connection: ASGIConnection[Any, Any, Any, Any]) -> House:
    """The state, from where a handler has no `state` parameter (guards, middleware)."""
    return cast(House, connection.app.state)
