"""This process's timers of the open votes: closes on time, paced progress messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import logs
from server.live.hub import Hub, dumps
from server.models import Ballot, MeetingRole, Vote, utcnow
from server.votes.rules import deadline
from server.votes.store import options_of, vote_counts

log = logging.getLogger("phonghop.votes")
PROGRESS_EVERY_S = 0.2  # ballots counted are told at most this often, not once per ballot
SWEEP_EVERY_S = 5.0  # how often each server looks for timed votes opened elsewhere


@dataclass
class _Progress:
    task: asyncio.Task[None] | None = None
    dirty: bool = False


class VoteClock:
    """Timers of this process: automatic closes and the paced progress messages.

    Every server keeps a close timer for every open timed vote, not only for those it
    opened, and looks for new ones every few seconds: the close happens once (under the
    vote's row lock) and on time, even when the server that opened the vote has stopped.
    """

    def __init__(
        self,
        db_read: async_sessionmaker[AsyncSession],
        hub: Hub,
        close: Callable[[int], Awaitable[object]],
    ) -> None:
        self._db_read, self._hub, self._close = db_read, hub, close
        self._closers: dict[int, asyncio.Task[None]] = {}
        self._progress: dict[int, _Progress] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        while True:
            try:
                await self.resume()
            except Exception:  # the database away for a moment: try again at the next sweep
                log.exception("could not read the open votes")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def resume(self) -> None:
        """Open votes with a time limit close on time (at once if overdue), after a restart too."""
        async with self._db_read() as db:
            rows = await db.exec(
                select(Vote).where(Vote.status == "open", col(Vote.duration_s).is_not(None))
            )
            for vote in rows.all():
                self.schedule_close(vote)

    def schedule_close(self, vote: Vote) -> None:
        due, vote_id = deadline(vote), vote.id
        if due is None or vote_id is None or vote_id in self._closers:
            return
        delay = max(0.0, (due - utcnow()).total_seconds())
        self._closers[vote_id] = asyncio.create_task(self._close_later(vote_id, delay))

    async def _close_later(self, vote_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self._closers.pop(vote_id, None)
        await self._close(vote_id)

    def progress_changed(self, meeting_id: int, vote_id: int) -> None:
        pacing = self._progress.setdefault(vote_id, _Progress())
        pacing.dirty = True
        if pacing.task is None:
            pacing.task = asyncio.create_task(
                self._tell_progress(meeting_id, vote_id), context=logs.meeting_context(meeting_id)
            )

    async def _tell_progress(self, meeting_id: int, vote_id: int) -> None:
        pacing = self._progress[vote_id]
        while pacing.dirty:
            pacing.dirty = False
            await self._publish_progress(meeting_id, vote_id)
            await asyncio.sleep(PROGRESS_EVERY_S)
        pacing.task = None

    def forget(self, vote_id: int) -> None:
        closer = self._closers.pop(vote_id, None)
        pacing = self._progress.pop(vote_id, None)
        for task in (closer, pacing.task if pacing else None):
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    async def stop(self) -> None:
        tasks = [*self._closers.values(), *(p.task for p in self._progress.values() if p.task)]
        tasks += [self._sweeper] if self._sweeper is not None else []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _publish_progress(self, meeting_id: int, vote_id: int) -> None:
        """How many have voted, to everyone; the live tally to the chair, in named votes only."""
        async with self._db_read() as db:
            vote = await db.get(Vote, vote_id)
            if vote is None or vote.status != "open":
                return
            counts = await vote_counts(db, vote)
            tally = None
            if not vote.secret:
                options = await options_of(db, vote_id)
                sums = await db.exec(
                    select(Ballot.option_id, sa.func.sum(Ballot.weight))
                    .where(Ballot.vote_id == vote_id)
                    .group_by(col(Ballot.option_id))
                )
                by_id: dict[int | None, int] = dict(sums.all())
                tally = {o.key: int(by_id.get(o.id) or 0) for o in options}
        progress = {"type": "vote.progress", "vote_id": vote_id, **counts}
        self._hub.publish(meeting_id, dumps(progress))
        if tally is not None:
            self._hub.publish(
                meeting_id,
                dumps({**progress, "type": "vote.tally", "tally": tally}),
                roles=[MeetingRole.chair],
            )
