"""Annotations: ink, highlights and notes on pages, private by default, never lost or doubled."""

from __future__ import annotations

import re
import uuid
from typing import Any, TypedDict

import sqlalchemy as sa
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.annotations import PageMark, burn_in
from server import journal, openapi
from server.access import meeting_permission
from server.blobs import BlobStore
from server.documents.rules import can_read, everyone_reads, readable_document
from server.errors import AppError
from server.house import House
from server.i18n import N_
from server.live.protocol import Command, Live, Part, Refusal, Session, field_of
from server.models import (
    Annotation,
    Document,
    DocumentPage,
    JournalEvent,
    MeetingRole,
    utcnow,
)

KINDS = ("ink", "highlight", "note")
FIELDS = {
    "ink": ("points", "width", "color"),
    "highlight": ("rects", "color"),
    "note": ("x", "y", "text", "color"),
}
VISIBILITIES = ("private", "meeting")
# What one account may put on the server: a stroke of a few seconds, a page of text,
# a thousand marks on one document, and no more shared marks than a hall can draw.
MAX_POINTS = 2000
MAX_RECTS = 200
MAX_TEXT = 2000
MARKS_PER_DOCUMENT = 1000  # one person's, on one document
SHARED_PER_MEETING = 5000
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _bad(what: str) -> Refusal:
    return Refusal("bad_annotation", "The annotation is not valid: {what}.", what=what)


def _too_many_points() -> Refusal:
    return Refusal(
        "too_many_points",
        "A stroke may have at most {limit} points; lift the pen and go on.",
        limit=MAX_POINTS,
    )


def _unit(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def check_geometry(kind: str, data: Any) -> dict[str, Any]:
    """The data of an annotation, checked (normalized coordinates, bounded sizes) and
    reduced to the fields of its kind."""
    if not isinstance(data, dict):
        raise _bad(N_("data"))
    color = data.get("color")
    if color is not None and (not isinstance(color, str) or not _COLOR.match(color)):
        raise _bad(N_("color"))
    if kind == "ink":
        points = data.get("points")
        if isinstance(points, list) and len(points) > MAX_POINTS:
            raise _too_many_points()
        if not isinstance(points, list) or not points:
            raise _bad(N_("points"))
        for point in points:
            if (
                not isinstance(point, list)
                or not 2 <= len(point) <= 3
                or not all(map(_unit, point))
            ):
                raise _bad(N_("points"))
        width = data.get("width", 0.004)
        if not _unit(width) or width == 0:
            raise _bad(N_("width"))
    elif kind == "highlight":
        rects = data.get("rects")
        if isinstance(rects, list) and len(rects) > MAX_RECTS:
            raise Refusal(
                "too_many_rects",
                "A highlight may cover at most {limit} pieces of text.",
                limit=MAX_RECTS,
            )
        if not isinstance(rects, list) or not rects:
            raise _bad(N_("rects"))
        for rect in rects:
            if not isinstance(rect, list) or len(rect) != 4 or not all(map(_unit, rect)):
                raise _bad(N_("rects"))
    else:
        text = data.get("text")
        if not _unit(data.get("x")) or not _unit(data.get("y")):
            raise _bad(N_("position"))
        if isinstance(text, str) and len(text) > MAX_TEXT:
            raise Refusal(
                "text_too_long", "A note may have at most {limit} characters.", limit=MAX_TEXT
            )
        if not isinstance(text, str):
            raise _bad(N_("text"))
    return {key: data[key] for key in FIELDS[kind] if key in data}  # nothing else is kept


class AnnotationFields(TypedDict):
    id: str
    owner_id: int
    document_id: int
    page: int
    kind: str
    data: dict[str, Any]
    visibility: str
    deleted: bool
    updated_at: str


class AnnotationOut(AnnotationFields, total=False):
    set_aside: bool  # moved off a page the new version lacks


class SharedMarks(TypedDict):
    annotations: list[AnnotationOut]


def annotation_json(annotation: Annotation) -> AnnotationOut:
    return {
        "id": str(annotation.id),
        "owner_id": annotation.owner_id,
        "document_id": annotation.document_id,
        "page": annotation.page,
        "kind": annotation.kind,
        "data": annotation.data,
        "visibility": annotation.visibility,
        "deleted": annotation.deleted,
        "updated_at": annotation.updated_at.isoformat(),
    }


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise _bad(N_("id"))
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise _bad(N_("id")) from exc


async def _page(
    db: AsyncSession, session: Session, document_id: int, page: int, visibility: str
) -> DocumentPage:
    document = await db.get(Document, document_id)
    if document is None or document.meeting_id != session.meeting_id:
        raise Refusal("not_in_meeting", "That document is not part of this meeting.")
    if not can_read(session.access, document):
        raise Refusal("not_in_meeting", "That document is not part of this meeting.")
    if visibility == "meeting" and not everyone_reads(document):
        # shared marks reach every tablet of the meeting, observers too
        raise Refusal("confidential", "Marks on a confidential document stay private.")
    if not 1 <= page <= document.page_count:
        raise Refusal("no_such_page", "This document has no page {page}.", page=page)
    row = (
        await db.exec(
            select(DocumentPage).where(
                DocumentPage.document_id == document_id, DocumentPage.page == page
            )
        )
    ).first()
    return row or DocumentPage(document_id=document_id, page=page, width=0, height=0)


async def put_annotation(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """Creates or replaces the annotation with the client's UUID; the same put twice is one."""
    given = field_of(message, "annotation", dict)
    annotation_id = _uuid(given.get("id"))
    document_id = field_of(given, "document_id", int)
    page = field_of(given, "page", int)
    kind = given.get("kind")
    visibility = given.get("visibility", "private")
    if kind not in KINDS:
        raise _bad(N_("kind"))
    if visibility not in VISIBILITIES:
        raise _bad(N_("visibility"))
    if visibility == "meeting" and session.access.roles() <= {MeetingRole.observer}:
        raise Refusal("forbidden", "You do not have permission to do this.")
    data = check_geometry(kind, given.get("data"))
    async with session.state.db() as db:
        page_row = await _page(db, session, document_id, page, visibility)
        stored = await db.get(Annotation, annotation_id)
        if stored is not None and stored.owner_id != session.user_id:
            raise Refusal("forbidden", "You do not have permission to do this.")
        fields = {
            "document_id": document_id,
            "page": page,
            "kind": kind,
            "data": data,
            "visibility": visibility,
            "deleted": False,
        }
        if stored is not None and all(getattr(stored, k) == v for k, v in fields.items()):
            return {"unchanged": True}
        was_shared = stored is not None and stored.visibility == "meeting" and not stored.deleted
        await _within_limits(db, session, stored, document_id, visibility, was_shared)
        annotation = stored or Annotation(id=annotation_id, owner_id=session.user_id, **fields)
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.content_key = page_row.content_key
        annotation.set_aside = False
        annotation.updated_at = utcnow()
        db.add(annotation)
        events = await _journal_change(db, session, annotation, was_shared)
        await db.commit()
    for event in events:
        session.hub.publish_event(event)
    return {"seq": events[-1].seq}


async def _within_limits(
    db: AsyncSession,
    session: Session,
    stored: Annotation | None,
    document_id: int,
    visibility: str,
    was_shared: bool,
) -> None:
    """Refuses a mark that would pass one person's marks on the document or the meeting's
    shared marks; counted in the writing transaction (SQLite takes its lock up front)."""
    if stored is None or stored.deleted or stored.document_id != document_id:
        mine = await _count(
            db, Annotation.document_id == document_id, Annotation.owner_id == session.user_id
        )
        if mine >= MARKS_PER_DOCUMENT:
            raise Refusal(
                "too_many_marks",
                "You have {limit} marks on this document already; delete some first.",
                limit=MARKS_PER_DOCUMENT,
            )
    if visibility == "meeting" and not was_shared:
        shared = await _count(
            db, Document.meeting_id == session.meeting_id, Annotation.visibility == "meeting"
        )
        if shared >= SHARED_PER_MEETING:
            raise Refusal(
                "too_many_shared_marks",
                "This meeting already has {limit} shared marks; keep this one private.",
                limit=SHARED_PER_MEETING,
            )


async def _count(db: AsyncSession, *conditions: Any) -> int:
    """Live marks (not deleted, not set aside) that meet `conditions`."""
    statement = (
        select(sa.func.count())
        .select_from(Annotation)
        .join(Document, col(Document.id) == Annotation.document_id)
        .where(
            col(Annotation.deleted).is_(False), col(Annotation.set_aside).is_(False), *conditions
        )
    )
    return (await db.exec(statement)).one()


async def delete_annotation(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"annotation.delete","id":…,"annotation_id":UUID}`; deleting twice is fine."""
    annotation_id = _uuid(message.get("annotation_id"))
    async with session.state.db() as db:
        annotation = await db.get(Annotation, annotation_id)
        if annotation is None or annotation.deleted:
            return {"unchanged": True}
        if annotation.owner_id != session.user_id:
            raise Refusal("forbidden", "You do not have permission to do this.")
        annotation.deleted = True
        annotation.updated_at = utcnow()
        db.add(annotation)
        events = await _journal_change(db, session, annotation, annotation.visibility == "meeting")
        await db.commit()
    for event in events:
        session.hub.publish_event(event)
    return {"seq": events[-1].seq}


async def _journal_change(
    db: AsyncSession, session: Session, annotation: Annotation, was_shared: bool
) -> list[JournalEvent]:
    """The owner's devices always hear of a change; everyone does while it is (or was) shared."""
    body = annotation_json(annotation)
    owner = annotation.owner_id
    shared = annotation.visibility == "meeting"
    events = []
    if was_shared and not shared:
        # No longer shared: everyone else drops it; the owner keeps it, privately.
        gone: AnnotationOut = {**body, "data": {}, "deleted": True}
        events.append(await _changed(db, session, gone, None))
    events.append(await _changed(db, session, body, None if shared else owner))
    return events


async def _changed(
    db: AsyncSession, session: Session, body: AnnotationOut, private_to: int | None
) -> JournalEvent:
    return await journal.append(
        db,
        session.meeting_id,
        "annotation.changed",
        {"annotation": body},
        session.user_id,
        private_to=private_to,
    )


async def current_annotations(db: AsyncSession, session: Session, seq: int) -> list[AnnotationOut]:
    """The tablet owner's own annotations. What others share is read per document
    (`GET /api/documents/{id}/annotations`), so a snapshot does not grow with the hall."""
    rows = await db.exec(
        select(Annotation)
        .join(Document, col(Document.id) == Annotation.document_id)
        .where(
            Document.meeting_id == session.meeting_id,
            col(Annotation.deleted).is_(False),
            col(Annotation.set_aside).is_(False),
            Annotation.owner_id == session.user_id,
        )
        .order_by(Annotation.updated_at)
    )
    return [annotation_json(a) for a in rows.all()]


@get(
    "/api/documents/{document_id:int}/annotations",
    guards=[meeting_permission],
    opt={"permission": "view"},
)
async def shared_annotations(
    request: Request, db: NamedDependency[AsyncSession], document_id: FromPath[int]
) -> Response[SharedMarks]:
    """The marks shared with the meeting on one document, everyone's, oldest first."""
    document = await readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    rows = await db.exec(
        select(Annotation)
        .where(
            Annotation.document_id == document.id,
            Annotation.visibility == "meeting",
            col(Annotation.deleted).is_(False),
            col(Annotation.set_aside).is_(False),
        )
        .order_by(Annotation.updated_at)
    )
    marks = [annotation_json(a) for a in rows.all()]
    await db.close()  # the connection goes back before the body is made and sent
    return Response({"annotations": marks}, headers={"Cache-Control": "private, no-store"})


@get(
    "/api/documents/{document_id:int}/annotated.pdf",
    guards=[meeting_permission],
    opt={"permission": "view"},
    responses=openapi.PDF,
)
async def annotated_pdf(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Response[bytes]:
    """The caller's own annotations burned into the document as real PDF annotations."""
    document = await readable_document(
        db, request.state.access, document_id, getattr(request.state, "document", None)
    )
    if document.confidential:
        raise AppError(
            403,
            "confidential",
            "Confidential documents can be read on screen only, not downloaded.",
        )
    rows = await db.exec(
        select(Annotation)
        .where(
            Annotation.document_id == document_id,
            Annotation.owner_id == request.user.id,
            col(Annotation.deleted).is_(False),
        )
        .order_by(Annotation.updated_at)
    )
    author = request.user.full_name or request.user.username
    marks = [PageMark(a.page, a.kind, a.data, author) for a in rows.all()]
    blob = BlobStore(state.settings.blobs_dir).path(document.sha256)
    pdf = await state.renderer.run(burn_in, blob, marks)
    name = f"ghi-chu-tai-lieu-{document.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


ROUTES = [annotated_pdf, shared_annotations]


async def follow_new_book(
    db: AsyncSession, meeting_id: int, book_id: int, keys: list[str], actor_id: int
) -> list[JournalEvent]:
    """Moves marks made on earlier agenda books onto the new book's page with the same content;
    marks whose page content is gone are set aside (kept, not shown), never deleted."""
    earlier = sa.and_(Document.kind == "book", col(Document.id) != book_id)
    return await _follow(db, meeting_id, earlier, book_id, keys, actor_id)


async def follow_new_version(
    db: AsyncSession, meeting_id: int, old_id: int, new_id: int, keys: list[str], actor_id: int
) -> list[JournalEvent]:
    """Moves marks on a replaced paper onto the new version's page with the same content (its
    text did not change); the others are set aside, never deleted."""
    return await _follow(db, meeting_id, col(Document.id) == old_id, new_id, keys, actor_id)


async def _follow(
    db: AsyncSession,
    meeting_id: int,
    source: Any,
    target_id: int,
    keys: list[str],
    actor_id: int,
) -> list[JournalEvent]:
    new_page = {key: n for n, key in enumerate(keys, start=1) if key}
    rows = await db.exec(
        select(Annotation)
        .join(Document, col(Document.id) == Annotation.document_id)
        .where(
            Document.meeting_id == meeting_id,
            source,
            col(Annotation.deleted).is_(False),
            col(Annotation.set_aside).is_(False),
        )
    )
    events = []
    for annotation in rows.all():
        page = new_page.get(annotation.content_key) if annotation.content_key else None
        if page is None:
            annotation.set_aside = True
        else:
            annotation.document_id, annotation.page = target_id, page
        annotation.updated_at = utcnow()
        db.add(annotation)
        body = annotation_json(annotation)
        if annotation.set_aside:
            body = {**body, "deleted": True, "set_aside": True}
        private_to = None if annotation.visibility == "meeting" else annotation.owner_id
        events.append(
            await journal.append(
                db, meeting_id, "annotation.changed", {"annotation": body}, actor_id, private_to
            )
        )
    return events


LIVE = Live(
    commands=[
        Command("annotation.put", put_annotation),
        Command("annotation.delete", delete_annotation),
    ],
    parts=[Part("annotations", current_annotations)],
)
