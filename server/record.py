"""The record of a session (biên bản, thông báo kết luận): the secretary's text beside the
journal's locked facts, frozen versions that never change, and their PDF and Word copies.

The secretary writes the minutes' number, opening, other matters and recipients, and per
agenda item a summary of the discussion and the conclusion (tables MinutesDraft and
MinutesNote; server/minutes.py reads them into the minutes). "Chốt biên bản" freezes a
version once the session has ended: its content and the SHA-256 of its canonical JSON, the
PDF made from it (a blob), and the journal's head it was made from. A correction is saved
as text and frozen as a new version; nothing changes a frozen one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, patch, post, route
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.docx import minutes_docx, notice_docx
from agenda.minutes import MinutesData, minutes_pdf
from agenda.notice import Conclusion, NoticeData, notice_pdf
from server import journal, openapi
from server.access import meeting_permission
from server.blobs import BlobStore
from server.errors import AppError, not_found
from server.house import House
from server.i18n import N_, translate
from server.meetings import rules as meeting_rules

# the minutes' own reading of a body's name, so that both documents name the issuer alike
from server.minutes import ISSUERS, date_place, issuer_lines, issuer_unit, minutes_data
from server.models import (
    AgendaItem,
    Body,
    BodyKind,
    JournalEvent,
    Meeting,
    MeetingRole,
    MinutesDraft,
    MinutesNote,
    Participant,
    RecordVersion,
    User,
    utcnow,
)

PRESIDE = {"permission": "preside"}
MAX_TEXT = 20_000
MAX_NUMBER = 64
MAX_ITEMS = 1_000
FREEZE_ATTEMPTS = 5
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FIELD_NAMES = {
    "number": N_("the number and symbol"),
    "opening": N_("the opening"),
    "other": N_("other matters"),
    "recipients": N_("the recipients"),
    "summary": N_("the summary of the discussion"),
    "conclusion": N_("the conclusion"),
}
SYMBOLS = {BodyKind.hdnd: "HĐND", BodyKind.ubnd: "UBND"}
_VERSION_FILE = re.compile(r"(\d{1,9})(?:\.(pdf|docx))?")


class ItemText(msgspec.Struct, forbid_unknown_fields=True):
    item_id: int
    summary: str | UnsetType = UNSET
    conclusion: str | UnsetType = UNSET


class RecordText(msgspec.Struct, forbid_unknown_fields=True):
    """What the secretary saves; fields left out stay as they are."""

    number: str | UnsetType = UNSET
    opening: str | UnsetType = UNSET
    other: str | UnsetType = UNSET
    recipients: str | UnsetType = UNSET
    items: list[ItemText] | UnsetType = UNSET


# ---------------------------------------------------------------------------
# The secretary's text


def _given(struct: msgspec.Struct) -> dict[str, Any]:
    return {
        name: value
        for name in struct.__struct_fields__
        if (value := getattr(struct, name)) is not UNSET
    }


def _check_lengths(text: RecordText) -> None:
    items = text.items or []
    if len(items) > MAX_ITEMS:
        raise AppError(
            400, "too_many_items", "Save at most {limit} items at once.", limit=MAX_ITEMS
        )
    fields = [(name, value) for name, value in _given(text).items() if name != "items"]
    for item in items:
        fields += [(name, value) for name, value in _given(item).items() if name != "item_id"]
    for name, value in fields:
        limit = MAX_NUMBER if name == "number" else MAX_TEXT
        if len(value) > limit:
            raise AppError(
                400,
                "too_long",
                "Too long: {field} holds at most {limit} characters.",
                field=FIELD_NAMES[name],
                limit=limit,
            )


async def save_text(state: House, user: User, meeting_id: int, text: RecordText) -> datetime:
    """Keeps what the secretary wrote; only the fields given change. Nothing is kept when
    any part is refused."""
    _check_lengths(text)
    try:
        return await _save(state, user, meeting_id, text)
    except IntegrityError:  # another device made the same note first: change theirs
        return await _save(state, user, meeting_id, text)


async def _save(state: House, user: User, meeting_id: int, text: RecordText) -> datetime:
    now = utcnow()
    async with state.db() as db:
        items = text.items or []
        ids = {item.item_id for item in items}
        ours = set(
            (
                await db.exec(
                    select(AgendaItem.id).where(
                        AgendaItem.meeting_id == meeting_id, col(AgendaItem.id).in_(ids)
                    )
                )
            ).all()
        )
        if unknown := sorted(ids - ours):
            raise AppError(
                400, "bad_item", "Item {item} is not on this meeting's agenda.", item=unknown[0]
            )
        meeting_fields = {k: v for k, v in _given(text).items() if k != "items"}
        if meeting_fields:
            draft = await db.get(MinutesDraft, meeting_id) or MinutesDraft(meeting_id=meeting_id)
            for name, value in meeting_fields.items():
                setattr(draft, name, value.strip() if name == "number" else value)
            draft.updated_by, draft.updated_at = user.id, now
            db.add(draft)
        notes = {
            note.item_id: note
            for note in await db.exec(
                select(MinutesNote).where(
                    MinutesNote.meeting_id == meeting_id, col(MinutesNote.item_id).in_(ids)
                )
            )
        }
        for item in items:
            note = notes.get(item.item_id) or MinutesNote(
                meeting_id=meeting_id, item_id=item.item_id
            )
            for name, value in _given(item).items():
                if name != "item_id":
                    setattr(note, name, value)
            note.updated_by, note.updated_at = user.id, now
            notes[item.item_id] = note
            db.add(note)
        await db.commit()
    return now


async def _items(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    """The agenda in order, each item with what the secretary wrote on it."""
    tree = meeting_rules.agenda_tree(await meeting_rules.agenda_items(db, meeting_id))
    notes = {
        note.item_id: note
        for note in await db.exec(select(MinutesNote).where(MinutesNote.meeting_id == meeting_id))
    }
    rows = []
    for row in meeting_rules.flatten(tree):
        note = notes.get(row["item"].id)
        rows.append(
            {
                "item_id": row["item"].id,
                "number": row["number"],
                "title": row["item"].title,
                "depth": row["depth"],
                "summary": note.summary if note else "",
                "conclusion": note.conclusion if note else "",
            }
        )
    return rows


async def _text(db: AsyncSession, meeting: Meeting) -> dict[str, Any]:
    draft = await db.get(MinutesDraft, meeting.id) or MinutesDraft(meeting_id=meeting.id)
    body = await db.get(Body, meeting.body_id)
    return {
        "number": draft.number,
        "default_number": f"{meeting.id}/{_symbol('BB', body)}",
        "opening": draft.opening,
        "other": draft.other,
        "recipients": draft.recipients,
        "items": await _items(db, meeting.id),
    }


# ---------------------------------------------------------------------------
# The conclusion notice's content


def _symbol(kind: str, body: Body) -> str:
    """ "TB-HĐND", "BB-UBND", or just "TB" for other bodies."""
    suffix = SYMBOLS.get(body.kind)
    return f"{kind}-{suffix}" if suffix else kind


def _council(body: Body) -> str:
    """The body as a sentence names it: "Hội đồng nhân dân phường Ba Đình"."""
    kind, unit = issuer_unit(body)
    return f"{ISSUERS[kind]} {unit}" if kind in ISSUERS else unit


def _signer_titles(body: Body, chair_title: str) -> tuple[str, ...]:
    kind, _ = issuer_unit(body)
    if kind not in ISSUERS:
        return ("CHỦ TỌA",)
    on_behalf = f"TM. {ISSUERS[kind].upper()}"
    if "phó chủ tịch" in chair_title.lower():
        return (on_behalf, "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    return (on_behalf, "CHỦ TỊCH")


def _day(value: datetime, tz: Any) -> str:
    local = value.astimezone(tz)
    return f"{local.day:02d} tháng {local.month:02d} năm {local.year}"


async def _first_event(db: AsyncSession, meeting_id: int, kind: str) -> JournalEvent | None:
    return (
        await db.exec(
            select(JournalEvent)
            .where(JournalEvent.meeting_id == meeting_id, JournalEvent.type == kind)
            .order_by(col(JournalEvent.seq))
            .limit(1)
        )
    ).first()


async def _chair(db: AsyncSession, meeting_id: int) -> User | None:
    return (
        await db.exec(
            select(User)
            .join(Participant, col(Participant.user_id) == User.id)
            .where(Participant.meeting_id == meeting_id, Participant.role == MeetingRole.chair)
            .order_by(col(Participant.id))
            .limit(1)
        )
    ).first()


async def notice_data(db: AsyncSession, meeting_id: int, tz: Any) -> NoticeData:
    """The conclusion notice as of now: one paragraph per item the secretary concluded."""
    conclusions = [
        Conclusion(row["number"], row["title"], row["conclusion"])
        for row in await _items(db, meeting_id)
        if row["conclusion"].strip()
    ]
    if not conclusions:
        raise AppError(
            409,
            "no_conclusions",
            "No item has a conclusion yet: write the conclusion of at least one item first.",
        )
    meeting = await db.get(Meeting, meeting_id)
    body = await db.get(Body, meeting.body_id)
    draft = await db.get(MinutesDraft, meeting_id) or MinutesDraft(meeting_id=meeting_id)
    started = await _first_event(db, meeting_id, "meeting.started")
    chair = await _chair(db, meeting_id)
    recipients = [line.strip() for line in draft.recipients.splitlines() if line.strip()]
    return NoticeData(
        body=_council(body),
        issuer=issuer_lines(body),
        number=f"{meeting.id}/{_symbol('TB', body)}",
        place=date_place(body) or _council(body),
        date=_day(utcnow(), tz),
        meeting=meeting.title,
        held=_day(started.at if started else meeting.starts_at, tz),
        venue=meeting.place or body.place,
        conclusions=tuple(conclusions),
        signer_titles=_signer_titles(body, chair.title if chair else ""),
        signer=(chair.full_name or chair.username) if chair else "",
        recipients=tuple(recipients or ("Các đại biểu dự kỳ họp;", "Lưu: VT.")),
    )


# ---------------------------------------------------------------------------
# Frozen versions


@dataclass(frozen=True)
class Kind:
    """A document of the record: how its content is made, read back and written out."""

    name: str
    filename: str
    make: Callable[[AsyncSession, int, Any], Awaitable[Any]]
    load: Callable[[dict], Any]
    pdf: Callable[[Any], bytes]
    docx: Callable[[Any], bytes]


MINUTES = Kind(
    "minutes", "bien-ban-ky-hop", minutes_data, MinutesData.from_dict, minutes_pdf, minutes_docx
)
NOTICE = Kind(
    "notice", "thong-bao-ket-luan", notice_data, NoticeData.from_dict, notice_pdf, notice_docx
)


def content_sha256(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: sorted keys, no spaces, UTF-8 as is."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def _ended(db: AsyncSession, meeting_id: int) -> bool:
    """The session's last start or end in the journal is an end."""
    last = await db.exec(
        select(JournalEvent.type)
        .where(
            JournalEvent.meeting_id == meeting_id,
            col(JournalEvent.type).in_(("meeting.started", "meeting.ended")),
        )
        .order_by(col(JournalEvent.seq).desc())
        .limit(1)
    )
    return last.first() == "meeting.ended"


async def _next_version(db: AsyncSession, meeting_id: int, kind: str) -> int:
    latest = await db.exec(
        select(sa.func.max(RecordVersion.version)).where(
            RecordVersion.meeting_id == meeting_id, RecordVersion.kind == kind
        )
    )
    return (latest.one() or 0) + 1


async def freeze(state: House, user: User, meeting_id: int, kind: Kind) -> RecordVersion:
    """Freezes the document as it is now as the next version of its kind.

    The content is read and its PDF made outside the write lock; the version number is
    checked again under it (the journal's append locks the meeting), and a freeze that lost
    the race to another makes its content again with the next number.
    """
    for _ in range(FREEZE_ATTEMPTS):
        async with state.db_read() as db:
            seq = (await db.get_one(Meeting, meeting_id)).last_seq
            if not await _ended(db, meeting_id):
                raise AppError(
                    409,
                    "meeting_not_ended",
                    "The session has not ended: freeze the record after it ends.",
                )
            version = await _next_version(db, meeting_id, kind.name)
            data = await kind.make(db, meeting_id, state.settings.tz)
            head = await journal.hash_at(db, meeting_id, seq)
        # the document prints the journal's head it was made from
        made = replace(data, draft=False, version=version, journal_seq=seq, journal_hash=head)
        content = made.to_dict()
        pdf = await state.renderer.run(kind.pdf, kind.load(content))
        row = await _keep(state, user, meeting_id, kind, version, content, pdf, seq, head)
        if row is not None:
            return row
    raise AppError(409, "busy", "Someone else is freezing this record; try again.")


async def _keep(
    state: House,
    user: User,
    meeting_id: int,
    kind: Kind,
    version: int,
    content: dict[str, Any],
    pdf: bytes,
    seq: int,
    head: str,
) -> RecordVersion | None:
    """Writes the version, or None when another freeze took its number first."""
    digest = content_sha256(content)
    blobs = BlobStore(state.settings.blobs_dir)
    async with state.db() as db:
        payload = {"version": version, "sha256": digest}
        event = await journal.append(db, meeting_id, f"{kind.name}.frozen", payload, user.id)
        if await _next_version(db, meeting_id, kind.name) != version:
            return None
        blob = blobs.path(hashlib.sha256(pdf).hexdigest())
        new_blob = not blob.exists()
        row = RecordVersion(
            meeting_id=meeting_id,
            kind=kind.name,
            version=version,
            content=content,
            sha256=digest,
            pdf_sha256=blobs.put(pdf),
            journal_seq=seq,
            journal_hash=head,
            frozen_by=user.id,
            frozen_at=utcnow(),
        )
        db.add(row)
        try:
            await db.commit()
        except BaseException:
            if new_blob:
                blob.unlink(missing_ok=True)
            raise
    state.hub.publish_event(event)
    return row


async def _versions(db: AsyncSession, meeting_id: int, tz: Any) -> dict[str, list[VersionOut]]:
    rows = await db.exec(
        select(RecordVersion, User.full_name)
        .outerjoin(User, col(User.id) == RecordVersion.frozen_by)
        .where(RecordVersion.meeting_id == meeting_id)
        .order_by(col(RecordVersion.kind), col(RecordVersion.version))
    )
    found: dict[str, list[VersionOut]] = {MINUTES.name: [], NOTICE.name: []}
    for version, name in rows.all():
        found.setdefault(version.kind, []).append(version_json(version, name or "", tz))
    return found


class VersionLinks(TypedDict):
    pdf: str
    docx: str


class VersionOut(TypedDict):
    """A frozen version of the minutes or the notice of conclusions."""

    kind: str
    version: int
    sha256: str
    pdf_sha256: str
    journal_seq: int
    journal_hash: str
    frozen_at: str
    frozen_at_local: str
    frozen_by: str
    links: VersionLinks


class VersionContent(VersionOut):
    content: dict[str, Any]


class MeetingFacts(TypedDict):
    id: int | None
    title: str
    status: str


class Limits(TypedDict):
    text: int
    number: int


class RecordView(TypedDict):
    """The minutes' draft: the facts the journal locks, the secretary's text, the versions."""

    meeting: MeetingFacts
    ended: bool
    facts: dict[str, Any] | None
    no_facts: str | None
    facts_by_item: dict[str, Any]
    text: dict[str, Any]
    versions: dict[str, list[VersionOut]]
    limits: Limits


class Saved(TypedDict):
    saved_at: str


VERSION_FILE = {
    200: ResponseSpec(
        VersionContent,
        description="`n`: the version with its content; `n.pdf`, `n.docx`: the file itself.",
    )
}


def version_json(version: RecordVersion, frozen_by: str, tz: Any) -> VersionOut:
    base = f"/api/meetings/{version.meeting_id}/{version.kind}/versions/{version.version}"
    return {
        "kind": version.kind,
        "version": version.version,
        "sha256": version.sha256,
        "pdf_sha256": version.pdf_sha256,
        "journal_seq": version.journal_seq,
        "journal_hash": version.journal_hash,
        "frozen_at": version.frozen_at.isoformat(),
        "frozen_at_local": version.frozen_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"),
        "frozen_by": frozen_by,
        "links": {"pdf": f"{base}.pdf", "docx": f"{base}.docx"},
    }


async def _version(db: AsyncSession, meeting_id: int, kind: Kind, file: str) -> RecordVersion:
    number = _VERSION_FILE.fullmatch(file)
    row = None
    if number:
        row = (
            await db.exec(
                select(RecordVersion).where(
                    RecordVersion.meeting_id == meeting_id,
                    RecordVersion.kind == kind.name,
                    RecordVersion.version == int(number.group(1)),
                )
            )
        ).first()
    if row is None:
        raise not_found("version")
    return row


def download(
    data: bytes, media_type: str, filename: str, shown_as: str = "", inline: bool = False
) -> Response[bytes]:
    """A file for one person's eyes (never cached); `shown_as` is a Vietnamese file name for
    browsers that take one beside the plain `filename`."""
    disposition = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    if shown_as:
        disposition += f"; filename*=UTF-8''{quote(shown_as, safe='')}"
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )


async def _version_file(state: House, db: AsyncSession, meeting_id: int, kind: Kind, file: str):  # type: ignore[no-untyped-def]
    row = await _version(db, meeting_id, kind, file)
    name = f"{kind.filename}-{meeting_id}-v{row.version}"
    if file.endswith(".pdf"):
        pdf = BlobStore(state.settings.blobs_dir).get(row.pdf_sha256)
        return download(pdf, "application/pdf", f"{name}.pdf")
    if file.endswith(".docx"):
        docx = await state.renderer.run(kind.docx, kind.load(row.content))
        return download(docx, DOCX, f"{name}.docx")
    frozen_by = await db.get(User, row.frozen_by) if row.frozen_by else None
    who = frozen_by.full_name if frozen_by else ""
    return {**version_json(row, who, state.settings.tz), "content": row.content}


# ---------------------------------------------------------------------------
# Routes


def _key(name: str) -> str:
    return " ".join(str(name).split()).rstrip(".").strip()


def _facts_by_item(facts: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The journal's speaking turns and votes per agenda item (by id), and those on none
    ("other"); turns and votes name their item by number, title or both."""
    keys: dict[str, Any] = {}
    for item in items:
        for name in (item["number"], item["title"], f"{_key(item['number'])}. {item['title']}"):
            keys.setdefault(_key(name), item["item_id"])
    found: dict[str, Any] = {}
    for part in ("turns", "votes"):
        for fact in facts.get(part) or ():
            at = keys.get(_key(fact.get("item", "")), "other")
            found.setdefault(at, {"turns": [], "votes": []})[part].append(fact)
    return found


async def record_view(
    db: AsyncSession, state: House, request: Request, meeting: Meeting
) -> RecordView:
    """The draft as the secretary's page shows it: the journal's facts (None before the
    session starts), the secretary's text and the frozen versions."""
    try:
        facts: dict[str, Any] | None = (
            await minutes_data(db, meeting.id, state.settings.tz)
        ).to_dict()
        no_facts = ""
    except AppError as refused:
        facts, no_facts = None, translate(request, refused.message, **refused.params)
    text = await _text(db, meeting)
    return {
        "meeting": {"id": meeting.id, "title": meeting.title, "status": meeting.status},
        "ended": await _ended(db, meeting.id),
        "facts": facts,
        "no_facts": no_facts,
        "facts_by_item": _facts_by_item(facts or {}, text["items"]),
        "text": text,
        "versions": await _versions(db, meeting.id, state.settings.tz),
        "limits": {"text": MAX_TEXT, "number": MAX_NUMBER},
    }


@get("/api/meetings/{meeting_id:int}/minutes", guards=[meeting_permission], opt=PRESIDE)
async def get_record(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> RecordView:
    """The minutes' draft: locked facts, the secretary's text, the frozen versions."""
    return await record_view(db, state, request, request.state.access.meeting)


@patch("/api/meetings/{meeting_id:int}/minutes/text", guards=[meeting_permission], opt=PRESIDE)
async def save_record_text(
    request: Request, state: House, meeting_id: FromPath[int], data: JSONBody[RecordText]
) -> Saved:
    """Saves the secretary's text (any time: it changes the draft, never a frozen version)."""
    saved_at = await save_text(state, request.user, meeting_id, data)
    return {"saved_at": saved_at.isoformat()}


@get(
    "/api/meetings/{meeting_id:int}/minutes/draft.pdf",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.PDF,
)
async def minutes_draft_pdf(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response[bytes]:
    """The working draft, marked DỰ THẢO even after the session: only a frozen version is not."""
    data = await minutes_data(db, meeting_id, state.settings.tz)
    pdf = await state.renderer.run(minutes_pdf, replace(data, draft=True, version=0))
    return download(pdf, "application/pdf", f"bien-ban-ky-hop-{meeting_id}-du-thao.pdf")


@get(
    "/api/meetings/{meeting_id:int}/minutes.docx",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.DOCX,
)
async def minutes_draft_docx(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response[bytes]:
    data = await minutes_data(db, meeting_id, state.settings.tz)
    docx = await state.renderer.run(minutes_docx, replace(data, draft=True, version=0))
    return download(docx, DOCX, f"bien-ban-ky-hop-{meeting_id}-du-thao.docx")


@get(
    "/api/meetings/{meeting_id:int}/notice.pdf",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.PDF,
)
async def notice_draft_pdf(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response[bytes]:
    pdf = await state.renderer.run(notice_pdf, await notice_data(db, meeting_id, state.settings.tz))
    return download(pdf, "application/pdf", f"thong-bao-ket-luan-{meeting_id}-du-thao.pdf")


@get(
    "/api/meetings/{meeting_id:int}/notice.docx",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.DOCX,
)
async def notice_draft_docx(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response[bytes]:
    docx = await state.renderer.run(
        notice_docx, await notice_data(db, meeting_id, state.settings.tz)
    )
    return download(docx, DOCX, f"thong-bao-ket-luan-{meeting_id}-du-thao.docx")


async def _frozen(request: Request, state: House, meeting_id: int, kind: Kind) -> VersionOut:
    row = await freeze(state, request.user, meeting_id, kind)
    return version_json(row, request.user.full_name, state.settings.tz)


@post(
    "/api/meetings/{meeting_id:int}/minutes/versions",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def freeze_minutes(request: Request, state: House, meeting_id: FromPath[int]) -> VersionOut:
    """Chốt biên bản: the minutes as they are now become the next frozen version."""
    return await _frozen(request, state, meeting_id, MINUTES)


@post(
    "/api/meetings/{meeting_id:int}/notice/versions",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def freeze_notice(request: Request, state: House, meeting_id: FromPath[int]) -> VersionOut:
    """The conclusion notice as it is now becomes its next frozen version."""
    return await _frozen(request, state, meeting_id, NOTICE)


@get(
    [
        "/api/meetings/{meeting_id:int}/minutes/versions",
        "/api/meetings/{meeting_id:int}/notice/versions",
    ],
    guards=[meeting_permission],
    opt=PRESIDE,
)
async def list_versions(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> list[VersionOut]:
    """The frozen versions of the minutes (or of the notice), oldest first."""
    kind = NOTICE if "/notice/" in request.url.path else MINUTES
    return (await _versions(db, meeting_id, state.settings.tz))[kind.name]


@get(
    "/api/meetings/{meeting_id:int}/minutes/versions/{file:str}",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=VERSION_FILE,
)
async def minutes_version(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int], file: FromPath[str]
) -> Any:
    """Version n of the minutes: `n` (JSON with its content), `n.pdf` (the stored bytes),
    `n.docx`."""
    return await _version_file(state, db, meeting_id, MINUTES, file)


@get(
    "/api/meetings/{meeting_id:int}/notice/versions/{file:str}",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=VERSION_FILE,
)
async def notice_version(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int], file: FromPath[str]
) -> Any:
    return await _version_file(state, db, meeting_id, NOTICE, file)


@route(
    [
        "/api/meetings/{meeting_id:int}/minutes/versions/{file:str}",
        "/api/meetings/{meeting_id:int}/notice/versions/{file:str}",
    ],
    http_method=["PUT", "PATCH", "DELETE"],
    guards=[meeting_permission],
    opt=PRESIDE,
)
async def change_version(
    request: Request, state: House, meeting_id: FromPath[int], file: FromPath[str]
) -> None:
    """There is no changing a frozen version: a correction is a new version."""
    kind = NOTICE if "/notice/" in request.url.path else MINUTES
    async with state.db_read() as db:
        await _version(db, meeting_id, kind, file)
    raise AppError(
        409,
        "version_frozen",
        "A frozen version never changes: save your corrections and freeze a new version.",
    )


@get("/meetings/{meeting_id:int}/minutes", guards=[meeting_permission], opt=PRESIDE)
async def record_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    """The secretary's page: the journal's facts locked, a box per item, versions."""
    view = await record_view(db, state, request, request.state.access.meeting)
    return Template("minutes.html", context={**view, "tz": state.settings.tz})


ROUTES = [
    get_record,
    save_record_text,
    minutes_draft_pdf,
    minutes_draft_docx,
    notice_draft_pdf,
    notice_draft_docx,
    freeze_minutes,
    freeze_notice,
    list_versions,
    minutes_version,
    notice_version,
    change_version,
    record_page,
]
