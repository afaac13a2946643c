"""Minutes (biên bản) from the journal and the meeting's records, as PDF; vote results as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.minutes import MinutesData, Person, Turn, VoteOutcome, minutes_pdf
from server.access import meeting_permission
from server.i18n import gettext_for
from server.meetings import rules as meeting_rules
from server.models import (
    AgendaItem,
    Attendance,
    Body,
    JournalEvent,
    Meeting,
    MeetingRole,
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


def rule_text(vote: Vote) -> str:
    """The rule in the words of a council's minutes."""
    share = THRESHOLD_WORDS.get(vote.threshold) or f"Từ {float(vote.threshold):.0%}"
    how = "bỏ phiếu kín" if vote.secret else "biểu quyết công khai"
    quorum = f"; cần ít nhất {vote.quorum} đại biểu tham gia" if vote.quorum else ""
    return f"{share} {BASE_WORDS[vote.majority_base]}; {how}{quorum}"


def _clock(value: datetime | None, tz: Any) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value else "—"


def _duration(seconds: int) -> str:
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes} phút {rest} giây" if minutes else f"{rest} giây"


async def minutes_data(db: AsyncSession, meeting_id: int, tz: Any) -> MinutesData:
    meeting = await db.get(Meeting, meeting_id)
    body = await db.get(Body, meeting.body_id)
    items = meeting_rules.flatten(
        meeting_rules.agenda_tree(await meeting_rules.agenda_items(db, meeting_id))
    )
    titles = {row["item"].id: f"{row['number']}. {row['item'].title}" for row in items}
    people = await _people(db, meeting_id)
    started = await _first_event(db, meeting_id, "meeting.started")
    ended = await _first_event(db, meeting_id, "meeting.ended")
    day = meeting.starts_at.astimezone(tz)
    return MinutesData(
        body=body.name,
        meeting=meeting.title,
        number=f"{meeting.id}/BB-HĐND",
        place=body.place or meeting.place,
        date=f"{day.day} tháng {day.month} năm {day.year}",
        opened=_clock(started.at if started else meeting.starts_at, tz),
        closed=_clock(ended.at if ended else None, tz),
        chair=", ".join(p["name"] for p in people if p["role"] == MeetingRole.chair) or "—",
        secretary=", ".join(p["name"] for p in people if p["role"] == MeetingRole.secretary) or "—",
        present=_with_status(people, "present"),
        remote=_with_status(people, "remote"),
        absent=[
            Person(p["name"], ROLE_NAMES.get(p["role"], ""), p["reason"])
            for p in people
            if p["role"] in VOTERS and p["status"] in ("absent", "excused")
        ],
        items=[(row["number"], row["item"].title) for row in items],
        turns=await _turns(db, meeting_id, titles, tz),
        votes=await _votes(db, meeting_id, titles),
        members=sum(1 for p in people if p["role"] in VOTERS),
    )


async def _people(db: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    rows = await db.exec(
        select(Participant.role, User.full_name, Attendance.status, Attendance.reason)
        .join(User, col(User.id) == Participant.user_id)
        .outerjoin(
            Attendance,
            (col(Attendance.user_id) == Participant.user_id)
            & (col(Attendance.meeting_id) == Participant.meeting_id),
        )
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.role, User.full_name)
    )
    return [
        {"role": role, "name": name, "status": status or "absent", "reason": reason or ""}
        for role, name, status, reason in rows.all()
    ]


def _with_status(people: list[dict[str, Any]], status: str) -> list[Person]:
    """Delegates (chair included) with `status`: the secretary and ward points check in too,
    but "Có mặt x/y đại biểu" counts members only, as the quorum does."""
    return [
        Person(p["name"], ROLE_NAMES.get(p["role"], ""))
        for p in people
        if p["role"] in VOTERS and p["status"] == status
    ]


async def _first_event(db: AsyncSession, meeting_id: int, kind: str) -> JournalEvent | None:
    return (
        await db.exec(
            select(JournalEvent)
            .where(JournalEvent.meeting_id == meeting_id, JournalEvent.type == kind)
            .order_by(JournalEvent.seq)
        )
    ).first()


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
    outcomes = []
    for vote in rows.all():
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
                rule=rule_text(vote),
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


@get("/api/meetings/{meeting_id:int}/minutes.pdf", guards=[meeting_permission], opt=PRESIDE)
async def minutes(db: AsyncSession, state: State, meeting_id: int) -> Response[bytes]:
    """The minutes, made now from the journal (so they always match it)."""
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


@get("/api/meetings/{meeting_id:int}/votes.csv", guards=[meeting_permission], opt=PRESIDE)
async def votes_csv(db: AsyncSession, meeting_id: int) -> Response[bytes]:
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
