"""`phonghop journal verify`: each meeting's hash chain, its closed secret votes' counts (as
many ballots in the box as voters who cast), and a frozen document's journal head against
the chain at its seq."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import chain, db, journal
from server.models import Meeting, RecordVersion
from server.votes.store import secret_counts

KINDS = {"minutes": "biên bản", "notice": "thông báo kết luận"}


async def verify_all(
    url: str, meeting_id: int | None, record: str | None
) -> tuple[list[str], bool]:
    """What to print, and whether everything holds."""
    engine = db.make_engine(url)
    sessions = db.session_maker(engine.execution_options(phonghop_read_only=True))
    try:
        async with sessions() as session:
            return await _verify(session, meeting_id, record)
    finally:
        await engine.dispose()


async def _verify(
    session: AsyncSession, meeting_id: int | None, record: str | None
) -> tuple[list[str], bool]:
    query = select(Meeting.id, Meeting.title).order_by(col(Meeting.id))
    if meeting_id is not None:
        query = query.where(Meeting.id == meeting_id)
    meetings = (await session.exec(query)).all()
    if meeting_id is not None and not meetings:
        return [f"không có phiên họp {meeting_id}"], False
    if record is not None and meeting_id is None:
        return ["--record cần số của phiên họp, ví dụ: journal verify 12 --record minutes:1"], False
    lines: list[str] = []
    holds = True
    for found, title in meetings:
        mid = int(found or 0)
        verdict = await journal.verify_meeting(session, mid)
        holds &= verdict.holds
        lines.append(f"phiên họp {mid} «{title}»: {journal.say(verdict)}")
        for vote in await secret_counts(session, mid):
            sign = "=" if vote["ballots"] == vote["voters"] else "≠"
            warn = "" if vote["holds"] else "CẢNH BÁO: "
            lines.append(
                f"  {warn}bỏ phiếu kín «{vote['title']}»: {vote['ballots']} phiếu {sign} "
                f"{vote['voters']} người đã bỏ phiếu"
            )
            holds &= vote["holds"]
        if record is not None:
            line, fine = await _record(session, mid, record, verdict)
            lines.append(line)
            holds &= fine
    if not meetings:
        lines.append("chưa có phiên họp nào")
    return lines, holds


async def _record(
    session: AsyncSession, meeting_id: int, record: str, verdict: chain.Verdict
) -> tuple[str, bool]:
    """The frozen version's stored head against the chain at its seq."""
    kind, _, number = record.partition(":")
    if kind not in KINDS or not number.isdigit():
        return f"  --record {record!r}: viết KIND:VERSION, ví dụ minutes:1 hoặc notice:2", False
    version = (
        await session.exec(
            select(RecordVersion).where(
                RecordVersion.meeting_id == meeting_id,
                RecordVersion.kind == kind,
                RecordVersion.version == int(number),
            )
        )
    ).first()
    name = f"{KINDS[kind]} bản {number}"
    if version is None:
        return f"  không có {name} của phiên họp {meeting_id}", False
    seq, kept = version.journal_seq, version.journal_hash
    made = f"lập từ sự kiện #{seq}, mã {kept[: chain.SHORT] or '(không có)'}"
    if not kept:
        return f"  {name}: {made}; bản này chốt trước khi có chuỗi, không đối chiếu được", False
    if verdict.broken is not None and verdict.broken.seq <= seq:
        return f"  {name}: {made}; chuỗi nhật ký hỏng trước sự kiện này", False
    now = await journal.hash_at(session, meeting_id, seq)
    if now != kept:
        return f"  {name}: {made}; KHÔNG KHỚP chuỗi nhật ký (nay là {now[: chain.SHORT]})", False
    return f"  {name}: {made}; khớp chuỗi nhật ký", True
