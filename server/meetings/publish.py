"""Publishing a meeting's agenda book: built in a worker process, with progress to watch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_202_ACCEPTED
from litestar.stores.base import Store
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda import render
from agenda.book import BookCover, BookDocument, BookError, BookItem, build_book_in_worker
from agenda.isolation import WorkerFailed, run_isolated
from server import journal, notifications
from server.access import meeting_permission
from server.annotations import follow_new_book
from server.blobs import BlobStore
from server.documents.rules import everyone_reads, page_rows
from server.errors import AppError
from server.house import House
from server.i18n import N_, translate
from server.meetings import rules
from server.metrics import PUBLISH
from server.models import AgendaBook, Body, Document, DocumentPage, Meeting, MeetingStatus

log = logging.getLogger("phonghop.publish")

_BUILD_TIMEOUT_S = 600
_BUILD_MEMORY_MB = 2048
SAVE_EVERY_S = 0.5  # progress written to the shared store this often while building
STALE_S = 10.0


@dataclass
class PublishJob:
    """What the secretary sees while a book is built; `message` is an English msgid."""

    meeting_id: int
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    label: str = ""
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    version: int | None = None
    started: float = field(default_factory=time.time)
    saved: float = 0.0  # a running job not saved for STALE_S died with its server

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Publisher:
    """One build at a time per meeting. The job runs in the process that started it; what the
    secretary sees is kept in a store (Redis with several servers), so any server can show it.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()
        self._building: set[int] = set()  # meetings whose book this process builds
        self._again: dict[int, int] = {}  # meeting -> who asked, to build once more after this

    async def job(self, meeting_id: int) -> PublishJob | None:
        saved = await self._store.get(str(meeting_id))
        job = PublishJob(**json.loads(saved)) if saved else None
        if job is not None and job.state == "running" and time.time() - job.saved > STALE_S:
            job.state = "failed"
            job.message = N_("The server building the book stopped; publish again.")
        return job

    async def start(self, state: House, meeting_id: int, user_id: int) -> PublishJob:
        if meeting_id in self._building:
            raise AppError(409, "publishing", "The agenda book is already being built.")
        self._building.add(meeting_id)
        try:
            running = await self.job(meeting_id)
            if running and running.state == "running":  # on another server
                raise AppError(409, "publishing", "The agenda book is already being built.")
            job = PublishJob(meeting_id)
            await self._save(job)
        except BaseException:
            self._building.discard(meeting_id)
            raise
        task = asyncio.create_task(self._run(state, job, user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def republish(self, state: House, meeting_id: int, user_id: int) -> None:
        """Builds the book again after a document changed; when a build is running here, once
        more after it, so the change is never left out."""
        if meeting_id in self._building:
            self._again[meeting_id] = user_id
            return
        try:
            await self.start(state, meeting_id, user_id)
        except AppError:
            self._again[meeting_id] = user_id  # started meanwhile; runs after it
            if meeting_id not in self._building:  # on another server: publish again by hand
                self._again.pop(meeting_id, None)
                log.warning("meeting %s: book being built elsewhere, not republished", meeting_id)

    async def _run(self, state: House, job: PublishJob, user_id: int) -> None:
        saving = asyncio.create_task(self._keep_saving(job))
        began = time.perf_counter()
        try:
            job.version = await publish(state, job, user_id)
            job.state, job.message = "done", N_("Published version {version}.")
            job.params = {"version": job.version}
        except AppError as refusal:
            job.state, job.message, job.params = "failed", refusal.message, refusal.params
        except Exception:
            log.exception("publishing meeting %s failed", job.meeting_id)
            job.state, job.message = "failed", N_("Publishing failed; the error was logged.")
        finally:
            saving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saving  # so a progress write cannot land after the last one
            await self._save(job)
            PUBLISH.of(job.state).observe(time.perf_counter() - began)
            self._building.discard(job.meeting_id)
            again = self._again.pop(job.meeting_id, None)
            if again is not None:
                with contextlib.suppress(AppError):
                    await self.start(state, job.meeting_id, again)

    async def _keep_saving(self, job: PublishJob) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            await self._save(job)

    async def _save(self, job: PublishJob) -> None:
        job.saved = time.time()
        await self._store.set(str(job.meeting_id), json.dumps(job.as_json()), expires_in=86400)

    async def wait(self) -> None:
        """For shutdown and tests: let running builds finish."""
        while self._tasks:  # a build may start another when it ends
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.sleep(0)  # the finished ones leave the set


async def publish(state: House, job: PublishJob, user_id: int) -> int:
    """Builds the next version of the book, keeps it as a document and journals it."""
    cover, items, version, papers = await _book_plan(state, job.meeting_id)

    def on_progress(update: tuple[int, int, str]) -> None:
        job.done, job.total, job.label = update

    with tempfile.TemporaryDirectory(dir=state.settings.data_dir) as scratch:
        out = Path(scratch) / "book.pdf"
        try:
            layout = await asyncio.to_thread(
                run_isolated,
                build_book_in_worker,
                cover,
                items,
                out,
                timeout_s=_BUILD_TIMEOUT_S,
                memory_mb=_BUILD_MEMORY_MB,
                on_progress=on_progress,
            )
        except BookError as broken:
            raise AppError(
                422,
                "book_failed",
                "The document “{title}” could not be added: {reason}",
                title=broken.document,
                reason=broken.reason,
            ) from broken
        except WorkerFailed as failure:
            raise AppError(
                422, "book_failed", "Building the book ran out of time or memory."
            ) from failure
        pdf = await asyncio.to_thread(out.read_bytes)
    facts = await state.renderer.run(render.page_facts, pdf)
    keys = _book_page_keys(papers, layout.entries, len(facts))
    return await _keep_book(state, job.meeting_id, user_id, version, pdf, facts, keys, layout)


def _book_page_keys(papers: list[Paper], entries: list[dict], page_count: int) -> list[str]:
    """Each book page keyed by the source page it shows (the paper's own content key, which a
    new version keeps for pages whose text did not change); cover, contents and the notice
    page of a confidential paper get none, so no mark moves from or onto its content. Each
    paper's entry is marked with its document id."""
    keys = [""] * page_count
    placed = [entry for entry in entries if entry["kind"] == "document"]
    for paper, entry in zip(papers, placed, strict=True):
        entry["document_id"] = paper.id
        if paper.confidential:
            continue
        for n, key in enumerate(paper.keys[: entry["pages"]]):
            keys[entry["page"] - 1 + n] = key
    return keys


@dataclass(frozen=True)
class Paper:
    """A paper going into the book, in book order, with its pages' content keys."""

    id: int
    confidential: bool
    keys: list[str]


async def _paper_keys(db: AsyncSession, document_ids: list[int]) -> dict[int, list[str]]:
    rows = await db.exec(
        select(DocumentPage.document_id, DocumentPage.content_key)
        .where(col(DocumentPage.document_id).in_(document_ids))
        .order_by(DocumentPage.document_id, DocumentPage.page)
    )
    keys: dict[int, list[str]] = {}
    for document_id, key in rows.all():
        keys.setdefault(document_id, []).append(key)
    return keys


async def _book_plan(
    state: House, meeting_id: int
) -> tuple[BookCover, list[BookItem], int, list[Paper]]:
    blobs = BlobStore(state.settings.blobs_dir)
    async with state.db_read() as db:
        meeting = await db.get_one(Meeting, meeting_id)
        body = await db.get_one(Body, meeting.body_id)
        rows = rules.flatten(rules.agenda_tree(await rules.agenda_items(db, meeting_id)))
        documents = await rules.documents_by_item(db, meeting_id)
        latest = await db.exec(
            select(sa.func.max(AgendaBook.version)).where(AgendaBook.meeting_id == meeting_id)
        )
        version = (latest.one() or 0) + 1
        chosen = {
            row["item"].id: [d for d in documents.get(row["item"].id, []) if d.kind == "paper"]
            for row in rows
        }
        keys = await _paper_keys(db, [d.id for docs in chosen.values() for d in docs if d.id])
    items = [
        BookItem(
            number=row["number"],
            title=row["item"].title,
            depth=row["depth"],
            documents=tuple(
                BookDocument(d.title, blobs.path(d.sha256), confidential=not everyone_reads(d))
                for d in chosen[row["item"].id]
            ),
        )
        for row in rows
    ]
    papers = [
        Paper(d.id or 0, not everyone_reads(d), keys.get(d.id or 0, []))
        for row in rows
        for d in chosen[row["item"].id]
    ]
    if not any(item.documents for item in items):
        raise AppError(422, "nothing_to_publish", "Attach at least one document before publishing.")
    when = meeting.starts_at.astimezone(state.settings.tz)
    cover = BookCover(
        body=body.name,
        meeting=meeting.title,
        when=f"{when:%H:%M}, ngày {when.day} tháng {when.month} năm {when.year}",
        place=meeting.place,
        version=version,
    )
    return cover, items, version, papers


async def _keep_book(
    state: House,
    meeting_id: int,
    user_id: int,
    version: int,
    pdf: bytes,
    facts: list,
    keys: list[str],
    layout: Any,
) -> int:
    sha256 = BlobStore(state.settings.blobs_dir).put(pdf)
    async with state.db() as db:
        document = Document(
            meeting_id=meeting_id,
            kind="book",
            title=f"Tài liệu kỳ họp — phiên bản {version}",
            filename=f"tai-lieu-ky-hop-v{version}.pdf",
            sha256=sha256,
            size_bytes=len(pdf),
            page_count=len(facts),
            uploaded_by=user_id,
        )
        db.add(document)
        await db.flush()
        assert document.id is not None  # the flush gave it one
        db.add_all(page_rows(document.id, facts, keys))
        db.add(
            AgendaBook(
                meeting_id=meeting_id,
                version=version,
                document_id=document.id,
                sha256=sha256,
                page_count=len(facts),
                page_map=layout.entries,
                created_by=user_id,
            )
        )
        meeting = await db.get_one(Meeting, meeting_id)
        if meeting.status == MeetingStatus.draft:
            meeting.status = MeetingStatus.published
            db.add(meeting)
        moved = await follow_new_book(db, meeting_id, document.id, keys, user_id)
        await notifications.book_published(db, meeting, version, user_id)
        payload = {"version": version, "document_id": document.id, "page_count": len(facts)}
        published = await journal.append(db, meeting_id, "agenda.published", payload, user_id)
        await db.commit()
    for event in [*moved, published]:
        state.hub.publish_event(event)
    return version


# --- routes -------------------------------------------------------------------------------

MANAGE = {"permission": "manage"}


class JobState(TypedDict):
    state: str  # idle | running | done | failed


class JobView(JobState, total=False):
    """The build of the agenda book as the secretary follows it; only `state` when idle."""

    meeting_id: int
    done: int
    total: int
    label: str
    message: str  # in the caller's language
    params: dict[str, Any]
    version: int | None
    started: float
    saved: float


class BookOut(TypedDict):
    version: int
    document_id: int
    page_count: int
    sha256: str
    created_at: str
    entries: list[dict[str, Any]]


def job_view(request: Request, job: PublishJob | None) -> JobView:
    if job is None:
        return {"state": "idle"}
    message = translate(request, job.message, **job.params) if job.message else ""
    return cast(JobView, {**job.as_json(), "message": message})


@post(
    "/api/meetings/{meeting_id:int}/publish",
    guards=[meeting_permission],
    opt=MANAGE,
    status_code=HTTP_202_ACCEPTED,
)
async def start_publishing(request: Request, state: House, meeting_id: FromPath[int]) -> JobView:
    """Starts building the next agenda book version; poll GET on the same path for progress."""
    return job_view(request, await state.publisher.start(state, meeting_id, request.user.id))


@get("/api/meetings/{meeting_id:int}/publish", guards=[meeting_permission], opt=MANAGE)
async def publishing_status(request: Request, state: House, meeting_id: FromPath[int]) -> JobView:
    return job_view(request, await state.publisher.job(meeting_id))


@get("/api/meetings/{meeting_id:int}/books", guards=[meeting_permission])
async def books(db: NamedDependency[AsyncSession], meeting_id: FromPath[int]) -> list[BookOut]:
    """Every published version, newest first; old versions stay readable."""
    rows = await db.exec(
        select(AgendaBook)
        .where(AgendaBook.meeting_id == meeting_id)
        .order_by(col(AgendaBook.version).desc())
    )
    return [
        {
            "version": b.version,
            "document_id": b.document_id,
            "page_count": b.page_count,
            "sha256": b.sha256,
            "created_at": b.created_at.isoformat(),
            "entries": b.page_map,
        }
        for b in rows.all()
    ]


@post("/meetings/{meeting_id:int}/publish", guards=[meeting_permission], opt=MANAGE)
async def start_publishing_page(
    request: Request, state: House, meeting_id: FromPath[int]
) -> Template:
    job = await state.publisher.start(state, meeting_id, request.user.id)
    return _status_fragment(request, job)


@get("/meetings/{meeting_id:int}/publish", guards=[meeting_permission], opt=MANAGE)
async def publishing_status_page(
    request: Request, state: House, meeting_id: FromPath[int]
) -> Template:
    return _status_fragment(request, await state.publisher.job(meeting_id))


def _status_fragment(request: Request, job: PublishJob | None) -> Template:
    context = {"job": job_view(request, job), "meeting_id": request.path_params["meeting_id"]}
    return Template("fragments/publish_status.html", context=context)


ROUTES = [
    start_publishing,
    publishing_status,
    books,
    start_publishing_page,
    publishing_status_page,
]
