"""Votes over HTTP and on the socket: the routes, `vote.cast`, the snapshot's open vote."""

from __future__ import annotations

from typing import Any, TypedDict, cast

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import council
from server.access import meeting_permission
from server.errors import AppError
from server.house import House
from server.live.protocol import Command, Live, Part, Session, field_of
from server.models import (
    BallotCast,
    Vote,
)
from server.votes.rules import (
    CountIn,
    VoteIn,
    check,
    check_reachable,
    with_defaults,
)
from server.votes.store import (
    Requirement,
    VoteView,
    create_vote,
    options_of,
    requirement,
    vote_counts,
    vote_json,
    vote_view,
)

# --- the socket --------------------------------------------------------------------------


async def open_vote_state(db: AsyncSession, session: Session, seq: int) -> dict[str, Any] | None:
    """The open vote, if any, and whether this tablet's owner has voted in it."""
    vote = await session.state.snapshots.shared(db, session, seq, "open vote", _open_vote)
    if vote is None:
        return None
    voted = (
        await db.exec(
            select(BallotCast.id).where(
                BallotCast.vote_id == vote["id"], BallotCast.voter_id == session.user_id
            )
        )
    ).first()
    return {**vote, "you_voted": voted is not None}


async def _open_vote(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any] | None:
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
        **(await vote_counts(db, vote)),
    }


class RequirementPreview(Requirement):
    """What a vote with these rules would need, before it is made."""

    majority_base: str
    threshold: str
    members: int
    voters: int


class BallotTaken(TypedDict):
    vote_id: int
    choices: list[str]
    changed: bool  # a ballot given before was replaced


# --- HTTP --------------------------------------------------------------------------------

PRESIDE = {"permission": "preside"}


@post(
    "/meetings/{meeting_id:int}/votes",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def create(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    data: JSONBody[VoteIn],
) -> VoteView:
    vote = await create_vote(db, request.state.access, request.user, data)
    return await vote_view(db, vote)


@get("/meetings/{meeting_id:int}/votes/requirement", guards=[meeting_permission], opt=PRESIDE)
async def preview(
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    majority_base: FromQuery[str | None] = None,
    threshold: FromQuery[str | None] = None,
    quorum: FromQuery[int | None] = None,
) -> RequirementPreview:
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
async def list_votes(
    db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> list[VoteView]:
    """The meeting's votes, newest first, with results once closed."""
    rows = await db.exec(
        select(Vote).where(Vote.meeting_id == meeting_id).order_by(col(Vote.created_at).desc())
    )
    return [await vote_view(db, vote) for vote in rows.all()]


@post(
    "/votes/{vote_id:int}/open", guards=[meeting_permission], opt=PRESIDE, status_code=HTTP_200_OK
)
async def open_(request: Request, state: House, vote_id: FromPath[int]) -> VoteView:
    await state.votes.open(vote_id, request.user)
    return await state.votes.view(vote_id)


@post(
    "/votes/{vote_id:int}/close", guards=[meeting_permission], opt=PRESIDE, status_code=HTTP_200_OK
)
async def close(request: Request, state: House, vote_id: FromPath[int]) -> VoteView:
    await state.votes.close(vote_id, request.user.id)
    return await state.votes.view(vote_id)


@get("/votes/{vote_id:int}", guards=[meeting_permission])
async def show(state: House, vote_id: FromPath[int]) -> VoteView:
    return await state.votes.view(vote_id)


@post("/votes/{vote_id:int}/count", guards=[meeting_permission], status_code=HTTP_200_OK)
async def count(
    request: Request, state: House, vote_id: FromPath[int], data: JSONBody[CountIn]
) -> VoteView:
    """The tally committee's counts of a show of hands or a paper ballot."""
    presides = request.state.access.can("preside")
    await state.votes.enter_count(vote_id, request.user, data, presides)
    return await state.votes.view(vote_id)


class BallotIn(msgspec.Struct):
    option: str | None = None
    options: list[str] | None = None


async def cast_from_tablet(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"vote.cast","id":…,"vote_id":V,"option":"yes"}` (or `"options":[…]`)."""
    vote_id = field_of(message, "vote_id", int)
    choices = _choices(message)
    return await session.state.votes.cast(vote_id, session.user_id, choices, session.meeting_id)


def _choices(message: dict[str, Any]) -> list[str]:
    if isinstance(message.get("options"), list):
        return [str(c) for c in message["options"]]
    if isinstance(message.get("option"), str):
        return [message["option"]]
    raise AppError(400, "bad_choice", "Choose between 1 and {limit} options.", limit=1)


@post(
    "/votes/{vote_id:int}/ballots",
    guards=[meeting_permission],
    opt={"permission": "vote"},
    status_code=HTTP_201_CREATED,
)
async def ballot(
    request: Request, state: House, vote_id: FromPath[int], data: JSONBody[BallotIn]
) -> BallotTaken:
    """`{option}` or `{options}`: the same rules as `vote.cast` on the socket."""
    choices = data.options if data.options is not None else [data.option] if data.option else []
    return cast(BallotTaken, await state.votes.cast(vote_id, request.user.id, choices))


router = Router(
    path="/api",
    route_handlers=[create, preview, list_votes, open_, close, show, count, ballot],
    tags=["votes"],
)

LIVE = Live(
    commands=[
        Command("vote.cast", cast_from_tablet, "vote"),
    ],
    parts=[Part("vote", open_vote_state)],
)
