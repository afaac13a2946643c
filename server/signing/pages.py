"""HTML for the signatures of an adopted resolution and of a written vote's count minutes:
the fragment under the resolution on the meeting's agenda (editor and meeting page) or on the
written vote's page, with the sign form for whoever's turn it is (one template for both,
fragments/signing_box.html)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import meeting_permission, signed_in
from server.documents.rules import reads_confidential
from server.errors import form_of, not_found
from server.house import House
from server.i18n import N_
from server.signing import written_votes
from server.signing.api import (
    COUNCIL_ROLE_NAMES,
    PRESIDE,
    ROLE_NAMES,
    VIEW,
    SignRequest,
    Turns,
    _resolution,
    resolution_view,
    sign_resolution,
)


def _box(view: Turns, role_names: dict[str, str], **box: str) -> Template:
    return Template(
        "fragments/signing_box.html",
        context={"view": view, "box": box, "role_names": role_names},
    )


async def _sign_request(request: Request) -> SignRequest:
    form = await form_of(request)
    return SignRequest(role=str(form.get("role", "")), pin=str(form.get("pin", "")))


async def _fragment(request: Request, db: AsyncSession, state: House, document_id: int) -> Template:
    document = await _resolution(db, document_id)
    if document.confidential and not reads_confidential(request.state.access):
        raise not_found("document")
    view = await resolution_view(request, db, state, document)
    pending = N_(
        "No vote on this item has passed yet: the resolution is signed after the council adopts it."
    )
    return _box(
        view,
        ROLE_NAMES,
        id=f"resolution-signing-{document.id}",
        css="resolution-signing",
        heading=N_("Digital signatures on the resolution"),
        pending="" if view["adopted"] else pending,
        sign_url=f"/documents/{document.id}/sign",
        download=N_("Download the signed resolution (PDF)"),
    )


@get("/documents/{document_id:int}/signing", guards=[meeting_permission], opt=VIEW)
async def resolution_signing(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Template:
    """Who signed the resolution, the signed PDF, and the sign form when it is the caller's turn."""
    return await _fragment(request, db, state, document_id)


@post("/documents/{document_id:int}/sign", guards=[meeting_permission], opt=PRESIDE)
async def sign_from_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Template:
    """The sign form: `role`, and `pin` for a key on a token."""
    await sign_resolution(request, state, document_id, await _sign_request(request))
    return await _fragment(request, db, state, document_id)


async def _written_vote_box(request: Request, state: House, vote_id: int) -> Template:
    async with state.db_read() as db:
        view = await written_votes.view(request, db, state, vote_id)
    pending = N_("The minutes of the count are signed once the written vote has closed.")
    return _box(
        view,
        COUNCIL_ROLE_NAMES,
        id="written-vote-signing",
        css="written-vote-signing",
        heading=N_("Digital signatures on the minutes of the count"),
        pending="" if view["closed"] else pending,
        sign_url=f"/written-votes/{vote_id}/sign",
        download=N_("Download the signed minutes of the count (PDF)"),
    )


@get("/written-votes/{vote_id:int}/signing", guards=[signed_in])
async def written_vote_signing(request: Request, state: House, vote_id: FromPath[int]) -> Template:
    """On the written vote's page: who signed its count minutes, the signed PDF, and the sign
    form when it is the caller's turn."""
    await state.written_votes.close_overdue()
    return await _written_vote_box(request, state, vote_id)


@post("/written-votes/{vote_id:int}/sign", guards=[signed_in])
async def sign_written_vote_from_page(
    request: Request, state: House, vote_id: FromPath[int]
) -> Template:
    """The sign form of the count minutes: `role`, and `pin` for a key on a token."""
    await written_votes.sign(request, state, vote_id, await _sign_request(request))
    return await _written_vote_box(request, state, vote_id)


ROUTES = [resolution_signing, sign_from_page, written_vote_signing, sign_written_vote_from_page]
