"""Minutes (biên bản) from the journal and the meeting's records, as PDF; vote results as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.minutes import ItemRecord, MinutesData, Person, Turn, VoteOutcome, minutes_pdf
from server import openapi
from server.access import meeting_permission
from server.errors import AppError, not_found
from server.house import House
from server.i18n import gettext_for
from server.meetings import rules as meeting_rules
from server.models import (
    AgendaItem,
    Attendance,
    Body,
    BodyKind,
    Invitation,
    JournalEvent,
    Meeting,
    MeetingRole,
    MinutesDraft,
    MinutesNote,
    Participant,
    SpeakerRequest,
    User,
    Vote,
)
from server.votes import VOTERS

ROLE_NAMES = {
    MeetingRole.chair: "Chủ tọa",
    MeetingRole.secretary: "Thư ký",
    MeetingRole.delegate: "Đại biểu",
    MeetingRole.ward_point: "Điểm cầu",
    MeetingRole.observer: "Khách mời",
}
BASE_WORDS = {
    "cast": "số phiếu biểu quyết",
    "present": "tổng số đại biểu có mặt",
    "members": "tổng số đại biểu",
}
THRESHOLD_WORDS = {"half": "Quá 1/2", "two_thirds": "Từ 2/3", "three_quarters": "Từ 3/4"}
ISSUERS = {BodyKind.hdnd: "Hội đồng nhân dân", BodyKind.ubnd: "Ủy ban nhân dân"}
PREFIXES = {  # how a body's name may start, lower case, for each kind of issuer
    BodyKind.hdnd: ("hội đồng nhân dân", "hđnd"),
    BodyKind.ubnd: ("ủy ban nhân dân", "uỷ ban nhân dân", "ubnd"),
}
SYMBOLS = {BodyKind.hdnd: "BB-HĐND", BodyKind.ubnd: "BB-UBND"}
UNITS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "xã", "tỉnh", "quận", "huyện")
LEADERS = ("chủ tịch", "phó chủ tịch")
SESSION = ("meeting.started", "meeting.ended", "conference.changed")


def rule_text(vote: Vote, counter: str = "") -> str:
    """The rule in the words of a council's minutes; ``counter`` is who counted a show of
    hands or paper ballots."""
    share = THRESHOLD_WORDS.get(vote.threshold) or f"Từ {float(vote.threshold):.0%}"
    if vote.method == "hands":
        how = "biểu quyết giơ tay" + (f"; kiểm đếm: {counter}" if counter else "")
    elif vote.method == "paper":
        how = "bỏ phiếu kín bằng phiếu giấy" if vote.secret else "biểu quyết bằng phiếu giấy"
        how += "; kiểm phiếu thủ công" + (f": {counter}" if counter else "")
    else:
        how = "bỏ phiếu kín" if vote.secret else "biểu quyết công khai"
    quorum = f"; cần ít nhất {vote.quorum} đại biểu tham gia" if vote.quorum else ""
    return f"{share} {BASE_WORDS[vote.majority_base]}; {how}{quorum}"


def _clock(value: datetime | None, tz: Any) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value else "—"


def clock_words(value: datetime) -> str:
    """ "08 giờ 05 phút", as minutes write the time of day."""
    return f"{value.hour:02d} giờ {value.minute:02d} phút"


def day_words(value: datetime) -> str:
    """ "05 tháng 02 năm 2026", "20 tháng 12 năm 2026": Decree 30 writes days below 10 and
    the months January and February with a leading zero."""
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"{value.day:02d} tháng {month} năm {value.year}"


def _duration(seconds: int) -> str:
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes} phút {rest} giây" if minutes else f"{rest} giây"


async def minutes_data(db: AsyncSession, meeting_id: int, tz: Any) -> MinutesData:
    """Everything the minutes say, from the journal in the council's time zone ``tz`` and
    from what the secretary wrote; 409 when the session never opened."""
    meeting = await db.get(Meeting, meeting_id)
    if meeting is None:
        raise not_found("meeting")
    session = await _session(db, meeting_id)
    if session.opened is None:
        raise AppError(409, "not_started", "The meeting has not started: there are no minutes yet.")
    body = await db.get(Body, meeting.body_id)
    items = meeting_rules.flatten(
        meeting_rules.agenda_tree(await meeting_rules.agenda_items(db, meeting_id))
    )
    titles = {row["item"].id: f"{row['number']}. {row['item'].title}" for row in items}
    people = await _people(db, meeting_id)
    voters = [p for p in people if p["role"] in VOTERS]
    chairs = [p for p in people if p["role"] == MeetingRole.chair]
    secretary = await _secretary(db, meeting, people)
    written = await db.get(MinutesDraft, meeting_id)
    opened = session.opened.astimezone(tz)
    closed = session.closed.astimezone(tz) if session.closed else None
    return MinutesData(
        body=body.name,
        meeting=meeting.title,
        number=(written.number.strip() if written else "") or _number(meeting.id, body),
        place=meeting.place or body.place,
        date=day_words(opened),
        opened=clock_words(opened),
        closed=clock_words(closed) if closed else "",
        closed_on=day_words(closed) if closed and closed.date() != opened.date() else "",
        locality=date_place(body),
        issuer=issuer_lines(body),
        chair=", ".join(p["name"] for p in chairs) or "—",
        chair_title=chairs[0]["title"] if chairs else "",
        secretary=secretary.full_name if secretary else "",
        secretary_title=secretary.title if secretary else "",
        present=_with_status(voters, "present"),
        remote=_with_status(voters, "remote"),
        absent=[
            Person(p["name"], _office(p), p["reason"])
            for p in voters
            if p["status"] in ("absent", "excused")
        ],
        ward_points=[
            Person(p["name"], ROLE_NAMES[MeetingRole.ward_point])
            for p in people
            if p["role"] == MeetingRole.ward_point
            and (p["status"] in ("present", "remote") or p["user_id"] in session.on_video)
        ],
        items=[(row["number"], row["item"].title) for row in items],
        records=await _records(db, meeting_id, items),
        turns=await _turns(db, meeting_id, titles, tz),
        votes=await _votes(db, meeting_id, titles),
        members=body.members or len(voters),
        draft=closed is None,
        opening=written.opening if written else "",
        other=written.other if written else "",
        recipients=tuple(written.recipients.splitlines()) if written else (),
    )


@dataclass(frozen=True)
class _Session:
    opened: datetime | None
    """The first start."""
    closed: datetime | None
    """The last end, unless the session was opened again after it."""
    on_video: frozenset[int]
    """Who was on the video conference while the session was open."""


async def _session(db: AsyncSession, meeting_id: int) -> _Session:
    rows = await db.exec(
        select(JournalEvent)
        .where(JournalEvent.meeting_id == meeting_id, col(JournalEvent.type).in_(SESSION))
        .order_by(JournalEvent.seq)
    )
    opened = closed = None
    live = False
    on_call: set[int] = set()
    seen: set[int] = set()
    for event in rows.all():
        if event.type == "meeting.started":
            opened, closed, live = opened or event.at, None, True
            seen |= on_call
        elif event.type == "meeting.ended":
            closed, live = event.at, False
        else:  # each change carries everyone on the call after it
            on_call = {p["user_id"] for p in event.payload.get("points", [])}
            if live:
                seen |= on_call
    return _Session(opened, closed, frozenset(seen))


def _number(meeting_id: int, body: Body) -> str:
    return f"{meeting_id}/{SYMBOLS.get(body.kind, 'BB')}"


def issuer_unit(body: Body) -> tuple[str, str]:
    """The issuer's kind and the administrative unit it serves: "Hội đồng nhân dân phường
    Ba Đình" is ("hdnd", "phường Ba Đình"); a body of no such kind is ("other", its name)."""
    name = " ".join(body.name.split())
    for kind, prefixes in PREFIXES.items():
        for prefix in prefixes:
            if name.lower().startswith(prefix + " ") and body.kind in (kind, BodyKind.other):
                return kind, name[len(prefix) :].strip()
    if body.kind in ISSUERS:
        return body.kind, name
    return BodyKind.other, name


def issuer_lines(body: Body) -> tuple[str, ...]:
    """The issuer block: "HỘI ĐỒNG NHÂN DÂN" over "PHƯỜNG BA ĐÌNH"."""
    kind, unit = issuer_unit(body)
    lines = (ISSUERS[kind], unit) if kind in ISSUERS else (unit,)
    return tuple(line.upper() for line in lines if line)


def date_place(body: Body) -> str:
    """The place in the date line: the body's place, else its unit's proper name ("Ba Đình"
    of "phường Ba Đình"; a unit named by a number keeps its word: "Phường 1")."""
    if body.place.strip():
        return body.place.strip()
    kind, unit = issuer_unit(body)
    if kind not in ISSUERS:
        return ""
    for word in UNITS:
        rest = unit[len(word) :].strip()
        if unit.lower().startswith(word + " ") and not rest.isdigit():
            return rest
    return unit


async def _people(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    rows = await db.exec(
        select(
            Participant.role,
            User.id,
            User.full_name,
            User.title,
            Attendance.status,
            Attendance.reason,
            Invitation.reply,
            Invitation.reason,
        )
        .join(User, col(User.id) == Participant.user_id)
        .outerjoin(
            Attendance,
            (col(Attendance.user_id) == Participant.user_id)
            & (col(Attendance.meeting_id) == Participant.meeting_id),
        )
        .outerjoin(
            Invitation,
            (col(Invitation.user_id) == Participant.user_id)
            & (col(Invitation.meeting_id) == Participant.meeting_id),
        )
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.role, User.full_name)
    )
    return [
        {
            "role": role,
            "user_id": user_id,
            "name": name,
            "title": title,
            "status": status or "absent",
            # an absence without a reason in the hall takes the one given in reply to the invitation
            "reason": reason or (replied_reason if reply == "absent" else "") or "",
        }
        for role, user_id, name, title, status, reason, reply, replied_reason in rows.all()
    ]


def _office(person: dict[str, Any]) -> str:
    """What the attendance tables say a person is: their office, else their role here."""
    return person["title"] or ROLE_NAMES.get(person["role"], "")


def _with_status(voters: list[dict[str, Any]], status: str) -> list[Person]:
    """Delegates (chair included) with `status`: the secretary and ward points check in too,
    but "Có mặt x/y đại biểu" counts members only, as the quorum does."""
    return [Person(p["name"], _office(p)) for p in voters if p["status"] == status]


async def _secretary(db: AsyncSession, meeting: Meeting, people: list[dict[str, Any]]) -> Any:
    """The meeting's secretary: the one it names, else who made it, else a participant
    with the secretary's role."""
    named = [meeting.secretary_id, meeting.created_by]
    named += [p["user_id"] for p in people if p["role"] == MeetingRole.secretary]
    for user_id in named:
        if user_id is not None and (user := await db.get(User, user_id)) is not None:
            return user
    return None


async def _records(db: AsyncSession, meeting_id: int, items: list[dict]) -> list[ItemRecord]:
    """What the secretary wrote on each agenda item, in agenda order."""
    notes = {
        note.item_id: note
        for note in (
            await db.exec(select(MinutesNote).where(MinutesNote.meeting_id == meeting_id))
        ).all()
    }
    records = []
    for row in items:
        note = notes.get(row["item"].id)
        records.append(
            ItemRecord(
                row["number"],
                row["item"].title,
                note.summary if note else "",
                note.conclusion if note else "",
            )
        )
    return records


async def _turns(db: AsyncSession, meeting_id: int, titles: dict, tz: Any) -> list[Turn]:
    rows = await db.exec(
        select(SpeakerRequest, User.full_name)
        .join(User, col(User.id) == SpeakerRequest.user_id)
        .where(SpeakerRequest.meeting_id == meeting_id, col(SpeakerRequest.started_at).is_not(None))
        .order_by(SpeakerRequest.started_at)
    )
    turns = []
    for request, name in rows.all():
        seconds = int(
            ((request.ended_at or request.started_at) - request.started_at).total_seconds()
        )
        turns.append(
            Turn(
                name,
                titles.get(request.item_id, ""),
                _clock(request.started_at, tz),
                _duration(seconds),
            )
        )
    return turns


def _labels(result: dict[str, Any]) -> dict[str, str]:
    """Option labels in Vietnamese, as the minutes and the CSV are written (yes/no/abstain are
    stored as catalog msgids)."""
    vietnamese = gettext_for("vi")
    return {key: vietnamese(label) for key, label in result.get("labels", {}).items()}


async def _votes(db: AsyncSession, meeting_id: int, titles: dict) -> list[VoteOutcome]:
    rows = await db.exec(
        select(Vote)
        .where(Vote.meeting_id == meeting_id, Vote.status == "closed")
        .order_by(Vote.closed_at)
    )
    votes = rows.all()
    counters = {
        user.id: user.full_name
        for user in (
            await db.exec(select(User).where(col(User.id).in_({v.counted_by for v in votes})))
        ).all()
    }
    outcomes = []
    for vote in votes:
        result = vote.result or {}
        labels = _labels(result)
        tally = [(labels.get(key, key), weight) for key, weight in result.get("tally", {}).items()]
        named = [
            (row["name"], ", ".join(labels.get(c, c) for c in row["choices"]))
            for row in result.get("named", [])
        ]
        outcomes.append(
            VoteOutcome(
                title=vote.title,
                item=titles.get(vote.item_id, ""),
                rule=rule_text(vote, counters.get(vote.counted_by, "")),
                tally=tally,
                voters=result.get("voters", 0),
                base=result.get("base", 0),
                needed=result.get("needed", 0),
                passed=bool(result.get("passed")),
                secret=vote.secret,
                named=named,
            )
        )
    return outcomes


PRESIDE = {"permission": "preside"}


@get(
    "/api/meetings/{meeting_id:int}/minutes.pdf",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.PDF,
)
async def minutes(
    db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response[bytes]:
    """The minutes, made now from the journal (so they always match it): a draft marked
    DỰ THẢO while the session is open, 409 when it never opened."""
    data = await minutes_data(db, meeting_id, state.settings.tz)
    pdf = await state.renderer.run(minutes_pdf, data)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="bien-ban-ky-hop-{meeting_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/api/meetings/{meeting_id:int}/votes.csv",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.CSV,
)
async def votes_csv(
    db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Response[bytes]:
    """Every closed vote, one row per option (and per named voter), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["vote_id", "title", "item", "rule", "option", "weight", "passed", "voter"])
    titles = {
        item.id: item.title
        for item in (
            await db.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id))
        ).all()
    }
    rows = await db.exec(
        select(Vote).where(Vote.meeting_id == meeting_id, Vote.status == "closed").order_by(Vote.id)
    )
    for vote in rows.all():
        result = vote.result or {}
        labels = _labels(result)
        base = [vote.id, vote.title, titles.get(vote.item_id, ""), rule_text(vote)]
        for key, weight in result.get("tally", {}).items():
            writer.writerow([*base, labels.get(key, key), weight, result.get("passed"), ""])
        for row in result.get("named", []):
            for choice in row["choices"]:
                writer.writerow([*base, labels.get(choice, choice), "", "", row["name"]])
    return Response(
        ("\ufeff" + out.getvalue()).encode(),  # the BOM lets spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bieu-quyet-{meeting_id}.csv"'},
    )


ROUTES = [minutes, votes_csv]
