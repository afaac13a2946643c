"""HTML for an adopted resolution's signatures: the fragment under the resolution on the
meeting's agenda (editor and meeting page), and the chair's and the seal's sign form."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import meeting_permission
from server.documents.rules import reads_confidential
from server.errors import form_of, not_found
from server.house import House
from server.signing.api import (
    PRESIDE,
    ROLE_NAMES,
    VIEW,
    SignRequest,
    _resolution,
    resolution_view,
    sign_resolution,
)


async def _fragment(request: Request, db: AsyncSession, state: House, document_id: int) -> Template:
    document = await _resolution(db, document_id)
    if document.confidential and not reads_confidential(request.state.access):
        raise not_found("document")
    view = await resolution_view(request, db, state, document)
    return Template(
        "fragments/resolution_signing.html",
        context={"view": view, "document": document, "role_names": ROLE_NAMES},
    )


@get("/documents/{document_id:int}/signing", guards=[meeting_permission], opt=VIEW)
async def resolution_signing(
    request: Request, db: AsyncSession, state: House, document_id: int
) -> Template:
    """Who signed the resolution, the signed PDF, and the sign form when it is the caller's turn."""
    return await _fragment(request, db, state, document_id)


@post("/documents/{document_id:int}/sign", guards=[meeting_permission], opt=PRESIDE)
async def sign_from_page(
    request: Request, db: AsyncSession, state: House, document_id: int
) -> Template:
    """The sign form: `role`, and `pin` for a key on a token."""
    form = await form_of(request)
    data = SignRequest(role=str(form.get("role", "")), pin=str(form.get("pin", "")))
    await sign_resolution(request, state, document_id, data)
    return await _fragment(request, db, state, document_id)


ROUTES = [resolution_signing, sign_from_page]
