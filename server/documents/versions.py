"""A document's life after upload: deleted before the book is published, replaced by a new
version after, and its history of versions."""

from __future__ import annotations

import shutil
from datetime import datetime, tzinfo
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import journal, notifications
from server.annotations import follow_new_version
from server.blobs import BlobStore
from server.documents.rules import TakenIn, Upload, content_key, one_line, page_rows, take_in
from server.errors import AppError
from server.house import House
from server.models import (
    AgendaBook,
    Document,
    DocumentPage,
    RecordVersion,
    Signature,
    User,
    utcnow,
)


async def in_published_book(db: AsyncSession, document: Document) -> bool:
    """Whether a published agenda book holds this document. Books name their papers; an older
    book that does not is taken to hold every paper uploaded before it."""
    books = (
        await db.exec(select(AgendaBook).where(AgendaBook.meeting_id == document.meeting_id))
    ).all()
    for book in books:
        named = [e["document_id"] for e in book.page_map if "document_id" in e]
        if document.id in named or (not named and book.created_at >= document.created_at):
            return True
    return False


async def _changeable(db: AsyncSession, document: Document) -> None:
    if document.kind not in ("paper", "resolution"):
        raise AppError(400, "not_a_paper", "A published agenda book cannot be changed.")
    signed = await db.exec(select(Signature.id).where(Signature.document_id == document.id))
    if signed.first() is not None:
        raise AppError(409, "signed", "A signed resolution cannot be changed or deleted.")


async def delete_document(state: House, db: AsyncSession, document: Document, actor: User) -> None:
    """Removes a paper, with its older versions, when no published book holds any of them;
    a file goes when nothing else uses it."""
    await _changeable(db, document)
    versions = await _with_older(db, document)
    for version in versions:
        if await in_published_book(db, version):
            raise AppError(
                409,
                "published",
                "This document is in the published agenda book, so it cannot be deleted. "
                "Upload a new version instead.",
            )
    files, meeting_id = {v.sha256 for v in versions}, document.meeting_id
    payload = {"document_id": document.id, "item_id": document.item_id, "title": document.title}
    for version in versions:  # newest first, so none is left naming a deleted one
        await db.delete(version)
        await db.flush()
    deleted = await journal.append(db, meeting_id, "document.deleted", payload, actor.id)
    await db.commit()
    state.hub.publish_event(deleted)
    for sha256 in files:
        if not await blob_in_use(db, sha256):
            release_blob(state, sha256)


async def _with_older(db: AsyncSession, document: Document) -> list[Document]:
    """The document and the versions it replaced, newest first."""
    chain = [document]
    while chain[-1].previous_id is not None:
        older = await db.get(Document, chain[-1].previous_id)
        if older is None:
            break
        chain.append(older)
    return chain


async def blob_in_use(db: AsyncSession, sha256: str) -> bool:
    """Whether any document (of any meeting), book or record still names the file."""
    for statement in (
        select(Document.id).where(Document.sha256 == sha256),
        select(AgendaBook.id).where(AgendaBook.sha256 == sha256),
        select(RecordVersion.id).where(RecordVersion.pdf_sha256 == sha256),
    ):
        if (await db.exec(statement.limit(1))).first() is not None:
            return True
    return False


def release_blob(state: House, sha256: str) -> None:
    """Removes the file and its rendered pages."""
    BlobStore(state.settings.blobs_dir).path(sha256).unlink(missing_ok=True)
    rendered = state.renderer.cache_dir / sha256[:2] / sha256
    shutil.rmtree(rendered, ignore_errors=True)


async def replace_document(
    state: House,
    db: AsyncSession,
    old: Document,
    actor: User,
    upload: Upload,
    expected_version: int | None,
) -> Document:
    """Keeps `upload` as the next version of `old`. Pages whose text did not change keep their
    content key, so marks follow them; the old version stays readable. Of two people replacing
    the same version at once, one wins and the other is told."""
    await _changeable(db, old)
    _current(old, expected_version)
    taken = await take_in(state, upload)
    old_pages = list(
        (
            await db.exec(
                select(DocumentPage)
                .where(DocumentPage.document_id == old.id)
                .order_by(DocumentPage.page)
            )
        ).all()
    )
    sha256 = BlobStore(state.settings.blobs_dir).put(taken.pdf)
    new = _next_version(old, actor, upload, taken, sha256)
    now = utcnow()
    won = await db.exec(
        sa.update(Document)
        .where(col(Document.id) == old.id, col(Document.replaced_at).is_(None))
        .values(replaced_at=now)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise _stale()
    db.add(new)
    await db.flush()
    assert new.id is not None and old.id is not None and actor.id is not None
    keys = carried_keys(old_pages, taken.facts, sha256)
    db.add_all(page_rows(new.id, taken.facts, keys))
    moved = await follow_new_version(db, old.meeting_id, old.id, new.id, keys, actor.id)
    payload = {
        "document_id": old.id,
        "replaced_by": new.id,
        "version": new.version,
        "item_id": new.item_id,
        "page_count": new.page_count,
    }
    replaced = await journal.append(db, old.meeting_id, "document.replaced", payload, actor.id)
    await notifications.paper_replaced(db, new, actor.id)
    await db.commit()
    for event in [*moved, replaced]:
        state.hub.publish_event(event)
    return new


def _current(old: Document, expected_version: int | None) -> None:
    if old.replaced_at is not None or (
        expected_version is not None and expected_version != old.version
    ):
        raise _stale()


def _stale() -> AppError:
    return AppError(
        409,
        "replaced_meanwhile",
        "Someone replaced this document meanwhile. Reload the page, look at the newest "
        "version, and replace that one if you still need to.",
    )


def _next_version(
    old: Document, actor: User, upload: Upload, taken: TakenIn, sha256: str
) -> Document:
    return Document(
        meeting_id=old.meeting_id,
        item_id=old.item_id,
        position=old.position,
        title=(one_line(upload.title) or old.title)[:500],
        filename=taken.filename,
        sha256=sha256,
        size_bytes=len(taken.pdf),
        page_count=len(taken.facts),
        confidential=old.confidential or upload.confidential,
        version=old.version + 1,
        previous_id=old.id,
        kind=old.kind,
        uploaded_by=actor.id,
    )


def carried_keys(
    old_pages: list[DocumentPage], facts: list[tuple[float, float, str]], sha256: str
) -> list[str]:
    """The content key of each new page: an old page's key when the new page has the same
    size and the same (non-empty) words, each old page used once; else a key of its own."""
    unused: dict[tuple[str, int, int], list[DocumentPage]] = {}
    for page in old_pages:
        unused.setdefault(_likeness(page.text, page.width, page.height), []).append(page)
    keys = []
    for n, (width, height, text) in enumerate(facts, start=1):
        same = unused.get(_likeness(text, width, height), [])
        if text.split() and same and same[0].content_key:
            keys.append(same.pop(0).content_key)
        else:
            keys.append(content_key(sha256, n))
    return keys


def _likeness(text: str, width: float, height: float) -> tuple[str, int, int]:
    return " ".join(text.split()), round(width), round(height)


class VersionOut(TypedDict):
    id: int | None
    version: int
    uploaded_at: datetime
    when: str
    uploaded_by: str
    page_count: int
    filename: str
    current: bool


async def version_history(db: AsyncSession, document: Document, tz: tzinfo) -> list[VersionOut]:
    """Every version of the document, newest first: number, date (also as the council's
    clock shows it), who uploaded, pages."""
    chain = list(reversed(await _with_older(db, document)))
    while True:  # newer ones
        newer = (
            await db.exec(select(Document).where(Document.previous_id == chain[-1].id))
        ).first()
        if newer is None:
            break
        chain.append(newer)
    names = await _uploader_names(db, {d.uploaded_by for d in chain if d.uploaded_by})
    return [
        {
            "id": d.id,
            "version": d.version,
            "uploaded_at": d.created_at,
            "when": f"{d.created_at.astimezone(tz):%H:%M %d/%m/%Y}",
            "uploaded_by": names.get(d.uploaded_by or 0, ""),
            "page_count": d.page_count,
            "filename": d.filename,
            "current": d.replaced_at is None,
        }
        for d in reversed(chain)
    ]


async def _uploader_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.exec(select(User).where(col(User.id).in_(ids)))
    return {u.id: u.full_name or u.username for u in rows.all() if u.id is not None}
