"""Votes in the database: made, opened, closed on the tablets' ballots or the tally
committee's counts; the result computed once, in the closing transaction, and kept."""

from __future__ import annotations

from typing import Any, TypedDict

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council, journal
from server.access import MeetingAccess
from server.errors import AppError, not_found
from server.models import (
    AgendaItem,
    Ballot,
    BallotCast,
    BallotCount,
    JournalEvent,
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
    deadline,
    decide,
    needed,
    with_defaults,
)


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


class Requirement(TypedDict):
    """`needed` votes of `base` to pass (None while the base is the votes not yet cast)."""

    base: int | None
    needed: int | None


class OptionOut(TypedDict):
    key: str
    label: str


class VoteFields(TypedDict):
    id: int | None
    meeting_id: int
    item_id: int | None
    title: str
    kind: str
    secret: bool
    majority_base: str
    threshold: str
    quorum: int | None
    max_choices: int
    allow_change: bool
    duration_s: int | None
    method: str
    counted_by: int | None
    status: str
    options: list[OptionOut]
    opened_at: str | None
    closes_at: str | None


class VoteOut(VoteFields, total=False):
    """What everyone may know of a vote; `result` once it is closed."""

    result: dict[str, Any] | None


class VoteView(VoteOut):
    """A vote as the console shows it: what it needs, and how many have voted."""

    requirement: Requirement
    voters: int


async def requirement(db: AsyncSession, vote: Vote) -> Requirement:
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


def vote_json(vote: Vote, options: list[VoteOption]) -> VoteOut:
    """What everyone may know of a vote (no tallies before the close)."""
    data: VoteOut = {
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
        "closes_at": due.isoformat() if (due := deadline(vote)) else None,
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


async def open_vote(db: AsyncSession, vote_id: int, user: User) -> tuple[Vote, JournalEvent]:
    """Opens a draft vote and journals `vote.opened`; the caller tells the hall."""
    vote = await locked_vote(db, vote_id, shared=False)
    if vote.status != "draft":
        raise AppError(409, "not_draft", "This vote has already been opened.")
    check_reachable(vote, await council.membership(db, vote.meeting_id))
    vote.status, vote.opened_at = "open", utcnow()
    db.add(vote)
    options = await options_of(db, vote.id)
    if vote.secret:  # running totals, made now so a ballot only ever adds to them
        db.add_all(Ballot(vote_id=vote.id, option_id=o.id, weight=0) for o in options)
        db.add(BallotCount(vote_id=vote_id, ballots=0))
    shown = {**vote_json(vote, options), "requirement": await requirement(db, vote)}
    opened = {"vote": shown, **(await vote_counts(db, vote))}
    event = await journal.append(db, vote.meeting_id, "vote.opened", opened, user.id)
    await db.commit()
    return vote, event


async def close_vote(
    db: AsyncSession, vote_id: int, user_id: int | None
) -> tuple[Vote, JournalEvent | None]:
    """Closes the vote and computes its result once; closing again returns the same result
    (and no event)."""
    vote = await locked_vote(db, vote_id, shared=False)
    if vote.status == "closed":
        return vote, None
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
    return vote, event


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
    if vote.secret and vote.id is not None:
        result["ballots"] = await ballots_in_box(db, vote.id)
    else:
        result["named"] = await _named(db, vote, options)
    return result


async def ballots_in_box(db: AsyncSession, vote_id: int) -> int | None:
    """How many ballots a secret vote's box holds, counted apart from who cast them (None
    for a vote opened before the box counted)."""
    found = await db.exec(select(BallotCount.ballots).where(BallotCount.vote_id == vote_id))
    return found.first()


async def secret_counts(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    """Per closed secret vote on the tablets: the ballots in the box, the voters who cast
    (BallotCast rows) and what the kept result says; `holds` when all agree."""
    votes = await db.exec(
        select(Vote)
        .where(
            Vote.meeting_id == meeting_id,
            col(Vote.secret).is_(True),
            Vote.status == "closed",
            Vote.method == "electronic",
        )
        .order_by(col(Vote.id))
    )
    checks = []
    for vote in votes.all():
        assert vote.id is not None
        ballots = await ballots_in_box(db, vote.id)
        if ballots is None:  # opened before the box counted its ballots
            continue
        voters = (await db.exec(select(sa.func.count()).where(BallotCast.vote_id == vote.id))).one()
        kept = vote.result or {}
        holds = ballots == voters == kept.get("voters") and kept.get("ballots") == ballots
        checks.append(
            {
                "vote_id": vote.id,
                "title": vote.title,
                "ballots": ballots,
                "voters": voters,
                "holds": holds,
            }
        )
    return checks


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


async def vote_counts(db: AsyncSession, vote: Vote) -> dict[str, int]:
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


async def vote_view(db: AsyncSession, vote: Vote) -> VoteView:
    """A vote as the console shows it: what it needs, and how many have voted."""
    voters = (await db.exec(select(sa.func.count()).where(BallotCast.vote_id == vote.id))).one()
    if vote.method != "electronic" and vote.result:
        voters = vote.result.get("voters", 0)
    return {
        **vote_json(vote, await options_of(db, vote.id)),
        "requirement": await requirement(db, vote),
        "voters": voters,
    }


async def enter_count(
    db: AsyncSession, vote_id: int, user: User, given: CountIn, presides: bool
) -> tuple[Vote, JournalEvent]:
    """Closes a vote by show of hands or paper ballot with the tally committee's counts,
    decided by the same rules as a vote on the tablets."""
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
    counter = await db.get_one(User, counter_id)
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
    return vote, event
