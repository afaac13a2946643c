"""Open council data: what the public may see, decided here and only here, and the pages that
show it without signing in (`/public`, `/public/meetings/{id}`, a public paper's PDF).

A meeting is public when its secretary opened it (`Meeting.public`) and it is no longer a
draft. A paper is public when its meeting is public, it is not confidential, it is the current
version, and it was handed to the delegates: a paper in the meeting's latest agenda book, or an
adopted resolution's final text. Persons are the names and titles on the roster of a council
that has a public meeting: no account names, e-mail addresses or seats. Anything else answers
404 exactly as if it did not exist, so nothing says a private meeting or paper is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import meeting_permission
from server.admin import audit
from server.blobs import BlobStore
from server.byteranges import serve_file
from server.errors import AppError, form_of, not_found
from server.house import House
from server.i18n import gettext_for
from server.meetings import rules as meeting_rules
from server.minutes import rule_text
from server.models import (
    AgendaBook,
    Body,
    Document,
    Meeting,
    MeetingStatus,
    Member,
    Role,
    User,
    Vote,
    utcnow,
)

SHOWN_KINDS = ("paper", "resolution")
PAGE_SIZE = 50  # meetings on one page of /public
# Public files may be cached a little, not long: a meeting made private again must vanish soon.
FILE_CACHE = "public, max-age=300"


# --- the rule ---------------------------------------------------------------------------------


def public_meeting_clause() -> Any:
    """The SQL condition of a public meeting."""
    return col(Meeting.public).is_(True) & (Meeting.status != MeetingStatus.draft)


def is_public(meeting: Meeting) -> bool:
    return meeting.public and meeting.status != MeetingStatus.draft


async def public_meeting(db: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await db.get(Meeting, meeting_id)
    if meeting is None or not is_public(meeting):
        raise not_found("meeting")
    return meeting


async def public_bodies(db: AsyncSession) -> list[Body]:
    """Councils with at least one public meeting, by id; the others are not shown at all."""
    shown = select(Meeting.body_id).where(public_meeting_clause())
    rows = await db.exec(select(Body).where(col(Body.id).in_(shown)).order_by(col(Body.id)))
    return list(rows.all())


async def public_body(db: AsyncSession, body_id: int) -> Body:
    for body in await public_bodies(db):
        if body.id == body_id:
            return body
    raise not_found("council")


async def public_meetings(db: AsyncSession, body_id: int | None = None) -> list[Meeting]:
    query = select(Meeting).where(public_meeting_clause())
    if body_id is not None:
        query = query.where(Meeting.body_id == body_id)
    rows = await db.exec(query.order_by(col(Meeting.starts_at).desc(), col(Meeting.id).desc()))
    return list(rows.all())


async def latest_books(db: AsyncSession, meeting_ids: list[int]) -> dict[int, AgendaBook]:
    """Each meeting's latest agenda book: what the delegates were handed."""
    newest = (
        select(AgendaBook.meeting_id, sa.func.max(AgendaBook.version).label("version"))
        .where(col(AgendaBook.meeting_id).in_(meeting_ids))
        .group_by(col(AgendaBook.meeting_id))
        .subquery()
    )
    rows = await db.exec(
        select(AgendaBook).join(
            newest,
            (col(AgendaBook.meeting_id) == newest.c.meeting_id)
            & (col(AgendaBook.version) == newest.c.version),
        )
    )
    return {book.meeting_id: book for book in rows.all()}


def booked(book: AgendaBook | None) -> set[int]:
    """The papers an agenda book holds."""
    if book is None:
        return set()
    return {e["document_id"] for e in book.page_map if e.get("kind") == "document"}


async def adopted_items(db: AsyncSession, meeting_ids: list[int]) -> set[int]:
    """The agenda items of these meetings that a closed vote passed."""
    rows = await db.exec(
        select(Vote.item_id, Vote.result).where(
            col(Vote.meeting_id).in_(meeting_ids), Vote.status == "closed"
        )
    )
    return {
        item for item, result in rows.all() if item is not None and (result or {}).get("passed")
    }


def paper_is_public(document: Document, book: AgendaBook | None, adopted: set[int]) -> bool:
    """A paper the delegates were handed in the book, or the resolution of an adopted item."""
    if document.confidential or document.replaced_at is not None:
        return False
    if document.kind == "resolution":
        return document.item_id in adopted
    return document.kind == "paper" and document.id in booked(book)


async def public_papers(db: AsyncSession, meetings: list[Meeting]) -> list[Document]:
    """The public papers of these (public) meetings, by id."""
    ids = [m.id for m in meetings if m.id is not None and is_public(m)]
    if not ids:
        return []
    books, adopted = await latest_books(db, ids), await adopted_items(db, ids)
    rows = await db.exec(
        select(Document)
        .where(
            col(Document.meeting_id).in_(ids),
            col(Document.kind).in_(SHOWN_KINDS),
            col(Document.confidential).is_(False),
            col(Document.replaced_at).is_(None),
        )
        .order_by(col(Document.id))
    )
    return [d for d in rows.all() if paper_is_public(d, books.get(d.meeting_id), adopted)]


async def public_paper(db: AsyncSession, document_id: int) -> tuple[Document, Meeting]:
    document = await db.get(Document, document_id)
    if document is None:
        raise not_found("document")
    meeting = await db.get(Meeting, document.meeting_id)
    if meeting is None or not is_public(meeting):
        raise not_found("document")
    books = await latest_books(db, [meeting.id or 0])
    adopted = await adopted_items(db, [meeting.id or 0])
    if not paper_is_public(document, books.get(meeting.id or 0), adopted):
        raise not_found("document")
    return document, meeting


async def public_members(db: AsyncSession, body_id: int) -> list[tuple[Member, User]]:
    """The roster of a public council as the public sees it: people with an active account
    (not a ward point's or an observer's), in roster order."""
    rows = await db.exec(
        select(Member, User)
        .join(User, col(User.id) == Member.user_id)
        .where(
            Member.body_id == body_id,
            col(User.active).is_(True),
            col(User.role).not_in((Role.ward, Role.observer)),
        )
        .order_by(col(Member.position), col(Member.id))
    )
    return list(rows.all())


# --- vote results in words ----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A closed vote as the public reads it: counts and the rule, never who chose what."""

    title: str
    passed: bool
    tally: list[tuple[str, int]]  # option label (a msgid for yes/no/abstain), weight
    chosen: list[str]  # labels of the options elected or chosen, for non yes/no votes
    voters: int
    base: int
    needed: int
    rule: str  # in Vietnamese, as the minutes write it
    closed_at: datetime | None


async def outcomes_by_item(db: AsyncSession, meeting_id: int) -> dict[int | None, list[Outcome]]:
    rows = await db.exec(
        select(Vote)
        .where(Vote.meeting_id == meeting_id, Vote.status == "closed")
        .order_by(col(Vote.closed_at), col(Vote.id))
    )
    found: dict[int | None, list[Outcome]] = {}
    for vote in rows.all():
        result = vote.result or {}
        labels = result.get("labels", {})
        found.setdefault(vote.item_id, []).append(
            Outcome(
                title=vote.title,
                passed=bool(result.get("passed")),
                tally=[(labels.get(k, k), int(w)) for k, w in result.get("tally", {}).items()],
                chosen=[labels.get(k, k) for k in result.get("chosen", [])],
                voters=int(result.get("voters", 0)),
                base=int(result.get("base", 0)),
                needed=int(result.get("needed", 0)),
                rule=rule_text(vote),
                closed_at=vote.closed_at,
            )
        )
    return found


def outcome_words(outcome: Outcome, language: str = "vi") -> str:
    """One line for an agenda item's result, e.g. "Thông qua: Tán thành 15, Không tán thành 2,
    Không biểu quyết 1; 18/20 đại biểu biểu quyết, cần 11 (Quá 1/2 tổng số đại biểu; ...)"."""
    _ = gettext_for(language)
    verdict = _("Adopted") if outcome.passed else _("Not adopted")
    if outcome.chosen:
        verdict += " — " + ", ".join(_(label) for label in outcome.chosen)
    counts = ", ".join(f"{_(label)} {weight}" for label, weight in outcome.tally)
    turnout = _("{voters}/{base} voted, {needed} needed").format(
        voters=outcome.voters, base=outcome.base, needed=outcome.needed
    )
    return f"{outcome.title}: {verdict}. {counts}; {turnout} ({outcome.rule})."


# --- pages ------------------------------------------------------------------------------------


def _papers_by_item(papers: list[Document]) -> dict[int | None, list[Document]]:
    grouped: dict[int | None, list[Document]] = {}
    for paper in sorted(papers, key=lambda d: (d.position, d.id or 0)):
        grouped.setdefault(paper.item_id, []).append(paper)
    return grouped


@get("/public")
async def public_index(
    request: Request, db: NamedDependency[AsyncSession], state: House, page: FromQuery[int] = 1
) -> Template:
    """The public meetings of every council, newest first, a page at a time."""
    total = (
        await db.exec(select(sa.func.count()).select_from(Meeting).where(public_meeting_clause()))
    ).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await db.exec(
        select(Meeting)
        .where(public_meeting_clause())
        .order_by(col(Meeting.starts_at).desc(), col(Meeting.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    context = {
        "meetings": rows.all(),
        "bodies": {b.id: b for b in await public_bodies(db)},
        "page": page,
        "pages": pages,
        "tz": state.settings.tz,
    }
    return Template("public_meetings.html", context=context, headers=_page_headers(request))


@get("/public/meetings/{meeting_id:int}")
async def public_meeting_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    """A public meeting: its agenda, its public papers to download, the results of its votes."""
    meeting = await public_meeting(db, meeting_id)
    body = await db.get_one(Body, meeting.body_id)
    tree = meeting_rules.agenda_tree(await meeting_rules.agenda_items(db, meeting_id))
    papers = _papers_by_item(await public_papers(db, [meeting]))
    outcomes = await outcomes_by_item(db, meeting_id)
    context = {
        "meeting": meeting,
        "body": body,
        "rows": meeting_rules.flatten(tree),
        "papers": papers,
        "outcomes": outcomes,
        "tz": state.settings.tz,
    }
    return Template("public_meeting.html", context=context, headers=_page_headers(request))


def _page_headers(request: Request) -> dict[str, str]:
    """A stranger's page may be cached a minute (per language cookie); a signed-in person's
    page carries their name and bell, so it is theirs alone."""
    if request.scope.get("user") is not None:
        return {"Cache-Control": "private, no-store"}
    return {"Cache-Control": "public, max-age=60", "Vary": "Cookie"}


@get("/public/files/{document_id:int}/{name:str}")
async def public_file(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    document_id: FromPath[int],
    name: FromPath[str],
) -> Response:
    """A public paper's PDF as it was taken in (no reader's stamp: it is public); `?download`
    asks the browser to save it. `name` is only for the saved file's name."""
    document, _meeting = await public_paper(db, document_id)
    await db.close()
    etag = f'"{document.sha256}"'
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers={"ETag": etag, "Cache-Control": FILE_CACHE})
    path = BlobStore(state.settings.blobs_dir).path(document.sha256)
    response = serve_file(
        request,
        path,
        "application/pdf",
        file_name(document),
        attachment="download" in request.query_params,
    )
    response.headers.update({"ETag": etag, "Cache-Control": FILE_CACHE})
    return response


def file_name(document: Document) -> str:
    stem = (document.filename or f"tai-lieu-{document.id}.pdf").rsplit(".", 1)[0]
    return f"{stem}.pdf"


def file_path(document: Document) -> str:
    return f"/public/files/{document.id}/tai-lieu-{document.id}.pdf"


# --- the secretary opens a meeting to the public -------------------------------------------

MANAGE = {"permission": "manage"}


@post("/meetings/{meeting_id:int}/public", guards=[meeting_permission], opt=MANAGE)
async def set_public(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    """`public` "on" opens the meeting on the open-data portal; anything else closes it."""
    form = await form_of(request)
    given = str(form.get("public", ""))
    if given not in ("", "on"):
        raise AppError(400, "bad_public", "Tick the box to make the meeting public, or clear it.")
    wanted = given == "on"
    meeting = await db.get_one(Meeting, meeting_id)
    if meeting.public != wanted:
        meeting.public = wanted
        meeting.updated_at = utcnow()  # clients of the open data sync by `modified`
        db.add(meeting)
        action = "meeting.public" if wanted else "meeting.private"
        audit.record(db, request.user, action, f"meeting:{meeting.id} {meeting.title}")
        await db.commit()
    return Template("fragments/public_toggle.html", context={"meeting": meeting, "saved": True})


ROUTES = [public_index, public_meeting_page, public_file, set_public]
