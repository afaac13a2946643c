"""The votes desk of this process: opens, closes and counts votes, takes ballots, tells the
hall, and keeps the clocks. `create_app` makes one and hands it to the routes."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from server.errors import not_found
from server.live.hub import Hub
from server.metrics import BALLOT
from server.models import JournalEvent, User, Vote
from server.votes import store
from server.votes.box import BallotBoxes
from server.votes.clock import VoteClock
from server.votes.rules import CountIn

_STORED, _REFUSED = BALLOT.of("stored"), BALLOT.of("refused")


class Votes:
    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        db_read: async_sessionmaker[AsyncSession],
        hub: Hub,
    ) -> None:
        self._db, self._db_read, self._hub = db, db_read, hub
        self.clock = VoteClock(db_read, hub, close=self._close_on_time)
        self.boxes = BallotBoxes(db, counted=self.clock.progress_changed)

    def start(self) -> None:
        self.clock.start()

    async def stop(self) -> None:
        await self.boxes.stop()
        await self.clock.stop()

    async def open(self, vote_id: int, user: User) -> Vote:
        async with self._db() as db:
            vote, event = await store.open_vote(db, vote_id, user)
        self._hub.publish_event(event)
        self.clock.schedule_close(vote)
        return vote

    async def close(self, vote_id: int, user_id: int | None) -> Vote:
        async with self._db() as db:
            vote, event = await store.close_vote(db, vote_id, user_id)
        self._closed(vote_id, event)
        return vote

    async def enter_count(self, vote_id: int, user: User, given: CountIn, presides: bool) -> Vote:
        async with self._db() as db:
            vote, event = await store.enter_count(db, vote_id, user, given, presides)
        self._closed(vote_id, event)
        return vote

    async def cast(
        self, vote_id: int, voter_id: int, choices: list[str], meeting_id: int | None = None
    ) -> dict[str, Any]:
        """Records one ballot; a second one is refused unless the vote allows changing it."""
        began = time.perf_counter()
        try:
            answer = await self.boxes.cast(vote_id, voter_id, choices, meeting_id)
        except Exception:
            _REFUSED.observe(time.perf_counter() - began)
            raise
        _STORED.observe(time.perf_counter() - began)
        return answer

    async def view(self, vote_id: int) -> store.VoteView:
        async with self._db_read() as db:
            vote = await db.get(Vote, vote_id)
            if vote is None:
                raise not_found("vote")
            return await store.vote_view(db, vote)

    async def _close_on_time(self, vote_id: int) -> None:
        await self.close(vote_id, None)

    def _closed(self, vote_id: int, event: JournalEvent | None) -> None:
        if event is None:  # it was closed already
            return
        self._hub.publish_event(event)
        self.clock.forget(vote_id)
        self.boxes.forget(vote_id)
