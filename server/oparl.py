"""The open council data as OParl 1.1 (https://oparl.org), read-only, under /oparl/v1.1: the
system, its councils (Body), the council and its groups (Organization), the people on its roster
(Person, Membership), its public meetings with their agenda (Meeting, AgendaItem) and public
papers (Paper, Consultation, File). What is public is decided in server/public.py; here it is
only written out.

Every answer is serialized once, cached briefly (ETag, Cache-Control) and readable from any
site (CORS `*`). Lists are paged (at most MAX_PER_PAGE objects) and take the filters the spec
asks for: created_since, created_until, modified_since, modified_until.

Vote results: OParl has no vote object; each agenda item's `result` says in words how its
closed votes went (counts and rule, never who chose what), and `resolutionFile` is the adopted
resolution's final text when it is public.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import public
from server.errors import AppError, not_found
from server.house import House
from server.i18n import gettext_for
from server.meetings import rules as meeting_rules
from server.models import (
    AdminChange,
    AgendaItem,
    Body,
    BodyKind,
    Document,
    JournalEvent,
    Meeting,
    MeetingStatus,
    Member,
    User,
    utcnow,
)

PREFIX = "/oparl/v1.1"
SCHEMA = "https://schema.oparl.org/1.1/"
PER_PAGE = 20
MAX_PER_PAGE = 100
CACHE = "public, max-age=60"
FILTERS = ("created_since", "created_until", "modified_since", "modified_until")
STATES: dict[str, str] = {
    MeetingStatus.published: "Đã phát hành tài liệu",
    MeetingStatus.live: "Đang họp",
    MeetingStatus.closed: "Đã họp",
}
KINDS: dict[str, str] = {
    BodyKind.hdnd: "Hội đồng nhân dân",
    BodyKind.ubnd: "Ủy ban nhân dân",
    BodyKind.other: "Cơ quan",
}
PAPER_TYPES = {"paper": "Tài liệu kỳ họp", "resolution": "Nghị quyết"}


def oparl_type(name: str) -> str:
    return SCHEMA + name


def when(value: datetime, tz: tzinfo) -> str:
    """yyyy-mm-ddThh:mm:ss±hh:mm on the council's clock, as OParl writes a date-time."""
    return value.astimezone(tz).replace(microsecond=0).isoformat()


def day(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).date().isoformat()


def group_key(name: str) -> str:
    """A group's name may hold any letter: its URL uses a digest of it, canonical and stable."""
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def _shown(obj: dict[str, Any]) -> dict[str, Any]:
    """OParl leaves out what has no value (no null, no "" and no [] unless required)."""
    return {k: v for k, v in obj.items() if v not in (None, "", [])}


class Writer:
    """Builds OParl objects for one request: absolute URLs on the address it came to, times on
    the council's clock."""

    def __init__(self, request: Request, db: AsyncSession, tz: tzinfo) -> None:
        self.base = str(request.base_url).rstrip("/")
        self.db = db
        self.tz = tz

    def url(self, path: str) -> str:
        return f"{self.base}{PREFIX}{path}"

    def web(self, path: str) -> str:
        return f"{self.base}{path}"

    def stamped(self, obj: dict[str, Any], created: datetime, modified: datetime) -> dict[str, Any]:
        return {
            **_shown(obj),
            "created": when(created, self.tz),
            "modified": when(max(created, modified), self.tz),
        }

    # --- system, body, term ---------------------------------------------------------------

    async def system(self) -> dict[str, Any]:
        """Made when the install's first account was; changed with its public councils."""
        first = (await self.db.exec(select(sa.func.min(User.created_at)))).one()
        created = _aware(first) if first else utcnow()
        times = [await self.body_times(b) for b in await public.public_bodies(self.db)]
        modified = max((t[1] for t in times), default=created)
        obj = {
            "id": self.url("/system"),
            "type": oparl_type("System"),
            "oparlVersion": "https://schema.oparl.org/1.1/",
            "body": self.url("/bodies"),
            "name": "phonghop — dữ liệu mở của Hội đồng nhân dân",
            "website": self.web("/public"),
            "web": self.web("/public"),
        }
        return self.stamped(obj, created, modified)

    async def body_times(self, body: Body) -> tuple[datetime, datetime]:
        """From the audit list (the council and its roster) and its public meetings."""
        audit = (
            await self.db.exec(
                select(sa.func.min(AdminChange.at), sa.func.max(AdminChange.at)).where(
                    col(AdminChange.target).startswith(f"body:{body.id} ")
                )
            )
        ).one()
        meetings = (
            await self.db.exec(
                select(sa.func.min(Meeting.created_at), sa.func.max(Meeting.updated_at)).where(
                    Meeting.body_id == body.id, public.public_meeting_clause()
                )
            )
        ).one()
        firsts = [_aware(t) for t in (audit[0], meetings[0]) if t is not None]
        lasts = [_aware(t) for t in (audit[1], meetings[1]) if t is not None]
        created = min(firsts, default=utcnow())  # a public council has a meeting
        return created, max(lasts, default=created)

    async def body(self, body: Body) -> dict[str, Any]:
        path = f"/body/{body.id}"
        created, modified = await self.body_times(body)
        obj = {
            "id": self.url(path),
            "type": oparl_type("Body"),
            "system": self.url("/system"),
            "name": body.name,
            "classification": KINDS.get(body.kind, KINDS[BodyKind.other]),
            "organization": self.url(f"{path}/organizations"),
            "person": self.url(f"{path}/people"),
            "meeting": self.url(f"{path}/meetings"),
            "paper": self.url(f"{path}/papers"),
            "web": self.web("/public"),
        }
        stamped = self.stamped(obj, created, modified)
        stamped["legislativeTerm"] = [await self.term(body)] if body.term else []
        return stamped

    async def term(self, body: Body) -> dict[str, Any]:
        created, modified = await self.body_times(body)
        obj = {
            "id": self.url(f"/body/{body.id}/term"),
            "type": oparl_type("LegislativeTerm"),
            "body": self.url(f"/body/{body.id}"),
            "name": body.term,
        }
        return self.stamped(obj, created, modified)

    # --- organizations, people -----------------------------------------------------------

    async def organizations(self, body: Body) -> list[dict[str, Any]]:
        members = await public.public_members(self.db, body.id or 0)
        created, modified = await self.body_times(body)
        council = {
            "id": self.url(f"/organization/{body.id}"),
            "type": oparl_type("Organization"),
            "body": self.url(f"/body/{body.id}"),
            "name": body.name,
            "organizationType": KINDS.get(body.kind, KINDS[BodyKind.other]),
            "classification": KINDS.get(body.kind, KINDS[BodyKind.other]),
            "membership": [self.url(f"/membership/{m.id}") for m, _ in members],
            "meeting": self.url(f"/body/{body.id}/meetings"),
        }
        found = [self.stamped(council, created, modified)]
        for name in sorted({m.group for m, _ in members if m.group}):
            group = {
                "id": self.url(f"/organization/{body.id}/group/{group_key(name)}"),
                "type": oparl_type("Organization"),
                "body": self.url(f"/body/{body.id}"),
                "name": name,
                "organizationType": "Tổ đại biểu",
                "subOrganizationOf": self.url(f"/organization/{body.id}"),
                "membership": [
                    self.url(f"/membership/{m.id}/group") for m, _ in members if m.group == name
                ],
            }
            found.append(self.stamped(group, created, modified))
        return found

    async def person_times(self, body_id: int) -> dict[int, datetime]:
        """Each roster person's last change in the audit list: their account or their seat."""
        rows = await self.db.exec(
            select(AdminChange.target, sa.func.max(AdminChange.at))
            .where(
                col(AdminChange.target).startswith("user:")
                | col(AdminChange.target).startswith(f"body:{body_id} user:")
            )
            .group_by(col(AdminChange.target))
        )
        last: dict[int, datetime] = {}
        for target, at in rows.all():
            words = target.removeprefix(f"body:{body_id} ").split(" ", 1)[0]
            user_id = words.removeprefix("user:")
            if user_id.isdigit():
                key = int(user_id)
                last[key] = max(last.get(key, _aware(at)), _aware(at))
        return last

    def person(self, member: Member, user: User, changed: datetime | None) -> dict[str, Any]:
        """A name and a title, as the council publishes its delegates; nothing else of the
        account (no user name, no e-mail, no seat)."""
        title = member.title or user.title
        memberships = [self.membership(member, user, changed, group=False)]
        if member.group:
            memberships.append(self.membership(member, user, changed, group=True))
        obj = {
            "id": self.url(f"/person/{member.id}"),
            "type": oparl_type("Person"),
            "body": self.url(f"/body/{member.body_id}"),
            "name": user.full_name or "—",
            "status": [title] if title else [],
            "membership": memberships,
        }
        return self.stamped(obj, user.created_at, changed or user.created_at)

    def membership(
        self, member: Member, user: User, changed: datetime | None, group: bool
    ) -> dict[str, Any]:
        organization = (
            f"/organization/{member.body_id}/group/{group_key(member.group)}"
            if group
            else f"/organization/{member.body_id}"
        )
        obj = {
            "id": self.url(f"/membership/{member.id}" + ("/group" if group else "")),
            "type": oparl_type("Membership"),
            "person": self.url(f"/person/{member.id}"),
            "organization": self.url(organization),
            "role": "" if group else (member.title or user.title),
            "votingRight": None if group else True,
        }
        return self.stamped(obj, user.created_at, changed or user.created_at)

    # --- meetings and their agenda ---------------------------------------------------------

    async def meeting_modified(self, meeting: Meeting) -> datetime:
        """Its own last change, or the journal's last event (publishing, votes, the session)."""
        last = (
            await self.db.exec(
                select(sa.func.max(JournalEvent.at)).where(JournalEvent.meeting_id == meeting.id)
            )
        ).one()
        return max(meeting.updated_at, _aware(last)) if last else meeting.updated_at

    async def meeting(self, meeting: Meeting) -> dict[str, Any]:
        modified = await self.meeting_modified(meeting)
        rows = meeting_rules.flatten(
            meeting_rules.agenda_tree(await meeting_rules.agenda_items(self.db, meeting.id or 0))
        )
        papers = await public.public_papers(self.db, [meeting])
        outcomes = await public.outcomes_by_item(self.db, meeting.id or 0)
        items = [
            self.agenda_item(
                meeting, row, order, papers, outcomes.get(row["item"].id, []), modified
            )
            for order, row in enumerate(rows, start=1)
        ]
        loose = [d for d in papers if d.item_id is None]
        obj = {
            "id": self.url(f"/meeting/{meeting.id}"),
            "type": oparl_type("Meeting"),
            "name": meeting.title,
            "meetingState": STATES.get(meeting.status, meeting.status),
            "cancelled": False,
            "start": when(meeting.starts_at, self.tz),
            "location": self.location(meeting, modified) if meeting.place else None,
            "organization": [self.url(f"/organization/{meeting.body_id}")],
            "agendaItem": items,
            "auxiliaryFile": [self.file(d, meeting, None, modified) for d in loose],
            "web": self.web(f"/public/meetings/{meeting.id}"),
        }
        return self.stamped(obj, meeting.created_at, modified)

    def location(self, meeting: Meeting, modified: datetime) -> dict[str, Any]:
        obj = {
            "id": self.url(f"/location/{meeting.id}"),
            "type": oparl_type("Location"),
            "description": meeting.place,
            "meetings": [self.url(f"/meeting/{meeting.id}")],
        }
        return self.stamped(obj, meeting.created_at, modified)

    def agenda_item(
        self,
        meeting: Meeting,
        row: dict[str, Any],
        order: int,
        papers: Sequence[Document],
        outcomes: list[public.Outcome],
        modified: datetime,
    ) -> dict[str, Any]:
        item: AgendaItem = row["item"]
        mine = [d for d in papers if d.item_id == item.id]
        resolutions = [d for d in mine if d.kind == "resolution"]
        obj = {
            "id": self.url(f"/agendaitem/{item.id}"),
            "type": oparl_type("AgendaItem"),
            "meeting": self.url(f"/meeting/{meeting.id}"),
            "number": row["number"],
            "order": order,
            "name": item.title,
            "public": True,
            "result": " ".join(public.outcome_words(o) for o in outcomes),
            "resolutionFile": (
                self.file(resolutions[-1], meeting, item, modified) if resolutions else None
            ),
            "auxiliaryFile": [
                self.file(d, meeting, item, modified) for d in mine if d.kind == "paper"
            ],
            "web": self.web(f"/public/meetings/{meeting.id}#item-{item.id}"),
        }
        return self.stamped(obj, meeting.created_at, modified)

    # --- papers and files ------------------------------------------------------------------

    async def paper_modified(self, document: Document, meeting: Meeting) -> datetime:
        """A paper appears when its book is published or its meeting opened: not before."""
        books = await public.latest_books(self.db, [meeting.id or 0])
        book = books.get(meeting.id or 0)
        stamps = [document.created_at, meeting.updated_at]
        if book is not None:
            stamps.append(book.created_at)
        return max(_aware(t) for t in stamps)

    def paper(
        self, document: Document, meeting: Meeting, item: AgendaItem | None, modified: datetime
    ) -> dict[str, Any]:
        obj = {
            "id": self.url(f"/paper/{document.id}"),
            "type": oparl_type("Paper"),
            "body": self.url(f"/body/{meeting.body_id}"),
            "name": document.title,
            "date": day(document.created_at, self.tz),
            "paperType": PAPER_TYPES.get(document.kind, document.kind),
            "mainFile": self.file(document, meeting, item, modified),
            "consultation": [self.consultation(document, meeting, item, modified)],
            "web": self.web(f"/public/meetings/{meeting.id}#paper-{document.id}"),
        }
        return self.stamped(obj, document.created_at, modified)

    def consultation(
        self, document: Document, meeting: Meeting, item: AgendaItem | None, modified: datetime
    ) -> dict[str, Any]:
        obj = {
            "id": self.url(f"/consultation/{document.id}"),
            "type": oparl_type("Consultation"),
            "paper": self.url(f"/paper/{document.id}"),
            "agendaItem": self.url(f"/agendaitem/{item.id}") if item else None,
            "meeting": self.url(f"/meeting/{meeting.id}"),
            "organization": [self.url(f"/organization/{meeting.body_id}")],
            "authoritative": document.kind == "resolution",
        }
        return self.stamped(obj, document.created_at, modified)

    def file(
        self, document: Document, meeting: Meeting, item: AgendaItem | None, modified: datetime
    ) -> dict[str, Any]:
        download = self.web(public.file_path(document))
        obj = {
            "id": self.url(f"/file/{document.id}"),
            "type": oparl_type("File"),
            "name": document.title,
            "fileName": public.file_name(document),
            "mimeType": "application/pdf",
            "date": day(document.created_at, self.tz),
            "size": document.size_bytes,
            "accessUrl": download,
            "downloadUrl": download + "?download",
            "meeting": [self.url(f"/meeting/{meeting.id}")],
            "agendaItem": [self.url(f"/agendaitem/{item.id}")] if item else [],
            "paper": [self.url(f"/paper/{document.id}")],
        }
        return self.stamped(obj, document.created_at, modified)

    async def paper_parts(
        self, document: Document, meeting: Meeting
    ) -> tuple[AgendaItem | None, datetime]:
        item = await self.db.get(AgendaItem, document.item_id) if document.item_id else None
        return item, await self.paper_modified(document, meeting)


def _aware(value: datetime) -> datetime:
    """SQLite gives an aggregate's datetime back without its zone: it was stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- answers ----------------------------------------------------------------------------------


def answer(request: Request, obj: Any, status: int = 200) -> Response[bytes]:
    """The object as JSON, serialized once; 304 when the client holds these very bytes."""
    data = msgspec.json.encode(obj)
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": CACHE, "Access-Control-Allow-Origin": "*"}
    if status == 200 and request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    if status != 200:
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
    return Response(data, status_code=status, media_type="application/json", headers=headers)


def oparl_error(request: Request, exc: Exception) -> Response[bytes]:
    """Errors as OParl writes them: {type: Error, message, debug}."""
    if isinstance(exc, AppError):
        status = exc.status
        message = gettext_for("vi")(exc.message).format(
            **{k: gettext_for("vi")(v) if isinstance(v, str) else v for k, v in exc.params.items()}
        )
    else:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "Không tìm thấy." if status == 404 else "Yêu cầu không hợp lệ."
    body = {"type": oparl_type("Error"), "message": message, "debug": request.url.path}
    return answer(request, body, status)


@dataclass(frozen=True)
class Entry:
    """One object of a list, before it is written: enough to filter and order it."""

    key: int
    created: datetime
    modified: datetime
    build: Callable[[], Awaitable[dict[str, Any]] | dict[str, Any]]


def _filter_time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AppError(400, "bad_filter", "{name} is not a date and time.", name=name) from exc
    if found.tzinfo is None:
        raise AppError(400, "bad_filter", "{name} is not a date and time.", name=name)
    return found


async def listing(request: Request, path: str, entries: list[Entry]) -> Response[bytes]:
    """One page of an external list: `data`, `pagination`, `links` (OParl 1.1, 2.5)."""
    query = request.query_params
    limits = {name: _filter_time(name, query.get(name)) for name in FILTERS}
    kept = [e for e in entries if _within(e, limits)]
    kept.sort(key=lambda e: e.key)
    per_page = _number(query, "elementsPerPage", PER_PAGE, MAX_PER_PAGE)
    pages = max(1, -(-len(kept) // per_page))
    page = _number(query, "page", 1, 1 << 20)
    if page > pages:
        raise not_found("page")
    data = []
    for entry in kept[(page - 1) * per_page : page * per_page]:
        built = entry.build()
        data.append(await built if isinstance(built, Awaitable) else built)
    base = str(request.base_url).rstrip("/") + PREFIX + path
    kept_filters = {name: query[name] for name in FILTERS if name in query}
    if "elementsPerPage" in query:
        kept_filters["elementsPerPage"] = str(per_page)

    def link(number: int) -> str:
        params = {**kept_filters, **({"page": str(number)} if number > 1 else {})}
        return f"{base}?{urlencode(params)}" if params else base

    links = {"first": link(1), "self": link(page), "last": link(pages)}
    if page > 1:
        links["prev"] = link(page - 1)
    if page < pages:
        links["next"] = link(page + 1)
    pagination = {
        "totalElements": len(kept),
        "elementsPerPage": per_page,
        "currentPage": page,
        "totalPages": pages,
    }
    return answer(request, {"data": data, "pagination": pagination, "links": links})


def _number(query: Any, name: str, default: int, most: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise AppError(400, "bad_number", "{name} is not a number.", name=name)
    return min(int(raw), most)


def _within(entry: Entry, limits: dict[str, datetime | None]) -> bool:
    checks = (
        (limits["created_since"], entry.created, 1),
        (limits["created_until"], entry.created, -1),
        (limits["modified_since"], entry.modified, 1),
        (limits["modified_until"], entry.modified, -1),
    )
    for limit, value, side in checks:
        if limit is not None and (value < limit if side == 1 else value > limit):
            return False
    return True


# --- routes -----------------------------------------------------------------------------------


def _writer(request: Request, db: AsyncSession, state: House) -> Writer:
    return Writer(request, db, state.settings.tz)


@get("/system")
async def system(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Response[bytes]:
    return answer(request, await _writer(request, db, state).system())


@get("/bodies")
async def bodies(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Response[bytes]:
    out = _writer(request, db, state)
    entries = []
    for body in await public.public_bodies(db):
        created, modified = await out.body_times(body)
        entries.append(Entry(body.id or 0, created, modified, _bind(out.body, body)))
    return await listing(request, "/bodies", entries)


def _bind(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


@get("/body/{body_id:int}")
async def body(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Response[bytes]:
    found = await public.public_body(db, body_id)
    return answer(request, await _writer(request, db, state).body(found))


@get("/body/{body_id:int}/term")
async def term(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Response[bytes]:
    found = await public.public_body(db, body_id)
    if not found.term:
        raise not_found("term")
    return answer(request, await _writer(request, db, state).term(found))


@get("/body/{body_id:int}/organizations")
async def organizations(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Response[bytes]:
    found = await public.public_body(db, body_id)
    out = _writer(request, db, state)
    objects = await out.organizations(found)
    entries = [
        Entry(n, _parse(o["created"]), _parse(o["modified"]), _bind(lambda o: o, o))
        for n, o in enumerate(objects)
    ]
    return await listing(request, f"/body/{body_id}/organizations", entries)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _organization(request: Request, db: AsyncSession, state: House, wanted: str) -> Any:
    body_id = int(request.path_params["body_id"])
    found = await public.public_body(db, body_id)
    for obj in await _writer(request, db, state).organizations(found):
        if obj["id"].endswith(PREFIX + wanted):
            return answer(request, obj)
    raise not_found("organization")


@get("/organization/{body_id:int}")
async def council(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Any:
    return await _organization(request, db, state, f"/organization/{body_id}")


@get("/organization/{body_id:int}/group/{key:str}")
async def group(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    body_id: FromPath[int],
    key: FromPath[str],
) -> Any:
    return await _organization(request, db, state, f"/organization/{body_id}/group/{key}")


async def _person_of(db: AsyncSession, member_id: int) -> tuple[Member, User]:
    member = await db.get(Member, member_id)
    if member is None:
        raise not_found("person")
    await public.public_body(db, member.body_id)
    for seat, user in await public.public_members(db, member.body_id):
        if seat.id == member_id:
            return seat, user
    raise not_found("person")


@get("/body/{body_id:int}/people")
async def people(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Any:
    await public.public_body(db, body_id)
    out = _writer(request, db, state)
    changed = await out.person_times(body_id)
    entries = []
    for member, user in await public.public_members(db, body_id):
        last = changed.get(user.id or 0)
        modified = max(user.created_at, last) if last else user.created_at
        entries.append(
            Entry(member.id or 0, user.created_at, modified, _bind(out.person, member, user, last))
        )
    return await listing(request, f"/body/{body_id}/people", entries)


@get("/person/{member_id:int}")
async def person(
    request: Request, db: NamedDependency[AsyncSession], state: House, member_id: FromPath[int]
) -> Any:
    member, user = await _person_of(db, member_id)
    out = _writer(request, db, state)
    last = (await out.person_times(member.body_id)).get(user.id or 0)
    return answer(request, out.person(member, user, last))


@get("/membership/{member_id:int}")
async def membership(
    request: Request, db: NamedDependency[AsyncSession], state: House, member_id: FromPath[int]
) -> Any:
    member, user = await _person_of(db, member_id)
    out = _writer(request, db, state)
    last = (await out.person_times(member.body_id)).get(user.id or 0)
    return answer(request, out.membership(member, user, last, group=False))


@get("/membership/{member_id:int}/group")
async def group_membership(
    request: Request, db: NamedDependency[AsyncSession], state: House, member_id: FromPath[int]
) -> Any:
    member, user = await _person_of(db, member_id)
    if not member.group:
        raise not_found("membership")
    out = _writer(request, db, state)
    last = (await out.person_times(member.body_id)).get(user.id or 0)
    return answer(request, out.membership(member, user, last, group=True))


@get("/body/{body_id:int}/meetings")
async def meetings(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Any:
    await public.public_body(db, body_id)
    out = _writer(request, db, state)
    entries = []
    for meeting in await public.public_meetings(db, body_id):
        modified = await out.meeting_modified(meeting)
        entries.append(
            Entry(meeting.id or 0, meeting.created_at, modified, _bind(out.meeting, meeting))
        )
    return await listing(request, f"/body/{body_id}/meetings", entries)


@get("/meeting/{meeting_id:int}")
async def meeting(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Any:
    found = await public.public_meeting(db, meeting_id)
    return answer(request, await _writer(request, db, state).meeting(found))


@get("/location/{meeting_id:int}")
async def location(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Any:
    found = await public.public_meeting(db, meeting_id)
    if not found.place:
        raise not_found("location")
    out = _writer(request, db, state)
    return answer(request, out.location(found, await out.meeting_modified(found)))


@get("/agendaitem/{item_id:int}")
async def agenda_item(
    request: Request, db: NamedDependency[AsyncSession], state: House, item_id: FromPath[int]
) -> Any:
    item = await db.get(AgendaItem, item_id)
    if item is None:
        raise not_found("agenda item")
    found = await public.public_meeting(db, item.meeting_id)
    obj = await _writer(request, db, state).meeting(found)
    for embedded in obj["agendaItem"]:
        if embedded["id"].endswith(f"{PREFIX}/agendaitem/{item_id}"):
            return answer(request, embedded)
    raise not_found("agenda item")


@get("/body/{body_id:int}/papers")
async def papers(
    request: Request, db: NamedDependency[AsyncSession], state: House, body_id: FromPath[int]
) -> Any:
    await public.public_body(db, body_id)
    out = _writer(request, db, state)
    shown = await public.public_meetings(db, body_id)
    by_id = {m.id: m for m in shown}
    books = await public.latest_books(db, [m.id for m in shown if m.id])
    entries = []
    for document in await public.public_papers(db, shown):
        meeting = by_id[document.meeting_id]
        stamps = [document.created_at, meeting.updated_at]
        if document.meeting_id in books:
            stamps.append(books[document.meeting_id].created_at)
        modified = max(_aware(t) for t in stamps)
        entries.append(
            Entry(document.id or 0, document.created_at, modified, _paper_builder(out, document))
        )
    return await listing(request, f"/body/{body_id}/papers", entries)


def _paper_builder(out: Writer, document: Document) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def build() -> dict[str, Any]:
        meeting = await out.db.get_one(Meeting, document.meeting_id)
        item, modified = await out.paper_parts(document, meeting)
        return out.paper(document, meeting, item, modified)

    return build


async def _paper_answer(
    request: Request,
    db: AsyncSession,
    state: House,
    document_id: int,
    part: str,
) -> Response[bytes]:
    document, found = await public.public_paper(db, document_id)
    out = _writer(request, db, state)
    item, modified = await out.paper_parts(document, found)
    make = {"paper": out.paper, "file": out.file, "consultation": out.consultation}[part]
    return answer(request, make(document, found, item, modified))


@get("/paper/{document_id:int}")
async def paper(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Any:
    return await _paper_answer(request, db, state, document_id, "paper")


@get("/file/{document_id:int}")
async def file(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Any:
    return await _paper_answer(request, db, state, document_id, "file")


@get("/consultation/{document_id:int}")
async def consultation(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Any:
    return await _paper_answer(request, db, state, document_id, "consultation")


router = Router(
    path=PREFIX,
    route_handlers=[
        system,
        bodies,
        body,
        term,
        organizations,
        council,
        group,
        people,
        person,
        membership,
        group_membership,
        meetings,
        meeting,
        location,
        agenda_item,
        papers,
        paper,
        file,
        consultation,
    ],
    exception_handlers={AppError: oparl_error, HTTPException: oparl_error},
    include_in_schema=False,
    tags=["open data"],
)
