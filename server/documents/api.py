"""JSON and file routes for documents (under /api): upload, metadata, pages, words, search."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.render import WIDTHS, width_bucket
from server import openapi
from server.access import MeetingAccess, meeting_permission
from server.blobs import BlobStore
from server.documents import rules, versions
from server.documents.rules import DocumentOut, SearchHit, Upload, document_json
from server.documents.versions import VersionOut
from server.errors import AppError, form_of, not_found
from server.house import House, house_of
from server.models import AgendaBook, AgendaItem, Document

VIEW = {"permission": "view"}
MANAGE = {"permission": "manage"}
# Page images never change for a given URL's content; only the reader's session may see them.
IMMUTABLE = "private, max-age=31536000, immutable"


UPLOAD_KINDS = ("paper", "resolution")


async def read_upload(request: Request) -> Upload:
    """The multipart form of an upload: `file`, and optional `title`, `confidential` and
    `kind` ("paper", or "resolution" for the final text of a resolution adopted on the item)."""
    form = await form_of(request)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise AppError(400, "no_file", "Choose a file to upload.")
    data = await file.read()
    if not data:
        raise AppError(422, "empty", "The file is empty.")
    flag = str(form.get("confidential", "")).lower()
    kind = str(form.get("kind", "") or "paper")
    if kind not in UPLOAD_KINDS:
        raise AppError(400, "bad_kind", "A document is a paper or a resolution.")
    return Upload(
        kind=kind,
        filename=file.filename or "tai-lieu.pdf",
        data=data,
        title=str(form.get("title", "")),
        confidential=flag in ("1", "true", "on", "yes"),
    )


def _expected_version(form_value: Any) -> int | None:
    if form_value in (None, ""):
        return None
    try:
        return int(str(form_value))
    except ValueError as exc:
        raise AppError(400, "bad_version", "The version to replace is not a number.") from exc


async def replace_from_request(request: Request, db: AsyncSession, document_id: int) -> Document:
    """The new version from a multipart form: `file`, optional `title`, and `version`, the
    version the person saw (a newer one meanwhile is a conflict)."""
    old = await db.get(Document, document_id)
    if old is None:
        raise not_found("document")
    upload = await read_upload(request)
    expected = _expected_version((await form_of(request)).get("version"))
    state = house_of(request)
    new = await versions.replace_document(state, db, old, request.user, upload, expected)
    if await _published(db, new.meeting_id):
        await state.publisher.republish(state, new.meeting_id, request.user.id)
    return new


async def _published(db: AsyncSession, meeting_id: int) -> bool:
    found = await db.exec(select(AgendaBook.id).where(AgendaBook.meeting_id == meeting_id))
    return found.first() is not None


async def delete_from_request(request: Request, db: AsyncSession, document_id: int) -> int:
    """Deletes the document; the meeting it was in."""
    document = await db.get(Document, document_id)
    if document is None:
        raise not_found("document")
    meeting_id = document.meeting_id
    await versions.delete_document(house_of(request), db, document, request.user)
    return meeting_id


async def upload_to_item(request: Request, db: AsyncSession, item_id: int) -> Document:
    item = await db.get(AgendaItem, item_id)
    if item is None:
        raise not_found("agenda item")
    upload = await read_upload(request)
    return await rules.add_document(house_of(request), db, item, request.user, upload)


class DocumentInfo(DocumentOut):
    """A paper with what a reader needs to show it."""

    meeting_id: int
    pages: list[list[float]]
    page_labels: list[str]
    printed_page_count: int | None
    widths: list[int]
    downloadable: bool
    viewer: str
    page_keys: list[str]
    replaced_at: datetime | None
    versions: list[VersionOut]


class PageWords(TypedDict):
    page: int
    words: list[list[float | str]]  # [x0, y0, x1, y1, text], 0..1 of the page


class SearchResults(TypedDict):
    query: str
    results: list[SearchHit]


@post(
    "/items/{item_id:int}/documents",
    guards=[meeting_permission],
    opt=MANAGE,
    status_code=HTTP_201_CREATED,
)
async def upload_document(
    request: Request, db: NamedDependency[AsyncSession], item_id: FromPath[int]
) -> DocumentOut:
    """Multipart upload: `file` (PDF, JPEG/PNG scan, or .docx/.odt), `title?`, `confidential?`."""
    return document_json(await upload_to_item(request, db, item_id))


@post(
    "/documents/{document_id:int}/versions",
    guards=[meeting_permission],
    opt=MANAGE,
    status_code=HTTP_201_CREATED,
)
async def replace_document(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> DocumentOut:
    """Multipart: `file`, `title?`, `version` (the one being replaced). The new version takes
    the old one's place; a published book is built again and every reader moves to it."""
    return document_json(await replace_from_request(request, db, document_id))


@get("/documents/{document_id:int}/versions", guards=[meeting_permission], opt=VIEW)
async def document_versions(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> list[VersionOut]:
    """Every version of the document, newest first."""
    document = await rules.readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    return await versions.version_history(db, document, house_of(request).settings.tz)


@delete("/documents/{document_id:int}", guards=[meeting_permission], opt=MANAGE)
async def delete_document(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> None:
    """Only before a published agenda book holds it; after, upload a new version instead."""
    await delete_from_request(request, db, document_id)


@get("/documents/{document_id:int}", guards=[meeting_permission], opt=VIEW)
async def document_info(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> DocumentInfo:
    document = await rules.readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    labels = await rules.page_labels(house_of(request), db, document)
    return {
        **document_json(document),
        "meeting_id": document.meeting_id,
        "kind": document.kind,
        "pages": await rules.page_sizes(db, document),
        "page_labels": labels,
        "printed_page_count": rules.printed_page_count(labels),
        "widths": list(WIDTHS),
        "downloadable": not document.confidential,
        "viewer": f"u{request.user.id}" if document.confidential else "",
        "page_keys": await rules.page_keys(db, document),
        "replaced_at": document.replaced_at,
        "versions": await versions.version_history(db, document, house_of(request).settings.tz),
    }


def _page_number(document: Document, page: int) -> int:
    if not 1 <= page <= document.page_count:
        raise AppError(404, "no_such_page", "This document has no page {page}.", page=page)
    return page


@get(
    "/documents/{document_id:int}/pages/{page:int}",
    guards=[meeting_permission],
    opt=VIEW,
    responses=openapi.WEBP,
)
async def page_image(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    document_id: FromPath[int],
    page: FromPath[int],
    w: FromQuery[int] = 1280,
) -> Response[bytes]:
    """The page as WebP at the width bucket at or above `w`; watermarked when confidential
    (the reader then adds `v`, the `viewer` of the document's facts, so each person's copy
    has its own address in the browser's caches)."""
    access: MeetingAccess = request.state.access
    document = await rules.readable_document(
        db, access, document_id, getattr(request.state, "document", None)
    )
    await db.close()  # release the connection before the render wait
    page = _page_number(document, page)
    width = width_bucket(w)
    viewer, watermark = "", ""
    if document.confidential:
        user = request.user
        viewer, watermark = f"u{user.id}", f"{user.full_name} · {user.username}"
    etag = f'"{document.sha256[:20]}-{page}-{width}{viewer}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    blob = BlobStore(state.settings.blobs_dir).path(document.sha256)
    path = await state.renderer.image(blob, document.sha256, page, width, viewer, watermark)
    return Response(path.read_bytes(), media_type="image/webp", headers=headers)


@get(
    "/documents/{document_id:int}/pages/{page:int}/words",
    guards=[meeting_permission],
    opt=VIEW,
    responses={200: ResponseSpec(PageWords, description="The page's words, in reading order.")},
)
async def page_words(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    document_id: FromPath[int],
    page: FromPath[int],
) -> Response[bytes]:
    """Word boxes `[x0, y0, x1, y1, text]`, normalized 0..1 to the page, in reading order."""
    document = await rules.readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    await db.close()
    blob = BlobStore(state.settings.blobs_dir).path(document.sha256)
    path = await state.renderer.words(blob, document.sha256, _page_number(document, page))
    headers = {"Cache-Control": IMMUTABLE, "ETag": f'"{document.sha256[:20]}-{page}-words"'}
    return Response(path.read_bytes(), media_type="application/json", headers=headers)


@get(
    "/documents/{document_id:int}/download",
    guards=[meeting_permission],
    opt=VIEW,
    responses=openapi.PDF,
)
async def download(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> Response[bytes]:
    """The PDF stamped with the reader's name and a copy id kept in the journal."""
    document = await rules.readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    pdf, copy_id = await rules.stamped_copy(house_of(request), document, request.user)
    name = quote(f"{document.title[:80]} - {copy_id}.pdf", safe="")
    disposition = (
        f"attachment; filename=\"tai-lieu-{document.id}-{copy_id}.pdf\"; filename*=UTF-8''{name}"
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )


@get("/meetings/{meeting_id:int}/search", guards=[meeting_permission], opt=VIEW)
async def search(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    q: FromQuery[str] = "",
    document_id: FromQuery[int | None] = None,
    reading: FromQuery[int | None] = None,
) -> SearchResults:
    """Pages of the agenda book and papers that contain `q`, ignoring case and diacritics,
    each listed once (in the book when `reading` is the book) with its printed `label`;
    `document_id` keeps to one document. At most 200 hits."""
    access = request.state.access
    query = rules.check_query(q)
    hits = await rules.search(house_of(request), db, access, query, document_id, reading)
    return {"query": q, "results": hits}


router = Router(
    path="/api",
    route_handlers=[
        upload_document,
        replace_document,
        document_versions,
        delete_document,
        document_info,
        page_image,
        page_words,
        download,
        search,
    ],
    tags=["documents"],
)
