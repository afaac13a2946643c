"""Following the chair: the presented document and page, who follows it, and the copy the
meeting's conference shows the points whose line carries only sound and slides."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import journal, logs
from server.access import meeting_permission
from server.blobs import BlobStore
from server.conference.remote import VIEW_FRESH_S
from server.conference.slides import render_width
from server.documents import rules
from server.errors import AppError
from server.house import House
from server.live.protocol import Command, Live, Refusal, Session, SharedPart, field_of
from server.meetings import rules as meeting_rules
from server.models import Document, DocumentPage, JournalEvent

log = logging.getLogger("phonghop.conference")


async def present_page(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"page.present","id":…,"document_id":D,"page":P}` → `page.presented` to all,
    with the page's printed `label` ("ii", "3") as the server knows it; `page` stays the
    1-based physical page."""
    document_id = field_of(message, "document_id", int)
    page = field_of(message, "page", int)
    async with session.state.db() as db:
        document = await db.get(Document, document_id)
        if document is None or document.meeting_id != session.meeting_id:
            raise Refusal("not_in_meeting", "That document is not part of this meeting.")
        if not 1 <= page <= document.page_count:
            raise Refusal("no_such_page", "This document has no page {page}.", page=page)
        payload = {
            "document_id": document.id,
            "page": page,
            "label": (await rules.page_labels(session.state, db, document))[page - 1],
            "by": session.user_id,
            "item_id": document.item_id,
            "title": document.title,
            "page_count": document.page_count,
        }
        event = await journal.append(
            db, session.meeting_id, "page.presented", payload, session.user_id
        )
        await db.commit()
    session.hub.publish_event(event)
    session.state.slides.tell(session.meeting_id)
    return {"seq": event.seq}


async def follow(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"follow","id":…,"on":true|false}`: whether this tablet turns with the chair."""
    session.following = field_of(message, "on", bool)
    return {"following": session.following}


async def presented(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any] | None:
    """The page being presented now, as the last `page.presented` event said."""
    event = await _last_presented(db, meeting_id)
    if event is None:
        return None
    shown = {"seq": event.seq, **event.payload}
    if "label" not in shown:  # presented before pages had labels
        shown["label"] = await rules.page_label(state, db, shown["document_id"], shown["page"])
    return shown


async def _last_presented(db: AsyncSession, meeting_id: int) -> JournalEvent | None:
    query = (
        select(JournalEvent)
        .where(JournalEvent.meeting_id == meeting_id, JournalEvent.type == "page.presented")
        .order_by(col(JournalEvent.seq).desc())
        .limit(1)
    )
    return (await db.exec(query)).first()


class ConferenceSlides:
    """Keeps a meeting's conference showing the presented page: told when the chair turns
    it and when a point joins (a conference just started, or a bridge that restarted, gets
    the page already up). Only a meeting with a conference has its page rendered."""

    def __init__(self, state: House) -> None:
        self._state = state
        self._telling: set[asyncio.Task[None]] = set()

    def tell(self, meeting_id: int, joined: bool = False) -> None:
        """In a task of its own: a slow render or an absent bridge never holds up the chair.
        `joined`: a point has just joined, so the conference is there (whatever a bridge's
        view, up to a second old, may still say)."""
        telling = self._tell(meeting_id, joined)
        task = logs.meeting_context(meeting_id).run(asyncio.create_task, telling)
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def stop(self) -> None:
        for task in list(self._telling):
            task.cancel()
        await asyncio.gather(*self._telling, return_exceptions=True)

    async def _tell(self, meeting_id: int, joined: bool) -> None:
        conferences = self._state.conferences
        try:
            if not joined and not await self._has_conference(meeting_id):
                return
            seq, image = await self.slide_image(meeting_id)
            await conferences.present(meeting_id, seq, image)
        except AppError as exc:  # the bridge is away; its points get the page when they rejoin
            log.warning(
                "meeting %s's conference missed the presented page: %s", meeting_id, exc.code
            )
        except Exception:
            log.exception("meeting %s's conference missed the presented page", meeting_id)

    async def _has_conference(self, meeting_id: int) -> bool:
        """A bridge's answer may be a second old: a conference started just before the page
        turned is asked after again. One starting later is told on its first join."""
        conferences = self._state.conferences
        if await conferences.view(meeting_id, False) is not None:
            return True
        await asyncio.sleep(VIEW_FRESH_S + 0.1)
        return await conferences.view(meeting_id, False) is not None

    async def slide_image(self, meeting_id: int) -> tuple[int, bytes | None]:
        """The last `page.presented`'s seq (0: none) and its page as the tablets' WebP, at
        the width that fills a slide; None for a page the points may not all see."""
        async with self._state.db_read() as db:
            event = await _last_presented(db, meeting_id)
            if event is None:
                return 0, None
            page = event.payload["page"]
            document = await db.get(Document, event.payload["document_id"])
            if document is None or not _for_every_point(document, meeting_id):
                return event.seq, None
            size = (
                await db.exec(
                    select(DocumentPage.width, DocumentPage.height).where(
                        DocumentPage.document_id == document.id, DocumentPage.page == page
                    )
                )
            ).first()
        blob = BlobStore(self._state.settings.blobs_dir).path(document.sha256)
        width = render_width((size[0], size[1]) if size is not None else None)
        path = await self._state.renderer.image(blob, document.sha256, page, width)
        return event.seq, await asyncio.to_thread(path.read_bytes)


def _for_every_point(document: Document, meeting_id: int) -> bool:
    """The slide is one picture for every point and carries no reader's watermark, so a
    confidential paper is never a slide (its pages in the book are the notice page)."""
    return document.meeting_id == meeting_id and rules.everyone_reads(document)


@get("/meetings/{meeting_id:int}/projector", guards=[meeting_permission])
async def projector(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    """The hall's big screen: the presented page and its agenda item; no input needed."""
    view = await meeting_rules.meeting_view(db, request.state.access)
    agenda = meeting_rules.item_titles(view["tree"])
    return Template("projector.html", context={**view, "agenda": agenda})


ROUTES = [projector]

LIVE = Live(
    commands=[
        Command("page.present", present_page, "preside"),
        Command("follow", follow),
    ],
    shared_parts=[
        SharedPart("presented", presented),
    ],
)
