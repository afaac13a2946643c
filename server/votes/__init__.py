"""Votes (biểu quyết): one ballot per voter, nothing after the close, secret means secret,
and the result is computed once, in the closing transaction, and kept."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council, journal
from server.access import MeetingAccess, meeting_permission
from server.errors import AppError, not_found
from server.live import snapshot
from server.live.hub import dumps
from server.live.protocol import Session
from server.models import (
    AgendaItem,
    Ballot,
    BallotCast,
    MeetingRole,
    Participant,
    User,
    Vote,
    VoteOption,
    utcnow,
)
from server.votes.rules import (
    VOTERS,
    CountIn,
    VoteIn,
    check,
    check_reachable,
    checked_counts,
    chosen_options,
    deadline,
    decide,
    needed,
    with_defaults,
)

__all__ = ["VOTERS", "chosen_options", "decide", "needed"]

log = logging.getLogger("phonghop.votes")
PROGRESS_EVERY_S = 0.2  # ballots counted are told at most this often, not once per ballot
SWEEP_EVERY_S = 5.0  # how often each server looks for timed votes opened elsewhere


async def _counter(db: AsyncSession, meeting_id: int, user_id: int | None) -> int | None:
    """The participant who will enter a hand count, checked."""
    if user_id is None:
        return None
    found = (
        await db.exec(
            select(Participant.id).where(
                Participant.meeting_id == meeting_id, Participant.user_id == user_id
            )
        )
    ).first()
    if found is None:
        raise AppError(400, "bad_counter", "The vote counter must take part in this meeting.")
    return user_id


async def create_vote(db: AsyncSession, access: MeetingAccess, user: User, given: VoteIn) -> Vote:
    membership = await council.membership(db, access.meeting.id)
    given = with_defaults(given, membership.kind)
    options = check(given)
    if given.item_id is not None:
        item = await db.get(AgendaItem, given.item_id)
        if item is None or item.meeting_id != access.meeting.id:
            raise AppError(400, "bad_item", "The agenda item is not in this meeting.")
    choices = given.max_choices if given.kind in ("multiple", "election") else 1
    vote = Vote(
        meeting_id=access.meeting.id,
        item_id=given.item_id,
        title=given.title.strip(),
        kind=given.kind,
        secret=given.secret,
        majority_base=given.majority_base,
        threshold=given.threshold,
        quorum=given.quorum,
        max_choices=choices,
        allow_change=given.allow_change and given.method == "electronic",
        duration_s=given.duration_s if given.method == "electronic" else None,
        method=given.method,
        counted_by=await _counter(db, access.meeting.id, given.counted_by),
        created_by=user.id,
    )
    check_reachable(vote, membership)
    db.add(vote)
    await db.flush()
    db.add_all(
        VoteOption(vote_id=vote.id, position=n, key=key, label=label)
        for n, (key, label) in enumerate(options)
    )
    await db.commit()
    return vote


async def requirement(db: AsyncSession, vote: Vote) -> dict[str, Any]:
    """What the vote needs, known before it opens: `needed` of `base` (None while the base
    is the votes not yet cast)."""
    if vote.status == "closed" and vote.result:
        return {"base": vote.result.get("base"), "needed": vote.result.get("needed")}
    if vote.majority_base == "cast":
        return {"base": None, "needed": None}
    base = await _base(db, vote, 0)
    return {"base": base, "needed": needed(vote, base)}


async def options_of(db: AsyncSession, vote_id: int) -> list[VoteOption]:
    rows = await db.exec(
        select(VoteOption).where(VoteOption.vote_id == vote_id).order_by(VoteOption.position)
    )
    return list(rows.all())


def vote_json(vote: Vote, options: list[VoteOption]) -> dict[str, Any]:
    """What everyone may know of a vote (no tallies before the close)."""
    data: dict[str, Any] = {
        "id": vote.id,
        "meeting_id": vote.meeting_id,
        "item_id": vote.item_id,
        "title": vote.title,
        "kind": vote.kind,
        "secret": vote.secret,
        "majority_base": vote.majority_base,
        "threshold": vote.threshold,
        "quorum": vote.quorum,
        "max_choices": vote.max_choices,
        "allow_change": vote.allow_change,
        "duration_s": vote.duration_s,
        "method": vote.method,
        "counted_by": vote.counted_by,
        "status": vote.status,
        "options": [{"key": o.key, "label": o.label} for o in options],
        "opened_at": vote.opened_at.isoformat() if vote.opened_at else None,
        "closes_at": deadline(vote).isoformat() if deadline(vote) else None,
    }
    if vote.status == "closed":
        data["result"] = vote.result
    return data


async def locked_vote(db: AsyncSession, vote_id: int, shared: bool) -> Vote:
    """The vote row, locked on PostgreSQL (shared for ballots, exclusive for the close);
    on SQLite the writer's transaction already holds the database's write lock."""
    statement = select(Vote).where(Vote.id == vote_id).with_for_update(read=shared)
    vote = (await db.exec(statement)).first()
    if vote is None:
        raise not_found("vote")
    return vote


async def open_vote(state: Any, vote_id: int, user: User) -> Vote:
    async with state.db() as db:
        vote = await locked_vote(db, vote_id, shared=False)
        if vote.status != "draft":
            raise AppError(409, "not_draft", "This vote has already been opened.")
        check_reachable(vote, await council.membership(db, vote.meeting_id))
        vote.status, vote.opened_at = "open", utcnow()
        db.add(vote)
        options = await options_of(db, vote.id)
        if vote.secret:  # running totals, made now so a ballot only ever adds to them
            db.add_all(Ballot(vote_id=vote.id, option_id=o.id, weight=0) for o in options)
        shown = {**vote_json(vote, options), "requirement": await requirement(db, vote)}
        opened = {"vote": shown, **(await _counts(db, vote))}
        event = await journal.append(db, vote.meeting_id, "vote.opened", opened, user.id)
        await db.commit()
    state.hub.publish_event(event)
    state.votes.schedule_close(state, vote)
    return vote


async def close_vote(state: Any, vote_id: int, user_id: int | None) -> Vote:
    """Closes the vote and computes its result once; closing again returns the same result."""
    async with state.db() as db:
        vote = await locked_vote(db, vote_id, shared=False)
        if vote.status == "closed":
            return vote
        if vote.status == "draft":
            raise AppError(409, "vote_not_open", "This vote is not open yet.")
        if vote.method != "electronic":
            raise AppError(
                409, "counts_needed", "Enter the tally committee's counts to close this vote."
            )
        vote.status, vote.closed_at = "closed", utcnow()
        vote.result = await _result(db, vote)
        db.add(vote)
        options = await options_of(db, vote.id)
        event = await journal.append(
            db, vote.meeting_id, "vote.closed", {"vote": vote_json(vote, options)}, user_id
        )
        await db.commit()
    state.hub.publish_event(event)
    state.votes.forget(vote.id)
    state.ballots.forget(vote.id)
    return vote


async def _result(db: AsyncSession, vote: Vote) -> dict[str, Any]:
    options = await options_of(db, vote.id)
    totals = dict.fromkeys((o.id for o in options), 0)
    rows = await db.exec(
        select(Ballot.option_id, sa.func.sum(Ballot.weight))
        .where(Ballot.vote_id == vote.id)
        .group_by(Ballot.option_id)
    )
    for option_id, weight in rows.all():
        totals[option_id] = int(weight or 0)
    cast = await db.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(BallotCast.weight), 0)).where(
            BallotCast.vote_id == vote.id
        )
    )
    voters, cast_weight = cast.one()
    base = await _base(db, vote, int(cast_weight))
    tally = {o.key: totals[o.id] for o in options}
    decided = decide(vote, tally, base, voters)
    result = {
        "tally": tally,
        "labels": {o.key: o.label for o in options},
        "voters": voters,
        "cast_weight": int(cast_weight),
        "base": base,
        **decided,
    }
    if not vote.secret:
        result["named"] = await _named(db, vote, options)
    return result


async def _base(db: AsyncSession, vote: Vote, cast_weight: int) -> int:
    """What the majority is counted on: votes cast, delegates present, or all delegates of
    the council (its total membership by law, not the meeting's participants)."""
    if vote.majority_base == "cast":
        return cast_weight
    if vote.majority_base == "present":
        return await council.voters_weight(db, vote.meeting_id, present_only=True)
    return (await council.membership(db, vote.meeting_id)).total


async def _named(db: AsyncSession, vote: Vote, options: list[VoteOption]) -> list[dict[str, Any]]:
    keys = {o.id: o.key for o in options}
    rows = await db.exec(
        select(User.id, User.full_name, Ballot.option_id)
        .join(Ballot, col(Ballot.voter_id) == User.id)
        .where(Ballot.vote_id == vote.id)
        .order_by(User.full_name)
    )
    named: dict[int, dict[str, Any]] = {}
    for user_id, name, option_id in rows.all():
        named.setdefault(user_id, {"user_id": user_id, "name": name, "choices": []})
        named[user_id]["choices"].append(keys[option_id])
    return list(named.values())


async def resume_clocks(state: Any) -> None:
    """Open votes with a time limit close on time (at once if overdue), after a restart too."""
    async with state.db_read() as db:
        rows = await db.exec(
            select(Vote).where(Vote.status == "open", col(Vote.duration_s).is_not(None))
        )
        for vote in rows.all():
            state.votes.schedule_close(state, vote)


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

    def __init__(self) -> None:
        self._closers: dict[int, asyncio.Task[None]] = {}
        self._progress: dict[int, _Progress] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def start(self, state: Any) -> None:
        self._sweeper = asyncio.create_task(self._sweep(state))

    async def _sweep(self, state: Any) -> None:
        while True:
            try:
                await resume_clocks(state)
            except Exception:  # the database away for a moment: try again at the next sweep
                log.exception("could not read the open votes")
            await asyncio.sleep(SWEEP_EVERY_S)

    def schedule_close(self, state: Any, vote: Vote) -> None:
        due = deadline(vote)
        if due is None or vote.id in self._closers:
            return
        delay = max(0.0, (due - utcnow()).total_seconds())
        self._closers[vote.id] = asyncio.create_task(self._close_later(state, vote.id, delay))

    async def _close_later(self, state: Any, vote_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self._closers.pop(vote_id, None)
        await close_vote(state, vote_id, None)

    def progress_changed(self, state: Any, meeting_id: int, vote_id: int) -> None:
        pacing = self._progress.setdefault(vote_id, _Progress())
        pacing.dirty = True
        if pacing.task is None:
            pacing.task = asyncio.create_task(self._tell_progress(state, meeting_id, vote_id))

    async def _tell_progress(self, state: Any, meeting_id: int, vote_id: int) -> None:
        pacing = self._progress[vote_id]
        while pacing.dirty:
            pacing.dirty = False
            await _publish_progress(state, meeting_id, vote_id)
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


async def _counts(db: AsyncSession, vote: Vote) -> dict[str, int]:
    """How many have voted, and how many may."""
    voters = (await db.exec(select(sa.func.count()).where(BallotCast.vote_id == vote.id))).one()
    eligible = (
        await db.exec(
            select(sa.func.count()).where(
                Participant.meeting_id == vote.meeting_id,
                col(Participant.role).in_(VOTERS),
                Participant.vote_weight > 0,
            )
        )
    ).one()
    return {"voters": voters, "eligible": eligible}


async def _publish_progress(state: Any, meeting_id: int, vote_id: int) -> None:
    """How many have voted, to everyone; the live tally to the chair, in named votes only."""
    async with state.db_read() as db:
        vote = await db.get(Vote, vote_id)
        if vote is None or vote.status != "open":
            return
        counts = await _counts(db, vote)
        tally = None
        if not vote.secret:
            options = await options_of(db, vote_id)
            sums = await db.exec(
                select(Ballot.option_id, sa.func.sum(Ballot.weight))
                .where(Ballot.vote_id == vote_id)
                .group_by(Ballot.option_id)
            )
            by_id = dict(sums.all())
            tally = {o.key: int(by_id.get(o.id) or 0) for o in options}
    progress = {"type": "vote.progress", "vote_id": vote_id, **counts}
    state.hub.publish(meeting_id, dumps(progress))
    if tally is not None:
        state.hub.publish(
            meeting_id,
            dumps({**progress, "type": "vote.tally", "tally": tally}),
            roles=[MeetingRole.chair],
        )


# --- the socket --------------------------------------------------------------------------


@snapshot.part("vote")
async def open_vote_state(db: AsyncSession, session: Session, seq: int) -> dict[str, Any] | None:
    """The open vote, if any, and whether this tablet's owner has voted in it."""
    vote = await session.state.snapshots.shared(db, session, seq, "open vote", _open_vote)
    if vote is None:
        return None
    voted = (
        await db.exec(
            select(BallotCast.id).where(
                BallotCast.vote_id == vote["id"], BallotCast.voter_id == session.user.id
            )
        )
    ).first()
    return {**vote, "you_voted": voted is not None}


async def _open_vote(db: AsyncSession, state: Any, meeting_id: int) -> dict[str, Any] | None:
    """The meeting's open vote with its counts, alike for every tablet."""
    vote = (
        await db.exec(
            select(Vote)
            .where(Vote.meeting_id == meeting_id, Vote.status == "open")
            .order_by(col(Vote.opened_at).desc())
        )
    ).first()
    if vote is None:
        return None
    return {
        **vote_json(vote, await options_of(db, vote.id)),
        "requirement": await requirement(db, vote),
        **(await _counts(db, vote)),
    }


# --- HTTP --------------------------------------------------------------------------------

PRESIDE = {"permission": "preside"}


@post(
    "/meetings/{meeting_id:int}/votes",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def create(
    request: Request, db: AsyncSession, meeting_id: int, data: VoteIn
) -> dict[str, Any]:
    vote = await create_vote(db, request.state.access, request.user, data)
    return await vote_view(db, vote)


@get("/meetings/{meeting_id:int}/votes/requirement", guards=[meeting_permission], opt=PRESIDE)
async def preview(
    db: AsyncSession,
    meeting_id: int,
    majority_base: str | None = None,
    threshold: str | None = None,
    quorum: int | None = None,
) -> dict[str, Any]:
    """What a vote with these rules would need, said before it is made (400 if the council
    could never meet it), so the console can put it in words."""
    membership = await council.membership(db, meeting_id)
    given = with_defaults(
        VoteIn(title="-", majority_base=majority_base, threshold=threshold), membership.kind
    )
    check(given)
    vote = Vote(
        meeting_id=meeting_id,
        title="-",
        majority_base=given.majority_base,
        threshold=given.threshold,
        quorum=quorum,
    )
    check_reachable(vote, membership)
    return {
        **(await requirement(db, vote)),
        "majority_base": vote.majority_base,
        "threshold": vote.threshold,
        "members": membership.total,
        "voters": membership.voters,
    }


@get("/meetings/{meeting_id:int}/votes", guards=[meeting_permission])
async def list_votes(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    """The meeting's votes, newest first, with results once closed."""
    rows = await db.exec(
        select(Vote).where(Vote.meeting_id == meeting_id).order_by(col(Vote.created_at).desc())
    )
    return [await vote_view(db, vote) for vote in rows.all()]


@post(
    "/votes/{vote_id:int}/open", guards=[meeting_permission], opt=PRESIDE, status_code=HTTP_200_OK
)
async def open_(request: Request, state: State, vote_id: int) -> dict[str, Any]:
    vote = await open_vote(state, vote_id, request.user)
    return await _vote_view(state, vote.id)


@post(
    "/votes/{vote_id:int}/close", guards=[meeting_permission], opt=PRESIDE, status_code=HTTP_200_OK
)
async def close(request: Request, state: State, vote_id: int) -> dict[str, Any]:
    vote = await close_vote(state, vote_id, request.user.id)
    return await _vote_view(state, vote.id)


@get("/votes/{vote_id:int}", guards=[meeting_permission])
async def show(state: State, vote_id: int) -> dict[str, Any]:
    return await _vote_view(state, vote_id)


async def _vote_view(state: Any, vote_id: int) -> dict[str, Any]:
    async with state.db_read() as db:
        return await vote_view(db, await db.get(Vote, vote_id))


async def vote_view(db: AsyncSession, vote: Vote) -> dict[str, Any]:
    """A vote as the console shows it: what it needs, and how many have voted."""
    voters = (await db.exec(select(sa.func.count()).where(BallotCast.vote_id == vote.id))).one()
    if vote.method != "electronic" and vote.result:
        voters = vote.result.get("voters", 0)
    return {
        **vote_json(vote, await options_of(db, vote.id)),
        "requirement": await requirement(db, vote),
        "voters": voters,
    }


async def enter_count(state: Any, vote_id: int, user: User, given: CountIn, presides: bool) -> Vote:
    """Closes a vote by show of hands or paper ballot with the tally committee's counts,
    decided by the same rules as a vote on the tablets."""
    async with state.db() as db:
        vote = await locked_vote(db, vote_id, shared=False)
        if vote.method == "electronic":
            raise AppError(
                409, "not_by_hand", "This vote is taken on the tablets: the server counts it."
            )
        if vote.status == "closed":
            raise AppError(409, "vote_closed", "This vote is closed; no more ballots are taken.")
        if not presides and vote.counted_by != user.id:
            raise AppError(
                403, "not_counter", "Only the chair, the secretary or the named counter may."
            )
        options = await options_of(db, vote.id)
        membership = await council.membership(db, vote.meeting_id)
        voters = checked_counts(vote, options, given, membership.voters)
        counter_id = await _counter(db, vote.meeting_id, given.counted_by or user.id)
        counter = await db.get(User, counter_id)
        base = voters if vote.majority_base == "cast" else await _base(db, vote, voters)
        tally = {o.key: given.counts[o.key] for o in options}
        now = utcnow()
        vote.status, vote.opened_at, vote.closed_at = "closed", vote.opened_at or now, now
        vote.counted_by = counter_id
        vote.result = {
            "tally": tally,
            "labels": {o.key: o.label for o in options},
            "voters": voters,
            "cast_weight": voters,
            "base": base,
            **decide(vote, tally, base, voters),
            "method": vote.method,
            "counted_by": {"id": counter_id, "name": counter.full_name or counter.username},
        }
        db.add(vote)
        event = await journal.append(
            db, vote.meeting_id, "vote.closed", {"vote": vote_json(vote, options)}, user.id
        )
        await db.commit()
    state.hub.publish_event(event)
    state.votes.forget(vote.id)
    state.ballots.forget(vote.id)
    return vote


@post("/votes/{vote_id:int}/count", guards=[meeting_permission], status_code=HTTP_200_OK)
async def count(request: Request, state: State, vote_id: int, data: CountIn) -> dict[str, Any]:
    """The tally committee's counts of a show of hands or a paper ballot."""
    presides = request.state.access.can("preside")
    vote = await enter_count(state, vote_id, request.user, data, presides)
    return await _vote_view(state, vote.id)


router = Router(
    path="/api",
    route_handlers=[create, preview, list_votes, open_, close, show, count],
    tags=["votes"],
)
