"""Documents of a meeting: taking an upload in safely, search, and stamped copies."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda import book, render, stamp
from agenda.ingest import OFFICE_KINDS, Refused, detect_kind, ingest
from agenda.isolation import WorkerFailed, run_isolated
from server import journal
from server.access import MeetingAccess
from server.blobs import BlobStore
from server.errors import AppError, not_found
from server.house import House
from server.i18n import N_
from server.models import AgendaBook, AgendaItem, Document, DocumentPage, MeetingRole, User, utcnow

_WORKER_FAILED = N_(
    "The file could not be opened within the server's limits. It may be damaged; "
    "save it again as PDF and upload that."
)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    title: str = ""
    confidential: bool = False
    kind: str = "paper"  # or "resolution": the adopted resolution's final text


def everyone_reads(document: Document) -> bool:
    """Whether every participant, observers included, may read it. Only such content goes
    into what the whole meeting shares (the agenda book); the rest stays in its own document."""
    return not document.confidential


def can_read(access: MeetingAccess, document: Document) -> bool:
    """Observers (guests, press) read only what is not confidential."""
    return everyone_reads(document) or reads_confidential(access)


def reads_confidential(access: MeetingAccess) -> bool:
    return bool(access.roles() - {MeetingRole.observer})


async def readable_document(
    db: AsyncSession, access: MeetingAccess, document_id: int, known: Document | None = None
) -> Document:
    """The document if the caller may read it; `known` is one the guard already loaded."""
    document = known if known is not None and known.id == document_id else None
    document = document or await db.get(Document, document_id)
    if document is None or document.meeting_id != access.meeting.id:
        raise not_found("document")
    if not can_read(access, document):
        raise not_found("document")
    return document


async def add_document(
    state: House, db: AsyncSession, item: AgendaItem, uploader: User, upload: Upload
) -> Document:
    """Checks and cleans the file in a worker process, then keeps it. A refusal keeps nothing."""
    taken = await take_in(state, upload)
    siblings = await db.exec(select(sa.func.count()).where(Document.item_id == item.id))
    document = Document(
        meeting_id=item.meeting_id,
        item_id=item.id,
        position=siblings.one(),
        title=taken.title[:500],
        filename=taken.filename,
        sha256=BlobStore(state.settings.blobs_dir).put(taken.pdf),
        size_bytes=len(taken.pdf),
        page_count=len(taken.facts),
        confidential=upload.confidential,
        kind=upload.kind,
        uploaded_by=uploader.id,
    )
    db.add(document)
    await db.flush()
    assert document.id is not None  # the flush gave it one
    keys = [content_key(document.sha256, n) for n in range(1, len(taken.facts) + 1)]
    db.add_all(page_rows(document.id, taken.facts, keys))
    await db.commit()
    return document


@dataclass(frozen=True)
class TakenIn:
    """An upload that passed the checks: the clean PDF and each page's size and text."""

    pdf: bytes
    facts: list[tuple[float, float, str]]
    filename: str
    title: str


async def take_in(state: House, upload: Upload) -> TakenIn:
    """The upload checked and cleaned in a worker process; nothing is kept yet."""
    settings = state.settings
    # LibreOffice runs inside the worker and needs far more room than PyMuPDF does.
    office = detect_kind(upload.data) in OFFICE_KINDS
    try:
        ingested = await asyncio.to_thread(
            run_isolated,
            ingest,
            upload.data,
            upload.filename,
            timeout_s=settings.ingest_timeout_s,
            memory_mb=settings.ingest_memory_mb * (3 if office else 1),
        )
    except Refused as refusal:
        raise AppError(422, refusal.code, refusal.message) from refusal
    except WorkerFailed as failure:
        raise AppError(422, "unprocessable", _WORKER_FAILED) from failure
    facts = await state.renderer.run(render.page_facts, ingested.pdf)
    filename = stored_filename(upload.filename)
    title = one_line(upload.title) or one_line(ingested.title) or _title_from(filename)
    return TakenIn(ingested.pdf, facts, filename, title)


def content_key(sha256: str, page: int) -> str:
    """Names page `page` of the file `sha256`, wherever it is shown (alone or in a book)."""
    return hashlib.sha256(f"{sha256}:{page}".encode()).hexdigest()[:32]


def page_rows(
    document_id: int, facts: list[tuple[float, float, str]], keys: list[str]
) -> list[DocumentPage]:
    return [
        DocumentPage(
            document_id=document_id,
            page=n,
            width=w,
            height=h,
            text=text,
            folded=render.fold(text),
            content_key=key,
        )
        for n, ((w, h, text), key) in enumerate(zip(facts, keys, strict=True), start=1)
    ]


# C0 and C1 controls, line and paragraph separators, and the marks that turn text around
# (which can make a name show as another one)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def stored_filename(filename: str) -> str:
    """The client's file name as kept: its last part only, without control characters, so it
    cannot break a header or a log line."""
    name = _CONTROLS.sub("", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split())[:255]
    return name if name.strip(".") else "tai-lieu.pdf"


def one_line(text: str) -> str:
    """`text` on one line: control characters become spaces, runs of spaces one space."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def _title_from(filename: str) -> str:
    stem = Path(filename).stem
    return re.sub(r"[-_]+", " ", stem).strip() or "Tài liệu"


async def page_sizes(db: AsyncSession, document: Document) -> list[list[float]]:
    rows = await db.exec(
        select(DocumentPage.width, DocumentPage.height)
        .where(DocumentPage.document_id == document.id)
        .order_by(DocumentPage.page)
    )
    return [[round(w, 2), round(h, 2)] for w, h in rows.all()]


async def page_keys(db: AsyncSession, document: Document) -> list[str]:
    """Each page's content key: a reader moving to a new version finds the same page by it."""
    rows = await db.exec(
        select(DocumentPage.content_key)
        .where(DocumentPage.document_id == document.id)
        .order_by(DocumentPage.page)
    )
    return list(rows.all())


# --- page labels: the numbers people say aloud ------------------------------------------


@dataclass(frozen=True)
class PageNames:
    """How people name the pages of one file."""

    labels: list[str]
    """The printed number of each physical page: "i", "ii", … "1", "2", …"""
    papers: list[str]
    """In an agenda book, the title of the paper each page shows ("" on cover and contents)."""


_LABELS: OrderedDict[str, PageNames] = OrderedDict()  # by file: a file's labels never change
_KEPT_LABELS = 1024


def numbered(page_count: int) -> list[str]:
    return [str(n) for n in range(1, page_count + 1)]


def printed_page_count(labels: list[str]) -> int | None:
    """How many pages the printed numbers count (the y of "Trang x/y"), if they are numbers."""
    last = labels[-1] if labels else ""
    return int(last) if last.isdecimal() else None


async def page_names(state: House, db: AsyncSession, document: Document) -> PageNames:
    """The agenda book's labels from its page map; a paper's own /PageLabels (read once in a
    worker), else 1..n. Kept per file, so a request never reopens the PDF."""
    names = _LABELS.get(document.sha256)
    if names is None:
        names, lasting = await _derive_names(state, db, document)
        if lasting:
            _LABELS[document.sha256] = names
            while len(_LABELS) > _KEPT_LABELS:
                _LABELS.popitem(last=False)
    return names


async def page_labels(state: House, db: AsyncSession, document: Document) -> list[str]:
    """The printed number of every page of `document`, physical page 1 first."""
    return (await page_names(state, db, document)).labels


async def page_label(state: House, db: AsyncSession, document_id: int, page: int) -> str:
    """The printed number of physical page `page` (1-based) of a document, e.g. "ii" or "3";
    the page number itself when the document or page does not exist."""
    document = await db.get(Document, document_id)
    if document is None or not 1 <= page <= document.page_count:
        return str(page)
    return (await page_labels(state, db, document))[page - 1]


async def _derive_names(
    state: House, db: AsyncSession, document: Document
) -> tuple[PageNames, bool]:
    count = document.page_count
    if document.kind == "book":
        page_map = (
            await db.exec(select(AgendaBook.page_map).where(AgendaBook.document_id == document.id))
        ).first()
        if page_map is not None:
            names = PageNames(
                book.book_page_labels(page_map, count), book.book_page_papers(page_map, count)
            )
            return names, True
        return PageNames(numbered(count), [""] * count), False
    blob = BlobStore(state.settings.blobs_dir).path(document.sha256)
    try:
        labels = await state.renderer.run(book.printed_labels, blob)
    except (OSError, RuntimeError, ValueError):
        labels = []  # an unreadable file shows no page anyway; number its pages plainly
    if len(labels) != count:
        return PageNames(numbered(count), [""] * count), False
    return PageNames(labels, [""] * count), True


# --- search ------------------------------------------------------------------------------

MAX_QUERY = 200
MAX_HITS = 200
_CANDIDATES = 3 * MAX_HITS  # pages holding every word, read to find the phrase in them


def check_query(query: str) -> str:
    if len(query) > MAX_QUERY:
        raise AppError(
            400,
            "query_too_long",
            "Search for at most {limit} characters.",
            limit=MAX_QUERY,
        )
    return query


async def search(
    state: House,
    db: AsyncSession,
    access: MeetingAccess,
    query: str,
    document_id: int | None = None,
    reading: int | None = None,
) -> list[SearchHit]:
    """Pages whose text holds `query`, ignoring case, diacritics and line breaks, with a
    snippet each, named by their printed label.

    Each page is listed once: a paper's page that is also in the agenda book is listed in
    the book when the caller reads the book (`reading`), else in the paper itself; the
    newest book's own pages (cover, contents) when reading the book or nothing in
    particular. `document_id` keeps to one document. The document being read comes first,
    then the papers in agenda order.
    """
    words = render.fold(query).split()
    if len("".join(words)) < 2:
        return []
    statement = (
        select(DocumentPage, Document)
        .join(Document, col(Document.id) == DocumentPage.document_id)
        .where(
            Document.meeting_id == access.meeting.id,
            *(col(DocumentPage.folded).like(_containing(word), escape="\\") for word in words),
        )
        .order_by(
            sa.case((col(Document.id) == (reading or 0), 0), else_=1),
            Document.item_id,
            Document.position,
            Document.id,
            DocumentPage.page,
        )
        .limit(_CANDIDATES)
    )
    if document_id is not None:
        statement = statement.where(Document.id == document_id)
    else:
        newest_book = (
            select(AgendaBook.document_id)
            .where(AgendaBook.meeting_id == access.meeting.id)
            .order_by(col(AgendaBook.version).desc())
            .limit(1)
            .scalar_subquery()
        )
        own_pages = sa.and_(
            sa.true() if reading is None else sa.false(),
            col(Document.id) == newest_book,
            col(DocumentPage.content_key) == "",
        )
        statement = statement.where(
            sa.or_(Document.kind == "paper", col(Document.id) == (reading or 0), own_pages),
            sa.or_(col(Document.replaced_at).is_(None), col(Document.id) == (reading or 0)),
        )
    if not reads_confidential(access):  # before the limit, so nothing readable is crowded out
        statement = statement.where(col(Document.confidential).is_(False))
    rows = (await db.exec(statement)).all()
    phrase = re.compile(r"\s+".join(re.escape(word) for word in words))
    hits: list[SearchHit] = []
    listed: set[str] = set()
    for page, document in rows:
        matches = list(phrase.finditer(page.folded)) if can_read(access, document) else []
        if not matches or (page.content_key and page.content_key in listed):
            continue
        listed.add(page.content_key)
        names = await page_names(state, db, document)
        hits.append(_hit(page, document, matches, names))
        if len(hits) == MAX_HITS:
            break
    return hits


def _containing(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SearchHit(TypedDict):
    """A page holding the words looked for."""

    document_id: int | None
    document_title: str
    kind: str
    paper_title: str
    page: int
    label: str
    snippet: str
    parts: list[str]
    count: int


def _hit(
    page: DocumentPage, document: Document, matches: list[re.Match[str]], names: PageNames
) -> SearchHit:
    at, end = matches[0].span()
    start, stop = max(0, at - 60), min(len(page.text), end + 60)
    before = ("…" if start else "") + _squash(page.text[start:at])
    after = _squash(page.text[end:stop]) + ("…" if stop < len(page.text) else "")
    found = _squash(page.text[at:end])
    return {
        "document_id": document.id,
        "document_title": document.title,
        "kind": document.kind,
        "paper_title": names.papers[page.page - 1] if page.page <= len(names.papers) else "",
        "page": page.page,
        "label": names.labels[page.page - 1] if page.page <= len(names.labels) else str(page.page),
        "snippet": before + found + after,
        "parts": [before, found, after],  # for highlighting the match in the snippet
        "count": len(matches),
    }


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def stamped_copy(
    state: House, document: Document, reader: User, now: datetime | None = None
) -> tuple[bytes, str]:
    """The PDF stamped with who took it and a copy id that the journal records."""
    if document.confidential:
        raise AppError(
            403,
            "confidential",
            "Confidential documents can be read on screen only, not downloaded.",
        )
    copy_id = secrets.token_hex(4).upper()
    when = (now or utcnow()).astimezone(state.settings.tz)
    line = (
        f"Bản của {reader.full_name or reader.username} ({reader.username}) · "
        f"{when:%H:%M %d/%m/%Y} · Mã bản sao {copy_id}"
    )
    blob = BlobStore(state.settings.blobs_dir).path(document.sha256)
    pdf = await state.renderer.run(stamp.stamp_copy, blob, line)
    async with state.db() as writer:
        copied = await journal.append(
            writer,
            document.meeting_id,
            "document.copied",
            {"document_id": document.id, "copy_id": copy_id, "user_id": reader.id},
            reader.id,
        )
        await writer.commit()
    state.hub.publish_event(copied)  # every seq goes out live, so no tablet waits on a hole
    return pdf, copy_id


class DocumentOut(TypedDict):
    """A paper as the JSON routes show it."""

    id: int | None
    item_id: int | None
    title: str
    filename: str
    sha256: str
    page_count: int
    confidential: bool
    version: int
    kind: str


def document_json(document: Document) -> DocumentOut:
    return {
        "id": document.id,
        "item_id": document.item_id,
        "title": document.title,
        "filename": document.filename,
        "sha256": document.sha256,
        "page_count": document.page_count,
        "confidential": document.confidential,
        "version": document.version,
        "kind": document.kind,
    }
