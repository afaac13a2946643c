"""Opinions on drafts (góp ý dự thảo): the secretary opens a paper for opinions until a
deadline; until then each participant who may read it comments on passages of its pages,
and may change or withdraw what they said; the drafting body (chair and secretary) sees the
opinions gathered by paper and page, and takes them away as a report (PDF and Word).

A refusal keeps nothing: a page the paper does not have, a passage that is not on that page,
or anything sent after the deadline.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.opinions import OpinionRow, OpinionsData, opinions_docx, opinions_pdf
from server import notifications, openapi
from server.access import MeetingAccess, meeting_access, meeting_permission, signed_in
from server.documents.rules import can_read, page_labels, readable_document
from server.errors import AppError, not_found
from server.house import House
from server.minutes import ROLE_NAMES, date_place, issuer_lines, issuer_unit
from server.models import (
    Body,
    Consultation,
    Document,
    DocumentPage,
    Meeting,
    Opinion,
    Participant,
    User,
    utcnow,
)
from server.record import download

VIEW, MANAGE, PRESIDE = {"permission": "view"}, {"permission": "manage"}, {"permission": "preside"}
MAX_TEXT = 5000
MAX_PASSAGE = 1000
MAX_NOTE = 1000
MAX_RECTS = 50
OPINIONS_PER_PERSON = 200  # on one paper
LONGEST = timedelta(days=366)  # how far ahead a deadline may be
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SYMBOLS = {"hdnd": "BTH-HĐND", "ubnd": "BTH-UBND"}
_ROLE_WORDS = {str(role): words for role, words in ROLE_NAMES.items()}


class ConsultationIn(msgspec.Struct, forbid_unknown_fields=True):
    """`deadline` as ISO 8601; without an offset it is the council's local time."""

    deadline: str
    note: str = ""


class OpinionIn(msgspec.Struct, forbid_unknown_fields=True):
    """`page` of the paper (1-based); `passage` the words quoted from it; `position` where
    they are on the page, as rectangles [x0, y0, x1, y1] normalized 0..1."""

    page: int
    text: str
    passage: str = ""
    position: list[list[float]] = []


class OpinionEdit(msgspec.Struct, forbid_unknown_fields=True):
    text: str


# ---------------------------------------------------------------------------
# Rules


def is_open(consultation: Consultation, now: datetime | None = None) -> bool:
    return (now or utcnow()) < consultation.deadline


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def on_page(passage: str, page_text: str) -> bool:
    """Whether `passage` is on the page: the same words in the same order, whatever the
    spaces and line breaks between them."""
    return _squash(passage) in _squash(page_text)


def parse_deadline(given: str, tz: Any, now: datetime | None = None) -> datetime:
    try:
        deadline = datetime.fromisoformat(given.strip())
    except ValueError as exc:
        raise AppError(
            400, "bad_deadline", "Give the deadline as a date and time, e.g. 2026-12-10 17:00."
        ) from exc
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=tz)
    now = now or utcnow()
    if deadline <= now:
        raise AppError(400, "deadline_past", "The deadline must be later than now.")
    if deadline > now + LONGEST:
        raise AppError(400, "deadline_far", "The deadline must be within a year.")
    return deadline


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise AppError(400, "opinion_empty", "Write your opinion first.")
    if len(text) > MAX_TEXT:
        raise AppError(
            400, "opinion_too_long", "An opinion may be at most {limit} characters.", limit=MAX_TEXT
        )
    return text


def _check_position(position: list[list[float]]) -> list[list[float]]:
    if len(position) > MAX_RECTS or any(
        len(rect) != 4 or not all(0 <= v <= 1 for v in rect) for rect in position
    ):
        raise AppError(400, "bad_position", "The place of the passage on the page is not valid.")
    return [[round(v, 5) for v in rect] for rect in position]


def _closed(consultation: Consultation, tz: Any) -> AppError:
    return AppError(
        409,
        "opinions_closed",
        "Opinions on this draft were taken until {deadline}; nothing was saved.",
        deadline=deadline_words(consultation.deadline, tz),
    )


def deadline_words(when: datetime, tz: Any) -> str:
    """ "17:00 ngày 10/12/2026", in the council's time."""
    local = when.astimezone(tz)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


async def _consultation_of(db: AsyncSession, document_id: int | None) -> Consultation | None:
    return (
        await db.exec(select(Consultation).where(Consultation.document_id == document_id))
    ).first()


async def _page(db: AsyncSession, document: Document, page: int) -> DocumentPage:
    found = (
        await db.exec(
            select(DocumentPage).where(
                DocumentPage.document_id == document.id, DocumentPage.page == page
            )
        )
    ).first()
    if found is None:
        raise AppError(
            400,
            "no_such_page",
            "This draft has pages 1 to {count}; it has no page {page}.",
            count=document.page_count,
            page=page,
        )
    return found


async def open_consultation(
    db: AsyncSession, state: House, user: User, document: Document, given: ConsultationIn
) -> Consultation:
    """Opens the paper for opinions, or moves the deadline of one already opened."""
    if document.kind != "paper":
        raise AppError(409, "not_a_draft", "Only a paper can be opened for opinions.")
    if document.replaced_at is not None:
        raise AppError(
            409, "draft_replaced", "A newer version of this paper exists: open that one instead."
        )
    note = given.note.strip()
    if len(note) > MAX_NOTE:
        raise AppError(
            400, "note_too_long", "The note may be at most {limit} characters.", limit=MAX_NOTE
        )
    deadline = parse_deadline(given.deadline, state.settings.tz)
    assert document.id is not None  # a stored document
    consultation = await _consultation_of(db, document.id) or Consultation(
        document_id=document.id, meeting_id=document.meeting_id, deadline=deadline
    )
    consultation.deadline, consultation.note = deadline, note
    consultation.opened_by, consultation.opened_at = user.id, utcnow()
    db.add(consultation)
    await _remind(db, user, consultation, document)
    await db.commit()
    await db.refresh(consultation)
    return consultation


def _reminder_key(consultation: Consultation) -> str:
    return f"opinions:{consultation.document_id}"


async def _remind(
    db: AsyncSession, user: User, consultation: Consultation, document: Document
) -> None:
    """Tells those who may comment, a day before the deadline (or halfway to a nearer one),
    that it is near; in the caller's transaction."""
    now = utcnow()
    due_at = consultation.deadline - min(timedelta(days=1), (consultation.deadline - now) / 2)
    readers = await notifications.participants_of(
        db, document.meeting_id, but=user.id, observers=not document.confidential
    )
    await notifications.remind(
        db,
        _reminder_key(consultation),
        due_at,
        readers,
        notifications.DEADLINE_NEAR,
        params={
            "task": "opinion",
            "title": document.title,
            "due_at": consultation.deadline.isoformat(),
        },
        link=f"/meetings/{document.meeting_id}/read?document={document.id}",
        meeting_id=document.meeting_id,
    )


async def give_opinion(
    db: AsyncSession, state: House, user: User, document: Document, given: OpinionIn
) -> Opinion:
    consultation = await _consultation_of(db, document.id)
    if consultation is None:
        raise AppError(409, "not_consulted", "This paper is not open for opinions.")
    if not is_open(consultation):
        raise _closed(consultation, state.settings.tz)
    page = await _page(db, document, given.page)
    passage = _squash(given.passage)
    if len(passage) > MAX_PASSAGE:
        raise AppError(
            400,
            "passage_too_long",
            "Quote at most {limit} characters of the page; choose a shorter passage.",
            limit=MAX_PASSAGE,
        )
    if passage and not on_page(passage, page.text):
        raise AppError(
            400,
            "passage_not_on_page",
            "The passage is not on page {page} of this draft; choose it again on the page.",
            page=given.page,
        )
    text = _check_text(given.text)
    position = _check_position(given.position)
    mine = await db.exec(
        select(Opinion.id).where(
            Opinion.consultation_id == consultation.id,
            Opinion.author_id == user.id,
            col(Opinion.withdrawn).is_(False),
        )
    )
    if len(mine.all()) >= OPINIONS_PER_PERSON:
        raise AppError(
            409,
            "too_many_opinions",
            "You have given {limit} opinions on this draft, the most one person may.",
            limit=OPINIONS_PER_PERSON,
        )
    assert consultation.id is not None and user.id is not None  # stored rows
    now = utcnow()
    opinion = Opinion(
        created_at=now,
        updated_at=now,
        consultation_id=consultation.id,
        author_id=user.id,
        page=given.page,
        passage=passage,
        position=position,
        text=text,
    )
    db.add(opinion)
    await db.commit()
    await db.refresh(opinion)
    return opinion


async def _own_opinion(
    db: AsyncSession, state: House, user: User, opinion_id: int
) -> tuple[Opinion, Document]:
    """The caller's own opinion that may still change; 404 when they may not see it."""
    opinion = await db.get(Opinion, opinion_id)
    consultation = await db.get(Consultation, opinion.consultation_id) if opinion else None
    document = await db.get(Document, consultation.document_id) if consultation else None
    if opinion is None or consultation is None or document is None or opinion.withdrawn:
        raise not_found("opinion")
    access = await meeting_access(db, user, document.meeting_id)
    if not can_read(access, document):
        raise not_found("opinion")
    if opinion.author_id != user.id:
        raise AppError(403, "not_your_opinion", "Only its author may change an opinion.")
    if not is_open(consultation):
        raise _closed(consultation, state.settings.tz)
    return opinion, document


# ---------------------------------------------------------------------------
# What people see


class ConsultationFields(TypedDict):
    document_id: int | None
    title: str
    version: int
    deadline: str
    deadline_time: str
    deadline_date: str
    open: bool
    note: str


class ConsultationOut(ConsultationFields, total=False):
    """A paper open (or once open) for opinions, with its deadline."""

    page_keys: list[str]


class OpinionOut(TypedDict):
    id: int | None
    page: int
    label: str
    passage: str
    position: list[list[float]]  # rectangles on the page, 0..1
    text: str
    created_at: str
    updated_at: str
    when: str
    edited: bool


class MyOpinion(OpinionOut):
    document_id: int | None
    open: bool


class GatheredPage(TypedDict):
    label: str
    opinions: list[dict[str, Any]]


class GatheredOut(ConsultationOut):
    """One paper's opinions for the drafting body, by page."""

    count: int
    pages: list[GatheredPage]


def consultation_json(
    consultation: Consultation, document: Document, tz: Any, keys: list[str] | None = None
) -> ConsultationOut:
    local = consultation.deadline.astimezone(tz)
    found: ConsultationOut = {
        "document_id": document.id,
        "title": document.title,
        "version": document.version,
        "deadline": consultation.deadline.isoformat(),
        "deadline_time": f"{local:%H:%M}",
        "deadline_date": f"{local:%d/%m/%Y}",
        "open": is_open(consultation),
        "note": consultation.note,
    }
    if keys is not None:
        found["page_keys"] = keys
    return found


def opinion_json(opinion: Opinion, label: str, tz: Any) -> OpinionOut:
    return {
        "id": opinion.id,
        "page": opinion.page,
        "label": label,
        "passage": opinion.passage,
        "position": opinion.position,
        "text": opinion.text,
        "created_at": opinion.created_at.isoformat(),
        "updated_at": opinion.updated_at.isoformat(),
        "when": deadline_words(opinion.updated_at, tz),
        "edited": opinion.updated_at > opinion.created_at,
    }


async def _consulted(
    db: AsyncSession, meeting_id: int, access: MeetingAccess
) -> list[tuple[Consultation, Document]]:
    """The meeting's papers open or once opened for opinions that the caller may read, in
    agenda order."""
    rows = await db.exec(
        select(Consultation, Document)
        .join(Document, col(Document.id) == Consultation.document_id)
        .where(Consultation.meeting_id == meeting_id)
        .order_by(col(Document.item_id), col(Document.position), col(Document.id))
    )
    return [(c, d) for c, d in rows.all() if can_read(access, d)]


async def _keys(db: AsyncSession, document_id: int | None) -> list[str]:
    rows = await db.exec(
        select(DocumentPage.content_key)
        .where(DocumentPage.document_id == document_id)
        .order_by(col(DocumentPage.page))
    )
    return list(rows.all())


@dataclass(frozen=True)
class Gathered:
    """One paper's opinions for the drafting body, by page in page order."""

    consultation: Consultation
    document: Document
    pages: list[tuple[str, list[dict[str, Any]]]]  # (printed label, opinions on that page)

    @property
    def count(self) -> int:
        return sum(len(opinions) for _, opinions in self.pages)


async def gathered(
    db: AsyncSession, state: House, consultation: Consultation, document: Document
) -> Gathered:
    tz = state.settings.tz
    rows = await db.exec(
        select(Opinion, User, Participant.role)
        .join(User, col(User.id) == Opinion.author_id)
        .outerjoin(
            Participant,
            (col(Participant.user_id) == User.id)
            & (col(Participant.meeting_id) == consultation.meeting_id),
        )
        .where(Opinion.consultation_id == consultation.id, col(Opinion.withdrawn).is_(False))
        .order_by(col(Opinion.page), col(Opinion.created_at), col(Opinion.id))
    )
    labels = await page_labels(state, db, document)
    pages: dict[int, list[dict[str, Any]]] = {}
    for opinion, author, role in rows.all():
        label = labels[opinion.page - 1] if opinion.page <= len(labels) else str(opinion.page)
        pages.setdefault(opinion.page, []).append(
            {
                **opinion_json(opinion, label, tz),
                "author": author.full_name or author.username,
                "author_title": author.title or _ROLE_WORDS.get(role or "", ""),
            }
        )
    listed = [(labels[n - 1] if n <= len(labels) else str(n), found) for n, found in pages.items()]
    return Gathered(consultation, document, listed)


async def report_data(
    db: AsyncSession, state: House, consultation: Consultation, document: Document, compiler: User
) -> OpinionsData:
    """The summary's content; signed by the meeting's secretary, else by `compiler`, who
    makes it."""
    tz = state.settings.tz
    meeting = await db.get_one(Meeting, document.meeting_id)
    body = await db.get_one(Body, meeting.body_id)
    secretary = await db.get(User, meeting.secretary_id or meeting.created_by or 0) or compiler
    found = await gathered(db, state, consultation, document)
    today = utcnow().astimezone(tz)
    kind, _ = issuer_unit(body)
    return OpinionsData(
        issuer=issuer_lines(body),
        number=f"      /{SYMBOLS.get(kind, 'BTH')}",
        place=date_place(body),
        date=f"{today.day:02d} tháng {today.month:02d} năm {today.year}",
        paper=document.title,
        version=document.version,
        meeting=meeting.title,
        deadline=deadline_words(consultation.deadline, tz),
        opinions=[
            OpinionRow(
                label,
                row["passage"],
                row["text"],
                row["author"],
                row["author_title"],
                row["when"],
            )
            for label, rows in found.pages
            for row in rows
        ],
        compiler_titles=("THƯ KÝ KỲ HỌP",),
        compiler=secretary.full_name or secretary.username,
    )


# ---------------------------------------------------------------------------
# Routes


@put(
    "/api/documents/{document_id:int}/consultation",
    guards=[meeting_permission],
    opt=MANAGE,
)
async def put_consultation(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    document_id: FromPath[int],
    data: JSONBody[ConsultationIn],
) -> ConsultationOut:
    """Opens the paper for opinions until `deadline`, or moves the deadline."""
    document = await readable_document(db, request.state.access, document_id)
    consultation = await open_consultation(db, state, request.user, document, data)
    return consultation_json(consultation, document, state.settings.tz)


@post(
    "/api/documents/{document_id:int}/consultation/close",
    guards=[meeting_permission],
    opt=MANAGE,
)
async def close_consultation(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> ConsultationOut:
    """Ends taking opinions now; the opinions given stay."""
    document = await readable_document(db, request.state.access, document_id)
    consultation = await _consultation_of(db, document_id)
    if consultation is None:
        raise not_found("consultation")
    if is_open(consultation):
        consultation.deadline = utcnow()
        db.add(consultation)
        await notifications.cancel(db, _reminder_key(consultation))
        await db.commit()
        await db.refresh(consultation)
    return consultation_json(consultation, document, state.settings.tz)


@get("/api/meetings/{meeting_id:int}/consultations", guards=[meeting_permission], opt=VIEW)
async def list_consultations(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> list[ConsultationOut]:
    """The papers open (or once open) for opinions that the caller may read, with each
    page's content key (a reader of the agenda book finds the paper's pages by them)."""
    tz = state.settings.tz
    return [
        consultation_json(c, d, tz, await _keys(db, d.id))
        for c, d in await _consulted(db, meeting_id, request.state.access)
    ]


@get("/api/meetings/{meeting_id:int}/opinions/mine", guards=[meeting_permission], opt=VIEW)
async def my_opinions(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> list[MyOpinion]:
    """The caller's own opinions in this meeting (not those withdrawn), by paper and page."""
    found: list[MyOpinion] = []
    for consultation, document in await _consulted(db, meeting_id, request.state.access):
        rows = await db.exec(
            select(Opinion)
            .where(
                Opinion.consultation_id == consultation.id,
                Opinion.author_id == request.user.id,
                col(Opinion.withdrawn).is_(False),
            )
            .order_by(col(Opinion.page), col(Opinion.created_at))
        )
        labels = await page_labels(state, db, document)
        for opinion in rows.all():
            label = labels[opinion.page - 1] if opinion.page <= len(labels) else str(opinion.page)
            found.append(
                {
                    **opinion_json(opinion, label, state.settings.tz),
                    "document_id": document.id,
                    "open": is_open(consultation),
                }
            )
    return found


@post(
    "/api/documents/{document_id:int}/opinions",
    guards=[meeting_permission],
    opt=VIEW,
    status_code=HTTP_201_CREATED,
)
async def post_opinion(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    document_id: FromPath[int],
    data: JSONBody[OpinionIn],
) -> MyOpinion:
    """An opinion on a passage of page `page` of the paper, before the deadline."""
    access = request.state.access
    document = await readable_document(
        db, access, document_id, getattr(request.state, "document", None)
    )
    opinion = await give_opinion(db, state, request.user, document, data)
    labels = await page_labels(state, db, document)
    return {
        **opinion_json(opinion, labels[opinion.page - 1], state.settings.tz),
        "document_id": document.id,
        "open": True,
    }


@patch("/api/opinions/{opinion_id:int}", guards=[signed_in])
async def edit_opinion(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    opinion_id: FromPath[int],
    data: JSONBody[OpinionEdit],
) -> OpinionOut:
    """The author changes the words of their opinion, before the deadline."""
    opinion, document = await _own_opinion(db, state, request.user, opinion_id)
    opinion.text = _check_text(data.text)
    opinion.updated_at = utcnow()
    db.add(opinion)
    await db.commit()
    await db.refresh(opinion)
    labels = await page_labels(state, db, document)
    return opinion_json(opinion, labels[opinion.page - 1], state.settings.tz)


@delete("/api/opinions/{opinion_id:int}", guards=[signed_in])
async def withdraw_opinion(
    request: Request, db: NamedDependency[AsyncSession], state: House, opinion_id: FromPath[int]
) -> None:
    """The author withdraws their opinion, before the deadline; it is no longer listed."""
    opinion, _ = await _own_opinion(db, state, request.user, opinion_id)
    opinion.withdrawn, opinion.updated_at = True, utcnow()
    db.add(opinion)
    await db.commit()


def _gathered_json(found: Gathered, tz: Any) -> GatheredOut:
    return {
        **consultation_json(found.consultation, found.document, tz),
        "count": found.count,
        "pages": [{"label": label, "opinions": rows} for label, rows in found.pages],
    }


@get("/api/meetings/{meeting_id:int}/opinions", guards=[meeting_permission], opt=PRESIDE)
async def gathered_opinions(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> list[GatheredOut]:
    """For the drafting body: every consulted paper's opinions, by page in page order."""
    return [
        _gathered_json(await gathered(db, state, c, d), state.settings.tz)
        for c, d in await _consulted(db, meeting_id, request.state.access)
    ]


async def _report(
    request: Request, db: AsyncSession, state: House, document_id: int
) -> tuple[OpinionsData, Document]:
    document = await readable_document(db, request.state.access, document_id)
    consultation = await _consultation_of(db, document_id)
    if consultation is None:
        raise not_found("consultation")
    return await report_data(db, state, consultation, document, request.user), document


@get(
    "/api/documents/{document_id:int}/opinions.pdf",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.PDF,
)
async def report_pdf(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Response[bytes]:
    """Bảng tổng hợp ý kiến góp ý: who said what where, as a PDF."""
    data, document = await _report(request, db, state, document_id)
    pdf = await state.renderer.run(opinions_pdf, data)
    return download(pdf, "application/pdf", f"gop-y-du-thao-{document.id}.pdf")


@get(
    "/api/documents/{document_id:int}/opinions.docx",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.DOCX,
)
async def report_docx(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Response[bytes]:
    """The same report as a Word file."""
    data, document = await _report(request, db, state, document_id)
    docx = await state.renderer.run(opinions_docx, data)
    return download(docx, DOCX, f"gop-y-du-thao-{document.id}.docx")


@get("/meetings/{meeting_id:int}/opinions", guards=[meeting_permission], opt=PRESIDE)
async def opinions_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    """The drafting body's page: each paper, open or close it for opinions, and what was
    said, by page."""
    access: MeetingAccess = request.state.access
    consulted = {d.id: c for c, d in await _consulted(db, meeting_id, access)}
    papers = await db.exec(
        select(Document)
        .where(
            Document.meeting_id == meeting_id,
            Document.kind == "paper",
            col(Document.replaced_at).is_(None),
        )
        .order_by(col(Document.item_id), col(Document.position), col(Document.id))
    )
    rows = []
    for document in papers.all():
        consultation = consulted.pop(document.id, None)
        found = await gathered(db, state, consultation, document) if consultation else None
        rows.append((document, consultation, found))
    for consultation in consulted.values():  # an older version consulted before it was replaced
        older = await db.get_one(Document, consultation.document_id)
        rows.append((older, consultation, await gathered(db, state, consultation, older)))
    return Template(
        "opinions.html",
        context={
            "meeting": access.meeting,
            "access": access,
            "rows": rows,
            "tz": state.settings.tz,
            "is_open": is_open,
            "deadline_words": deadline_words,
            "now": utcnow(),
        },
    )


ROUTES = [
    put_consultation,
    close_consultation,
    list_consultations,
    my_opinions,
    post_opinion,
    edit_opinion,
    withdraw_opinion,
    gathered_opinions,
    report_pdf,
    report_docx,
    opinions_page,
]
