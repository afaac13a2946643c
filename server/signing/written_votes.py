"""Signing a written vote's count minutes (biên bản kiểm phiếu lấy ý kiến, server/written_votes.py):
once the vote has closed, its frozen PDF is signed by the council's chair who sent it (over
their printed name, under TM. THƯỜNG TRỰC HĐND / CHỦ TỊCH), then by a secretary account of
the council (THƯ KÝ), then with the council's seal, through the same turns, checks and
keeping as the minutes (server/signing/api.py)."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel.ext.asyncio.session import AsyncSession

from server import openapi
from server.access import runs_body, signed_in
from server.errors import AppError, not_found
from server.house import House
from server.models import Signature, User, WrittenVote
from server.record import content_sha256
from server.signing.api import (
    COUNCIL_ROLE_NAMES,
    FILENAMES,
    Anchor,
    SignatureOut,
    SignRequest,
    Turns,
    _check_turn,
    _next_turn,
    _pdf,
    _sign_and_keep,
    _signatures,
    _turns,
    order,
    signature_json,
)
from server.written_votes import _visible, record_pdf

# the signer's office in the block, from the titles the form prints over their name
OFFICES = {
    "TM. THƯỜNG TRỰC HĐND": "TM. Thường trực HĐND",
    "TM. ỦY BAN NHÂN DÂN": "TM. Ủy ban nhân dân",
    "KT. CHỦ TỊCH": "KT. Chủ tịch",
    "CHỦ TỊCH": "Chủ tịch",
    "PHÓ CHỦ TỊCH": "Phó Chủ tịch",
    "CHỦ TỌA": "Chủ tọa",
}


def _may_sign(user: User, vote: WrittenVote, role: str) -> bool:
    """The chair who sent it signs as chair; an account that runs the council (its
    secretary, an admin), not the chair, as secretary; such an account applies the seal."""
    if role == "chair":
        return user.id == vote.opened_by
    if role == "secretary":
        return user.id != vote.opened_by and runs_body(user, vote.body_id)
    return runs_body(user, vote.body_id)


def _anchors(record: dict[str, Any]) -> dict[str, Anchor]:
    """The names and headings the count minutes print over the signatures
    (agenda/written_vote.py), and the signer's office."""
    titles = list(record.get("signer_titles") or ["CHỦ TỌA"])
    office = " - ".join(OFFICES.get(title, title) for title in titles)
    chair = (record.get("chair", ""), titles[-1], office)
    return {
        "chair": chair,
        "secretary": (record.get("secretary", ""), "THƯ KÝ", "Thư ký"),
        "seal": chair,
    }


def _frozen(vote: WrittenVote) -> dict[str, Any]:
    """The frozen content of a closed vote's minutes, as its hash says it was frozen."""
    if vote.status != "closed" or vote.record is None:
        raise AppError(
            409,
            "not_closed",
            "Only the minutes of a closed written vote can be signed: it closes at its deadline.",
        )
    if content_sha256(vote.record) != vote.record_sha256:
        raise AppError(
            409,
            "frozen_altered",
            "The frozen PDF no longer matches the fingerprint kept when it was frozen: "
            "nothing was signed.",
        )
    return vote.record


class WrittenVoteSignatures(Turns):
    kind: str
    written_vote_id: int | None
    closed: bool


async def view(
    request: Request, db: AsyncSession, state: House, vote_id: int
) -> WrittenVoteSignatures:
    """The count minutes' signatures, whose turn it is and whether it is the caller's."""
    vote, _ = await _visible(db, request.user, vote_id)
    done = await _signatures(db, written_vote_id=vote.id)
    roles = order("written_vote", state.settings)
    turn = _next_turn(roles, done)
    closed = vote.status == "closed"
    mine = bool(closed and turn is not None and _may_sign(request.user, vote, turn))
    base = f"/api/written-votes/{vote.id}/signatures"
    return {
        "kind": "written_vote",
        "written_vote_id": vote.id,
        "closed": closed,
        **_turns(request, state, roles, done, turn, mine, base, COUNCIL_ROLE_NAMES),
    }


async def sign(
    request: Request, state: House, vote_id: int, data: SignRequest
) -> tuple[Signature, str]:
    """Signs the count minutes in `data.role`; every refusal keeps nothing."""
    async with state.db_read() as db:
        vote, _ = await _visible(db, request.user, vote_id)
        done = await _signatures(db, written_vote_id=vote.id)
    record = _frozen(vote)
    roles = order("written_vote", state.settings)
    may_sign = partial(_may_sign, request.user, vote)
    _check_turn(request, roles, done, data.role, may_sign, "written_vote", COUNCIL_ROLE_NAMES)
    unsigned = vote.record_pdf_sha256
    if not unsigned:  # no one has downloaded the minutes yet: made now, once, and kept
        unsigned = hashlib.sha256(await record_pdf(state, vote)).hexdigest()
    return await _sign_and_keep(
        request, state, data, done, unsigned, _anchors(record), written_vote_id=vote.id
    )


@get("/api/written-votes/{vote_id:int}/signatures", guards=[signed_in])
async def get_written_vote_signatures(
    request: Request, state: House, vote_id: FromPath[int]
) -> WrittenVoteSignatures:
    """The count minutes' signatures, whose turn it is, and whether it is the caller's."""
    await state.written_votes.close_overdue()
    async with state.db_read() as db:
        return await view(request, db, state, vote_id)


@post(
    "/api/written-votes/{vote_id:int}/signatures", guards=[signed_in], status_code=HTTP_201_CREATED
)
async def add_written_vote_signature(
    request: Request, state: House, vote_id: FromPath[int], data: JSONBody[SignRequest]
) -> SignatureOut:
    """Ký số biên bản kiểm phiếu: `{role, pin}`; the chair, the secretary, then the seal."""
    sig, name = await sign(request, state, vote_id, data)
    return signature_json(sig, name, state.settings.tz)


@get("/api/written-votes/{vote_id:int}/signatures/pdf", guards=[signed_in], responses=openapi.PDF)
async def signed_written_vote_pdf(
    request: Request, state: House, vote_id: FromPath[int]
) -> Response[bytes]:
    """The count minutes with every signature so far."""
    async with state.db_read() as db:
        vote, _ = await _visible(db, request.user, vote_id)
        done = await _signatures(db, written_vote_id=vote.id)
    if not done:
        raise not_found("signed PDF")
    return _pdf(state, done[-1][0].pdf_sha256, f"{FILENAMES['written_vote']}-{vote.id}-da-ky.pdf")


ROUTES = [get_written_vote_signatures, add_written_vote_signature, signed_written_vote_pdf]
