"""HTML for documents: the editor's upload fragment and the delegate's reader."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import MeetingAccess, meeting_permission
from server.documents import rules, versions
from server.documents.api import delete_from_request, replace_from_request, upload_to_item
from server.house import House
from server.meetings import rules as meeting_rules
from server.meetings.pages import agenda_fragment
from server.models import AgendaBook, Meeting


@post("/items/{item_id:int}/documents", guards=[meeting_permission], opt={"permission": "manage"})
async def upload_from_editor(
    request: Request, db: NamedDependency[AsyncSession], item_id: FromPath[int]
) -> Template:
    await upload_to_item(request, db, item_id)
    return await agenda_fragment(db, request.state.access.meeting)


@post(
    "/documents/{document_id:int}/replace",
    guards=[meeting_permission],
    opt={"permission": "manage"},
)
async def replace_from_editor(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> Template:
    new = await replace_from_request(request, db, document_id)
    fragment = await agenda_fragment(db, await db.get_one(Meeting, new.meeting_id))
    fragment.headers["HX-Trigger"] = "publishing"  # the editor shows the book being rebuilt
    return fragment


@post(
    "/documents/{document_id:int}/delete", guards=[meeting_permission], opt={"permission": "manage"}
)
async def delete_from_editor(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> Template:
    meeting_id = await delete_from_request(request, db, document_id)
    return await agenda_fragment(db, await db.get_one(Meeting, meeting_id))


@get("/documents/{document_id:int}/versions", guards=[meeting_permission])
async def versions_fragment(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Template:
    """The editor's list of a document's versions."""
    document = await rules.readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    context = {
        "versions": await versions.version_history(db, document, state.settings.tz),
        "meeting_id": document.meeting_id,
        "tz": state.settings.tz,
    }
    return Template("fragments/document_versions.html", context=context)


@get("/meetings/{meeting_id:int}/read", guards=[meeting_permission])
async def reader(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    document: FromQuery[int | None] = None,
    page: FromQuery[int] = 1,
) -> Template:
    """The agenda beside a page viewer; opens `document` at `page`, else the newest book."""
    access: MeetingAccess = request.state.access
    view = await meeting_rules.meeting_view(db, access)
    readable = {
        item_id: [d for d in docs if rules.can_read(access, d)]
        for item_id, docs in view["documents"].items()
    }
    book = (
        await db.exec(
            select(AgendaBook)
            .where(AgendaBook.meeting_id == meeting_id)
            .order_by(col(AgendaBook.version).desc())
        )
    ).first()
    first = next((d for docs in readable.values() for d in docs if d.kind == "paper"), None)
    opened = document or (book.document_id if book else None) or (first.id if first else None)
    context = {
        **view,
        "documents": readable,
        "book": book,
        "opened": opened,
        "page": max(1, page),
        "tz": state.settings.tz,
    }
    return Template("reader.html", context=context)


ROUTES = [upload_from_editor, replace_from_editor, delete_from_editor, versions_fragment, reader]
