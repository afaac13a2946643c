"""Following the chair: the presented document and page, and who follows it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import journal
from server.access import meeting_permission
from server.documents import rules
from server.house import House
from server.live.protocol import Command, Live, Refusal, Session, SharedPart, field_of
from server.meetings import rules as meeting_rules
from server.models import Document, JournalEvent


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
    return {"seq": event.seq}


async def follow(session: Session, message: dict[str, Any]) -> dict[str, Any]:
    """`{"type":"follow","id":…,"on":true|false}`: whether this tablet turns with the chair."""
    session.following = field_of(message, "on", bool)
    return {"following": session.following}


async def presented(db: AsyncSession, state: House, meeting_id: int) -> dict[str, Any] | None:
    """The page being presented now, as the last `page.presented` event said."""
    event = (
        await db.exec(
            select(JournalEvent)
            .where(
                JournalEvent.meeting_id == meeting_id,
                JournalEvent.type == "page.presented",
            )
            .order_by(col(JournalEvent.seq).desc())
            .limit(1)
        )
    ).first()
    if event is None:
        return None
    shown = {"seq": event.seq, **event.payload}
    if "label" not in shown:  # presented before pages had labels
        shown["label"] = await rules.page_label(state, db, shown["document_id"], shown["page"])
    return shown


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
