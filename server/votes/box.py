"""Casting ballots, from a tablet's socket or over HTTP, through the same rules.

Ballots of one vote are written in batches: while a transaction runs, the ballots that
arrive wait, and the next transaction takes them all. On PostgreSQL two batches of a vote
run at once (each holds the vote's row in share mode, so they do not wait for each other);
SQLite has one writer at a time, so there one runs. A voter is never in two batches at
once, rows are written in the voters' order (two servers' batches wait, never deadlock), and
the status is checked once per batch under the vote's lock; one ballot per voter stays a
unique row in the database.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.errors import AppError, not_found
from server.models import Ballot, BallotCast, BallotCount, Participant, Vote, VoteOption
from server.votes.rules import VOTERS, chosen_options
from server.votes.store import locked_vote, options_of

BATCH_MAX = 200  # ballots per transaction; keeps every statement well under bind limits
WRITERS = {"postgresql": 2}  # batches of one vote written at once; 1 elsewhere (SQLite)


@dataclass
class _Cast:
    voter_id: int
    choices: list[str]
    meeting_id: int | None  # the socket's meeting, which the vote must be in
    answer: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: dict[str, Any] | BaseException) -> None:
        if self.answer.done():  # the tablet went away meanwhile
            return
        if isinstance(outcome, BaseException):
            self.answer.set_exception(outcome)
        else:
            self.answer.set_result(outcome)


Counted = Callable[[int, int], None]  # (meeting, vote): ballots were taken


class BallotBoxes:
    """One box per vote this process has taken ballots for."""

    def __init__(self, db: async_sessionmaker[AsyncSession], counted: Counted) -> None:
        self._db, self._counted = db, counted
        self._boxes: dict[int, BallotBox] = {}
        bind = db.kw.get("bind")
        self._writers = WRITERS.get(bind.dialect.name, 1) if bind is not None else 1

    async def cast(
        self, vote_id: int, voter_id: int, choices: list[str], meeting_id: int | None
    ) -> dict[str, Any]:
        box = self._boxes.get(vote_id)
        if box is None:
            box = BallotBox(vote_id, self._db, self._counted, self._writers)
            self._boxes[vote_id] = box
        try:
            return await box.cast(_Cast(voter_id, choices, meeting_id))
        finally:
            if box.gone and self._boxes.get(vote_id) is box:
                del self._boxes[vote_id]

    def forget(self, vote_id: int) -> None:
        self._boxes.pop(vote_id, None)

    async def stop(self) -> None:
        await asyncio.gather(*(box.idle() for box in list(self._boxes.values())))


class BallotBox:
    def __init__(
        self,
        vote_id: int,
        db: async_sessionmaker[AsyncSession],
        counted: Counted,
        writers: int = 1,
    ) -> None:
        self.vote_id = vote_id
        self._db, self._counted = db, counted
        self._waiting: list[_Cast] = []
        self._writers_max = writers
        self._writers: set[asyncio.Task[None]] = set()
        self._writing: set[int] = set()  # voters in a batch being written
        self._vote: Vote | None = None  # what a vote is never changes once it is made
        self._options: list[VoteOption] = []
        self.gone = False  # the vote is closed or does not exist: nothing more to keep

    async def cast(self, cast: _Cast) -> dict[str, Any]:
        self._waiting.append(cast)
        self._start_writer()
        return await cast.answer

    def _start_writer(self) -> None:
        if len(self._writers) < self._writers_max and self._waiting:
            # a batch is many voters': not the context of the one who came first
            writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
            self._writers.add(writer)

    async def idle(self) -> None:
        while self._writers:
            await asyncio.shield(asyncio.gather(*self._writers))

    async def _write_all(self) -> None:
        try:
            while batch := self._next_batch():
                voters = {cast.voter_id for cast in batch}
                self._writing |= voters
                try:
                    await self._write(batch)
                finally:
                    self._writing -= voters
                self._start_writer()  # for casts held back while their voter was written
        finally:
            # at once, not in a done callback: a cast arriving meanwhile must start a writer
            self._writers -= {task for task in [asyncio.current_task()] if task}

    def _next_batch(self) -> list[_Cast]:
        """The first waiting casts, leaving for later those of a voter being written."""
        batch: list[_Cast] = []
        held: list[_Cast] = []
        for cast in self._waiting:
            if len(batch) == BATCH_MAX or cast.voter_id in self._writing:
                held.append(cast)
            else:
                batch.append(cast)
        self._waiting = held
        return batch

    async def _write(self, batch: list[_Cast]) -> None:
        try:
            answers = await self._store(batch)
        except IntegrityError:  # another process wrote one of these voters first
            if len(batch) == 1:
                answers = [_already_voted()]
            else:
                for cast in batch:
                    await self._write([cast])
                return
        except Exception as exc:  # noqa: BLE001 - every waiting tablet must get an answer
            answers = [exc] * len(batch)
        for cast, outcome in zip(batch, answers, strict=True):
            cast.settle(outcome)
        if self._vote is not None and any(isinstance(a, dict) for a in answers):
            self._counted(self._vote.meeting_id, self.vote_id)

    async def _store(self, batch: list[_Cast]) -> list[dict[str, Any] | AppError]:
        async with self._db() as db:
            try:
                vote = await locked_vote(db, self.vote_id, shared=True)
            except AppError:
                self.gone = True
                raise
            if self._vote is None:
                self._vote, self._options = vote, await options_of(db, vote.id)
            refusal = _refusal(vote)
            if refusal is not None:
                self.gone = vote.status == "closed"
                return [_in_meeting(vote, c) or refusal for c in batch]
            weights, before = await _voters(db, vote, {c.voter_id for c in batch})
            answers, final = self._sort(vote, batch, weights, before)
            if final:
                await _record(db, vote, final, before)
                await db.commit()
            return answers

    def _sort(
        self, vote: Vote, batch: list[_Cast], weights: dict[int, int], before: set[int]
    ) -> tuple[list[dict[str, Any] | AppError], dict[int, tuple[list[VoteOption], int]]]:
        """Each cast's answer, and the choices to store per voter (the last one counts)."""
        answers: list[dict[str, Any] | AppError] = []
        final: dict[int, tuple[list[VoteOption], int]] = {}
        for cast in batch:
            try:
                chosen = self._check(vote, cast, weights, before, final)
            except AppError as refusal:
                answers.append(refusal)
                continue
            changed = cast.voter_id in before or cast.voter_id in final
            final[cast.voter_id] = (chosen, weights[cast.voter_id])
            keys = [o.key for o in chosen]
            answers.append({"vote_id": vote.id, "choices": keys, "changed": changed})
        return answers, final

    def _check(
        self,
        vote: Vote,
        cast: _Cast,
        weights: dict[int, int],
        before: set[int],
        final: dict[int, Any],
    ) -> list[VoteOption]:
        wrong_meeting = _in_meeting(vote, cast)
        if wrong_meeting is not None:
            raise wrong_meeting
        if cast.voter_id not in weights:
            raise AppError(403, "not_a_voter", "Only delegates of this meeting can vote.")
        chosen = chosen_options(vote, self._options, cast.choices)
        if (cast.voter_id in before or cast.voter_id in final) and not vote.allow_change:
            raise _already_voted()
        return chosen


def _refusal(vote: Vote) -> AppError | None:
    if vote.method != "electronic":
        return AppError(
            409,
            "counted_by_hand",
            "This vote is taken by a show of hands or on paper, not on the tablets.",
        )
    if vote.status == "draft":
        return AppError(409, "vote_not_open", "This vote is not open yet.")
    if vote.status == "closed":
        return AppError(409, "vote_closed", "This vote is closed; no more ballots are taken.")
    return None


def _in_meeting(vote: Vote, cast: _Cast) -> AppError | None:
    if cast.meeting_id is not None and cast.meeting_id != vote.meeting_id:
        return not_found("vote")
    return None


def _already_voted() -> AppError:
    return AppError(409, "already_voted", "You have already voted in this vote.")


async def _voters(
    db: AsyncSession, vote: Vote, voters: set[int]
) -> tuple[dict[int, int], set[int]]:
    """The weight of each of `voters` who may vote, as the server has it, and which of them
    have voted before (one query: each costs a round trip to the database)."""
    rows = await db.exec(
        select(Participant.user_id, Participant.vote_weight, BallotCast.id)
        .outerjoin(
            BallotCast,
            sa.and_(
                col(BallotCast.vote_id) == vote.id,
                col(BallotCast.voter_id) == Participant.user_id,
            ),
        )
        .where(
            Participant.meeting_id == vote.meeting_id,
            col(Participant.user_id).in_(voters),
            col(Participant.role).in_(VOTERS),
            Participant.vote_weight > 0,
        )
    )
    found = rows.all()
    weights = {voter: weight for voter, weight, _ in found}
    return weights, {voter for voter, _, cast in found if cast is not None}


async def _record(
    db: AsyncSession,
    vote: Vote,
    final: dict[int, tuple[list[VoteOption], int]],
    before: set[int],
) -> None:
    """Rows go in the voters' (and options') order, so batches of two servers that touch the
    same rows wait for each other instead of deadlocking. Many rows are one statement sent
    with many parameter sets (compiled once, sent together)."""
    connection = await db.connection()
    new = sorted(v for v in final if v not in before)
    if new:
        rows = [{"vote_id": vote.id, "voter_id": v, "weight": final[v][1]} for v in new]
        await connection.execute(sa.insert(BallotCast), rows)
    if vote.secret:  # only the counts grow; no row names a voter, a time or an order
        if new:  # the box's count of ballots, apart from who cast them (first: one lock order)
            await db.exec(  # type: ignore[call-overload]
                sa.update(BallotCount)
                .where(col(BallotCount.vote_id) == vote.id)
                .values(ballots=BallotCount.ballots + len(new))
            )
        totals: Counter[int] = Counter()
        for chosen, weight in final.values():
            for option in chosen:
                totals[option.id] += weight
        for option_id, weight in sorted(totals.items()):
            await db.exec(  # type: ignore[call-overload]
                sa.update(Ballot)
                .where(Ballot.vote_id == vote.id, Ballot.option_id == option_id)
                .values(weight=Ballot.weight + weight)
            )
        return
    changed = sorted(v for v in final if v in before)
    if changed:
        await db.exec(  # type: ignore[call-overload]
            sa.delete(Ballot).where(Ballot.vote_id == vote.id, col(Ballot.voter_id).in_(changed))
        )
    ballots = [
        {"id": uuid.uuid4(), "vote_id": vote.id, "option_id": o.id, "weight": w, "voter_id": v}
        for v, (chosen, w) in sorted(final.items())
        for o in chosen
    ]
    await connection.execute(sa.insert(Ballot), ballots)
