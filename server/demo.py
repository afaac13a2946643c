"""Seeds a demo council: a ward People's Council, its people, and a year-end session with papers.

Running it again changes nothing that is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from agenda.demo_papers import demo_session
from agenda.render import page_facts
from server.blobs import BlobStore
from server.documents.rules import content_key, page_rows
from server.models import (
    AgendaItem,
    Body,
    BodyKind,
    Document,
    Meeting,
    MeetingStatus,
    Member,
    Participant,
    User,
)
from server.passwords import Passwords
from server.settings import Settings
from server.users import NewUser, create_user

DEMO_PASSWORD = "demo2026"  # noqa: S105 - printed for the demo on purpose
BODY = "Hội đồng nhân dân phường Ba Đình"
PLACE = "Hà Nội"
HALL = "Hội trường Ủy ban nhân dân phường Ba Đình"
MEETING_TITLE = "Kỳ họp thứ ba (thường lệ cuối năm 2026), HĐND phường Ba Đình khóa I"

DELEGATES = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Minh Cường",
    "Phạm Thu Dung",
    "Hoàng Văn Đức",
    "Vũ Thị Hà",
    "Đặng Quốc Hùng",
    "Bùi Thị Lan",
    "Đỗ Mạnh Linh",
    "Hồ Thị Mai",
    "Ngô Đức Nam",
    "Dương Thị Ngọc",
    "Lý Văn Phúc",
    "Mai Thị Quỳnh",
    "Trịnh Công Sơn",
    "Đinh Thị Thảo",
    "Phan Văn Thắng",
    "Tạ Thị Uyên",
    "Lương Văn Việt",
    "Cao Thị Xuân",
]
WARD_POINTS = [
    "Điểm cầu Tổ dân phố số 1",
    "Điểm cầu Tổ dân phố số 7",
    "Điểm cầu Trường THCS Ba Đình",
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    who: str


def _people() -> list[tuple[NewUser, str | None, str]]:
    """(account, meeting role or None, what the person is) for everyone in the demo."""
    people = [
        (NewUser("admin", "Quản trị hệ thống", "admin", DEMO_PASSWORD), None, "IT officer"),
        (
            NewUser("thuky", "Nguyễn Thị Hồng", "secretary", DEMO_PASSWORD, title="Thư ký kỳ họp"),
            "secretary",
            "secretary",
        ),
        (
            NewUser(
                "chutoa", "Trần Văn Bình", "delegate", DEMO_PASSWORD, title="Chủ tịch HĐND phường"
            ),
            "chair",
            "chair",
        ),
    ]
    for n, name in enumerate(DELEGATES, start=1):
        account = NewUser(f"daibieu{n:02d}", name, "delegate", DEMO_PASSWORD, title="Đại biểu HĐND")
        people.append((account, "delegate", "delegate"))
    for n, name in enumerate(WARD_POINTS, start=1):
        people.append(
            (NewUser(f"diemcau{n}", name, "ward", DEMO_PASSWORD), "ward_point", "ward point")
        )
    people.append(
        (
            NewUser("khach", "Phóng viên Báo Hà Nội Mới", "observer", DEMO_PASSWORD),
            "observer",
            "observer",
        )
    )
    return people


def seed(session: Session, settings: Settings, passwords: Passwords) -> list[DemoLogin]:
    body = _one(session, select(Body).where(Body.name == BODY)) or Body(
        name=BODY, place=PLACE, kind=BodyKind.hdnd, members=len(DELEGATES) + 1, term="2026–2031"
    )
    session.add(body)
    session.commit()
    starts_at = datetime(2026, 12, 15, 8, 0, tzinfo=settings.tz)
    meeting = _one(session, select(Meeting).where(Meeting.title == MEETING_TITLE)) or Meeting(
        body_id=body.id,
        title=MEETING_TITLE,
        place=HALL,
        starts_at=starts_at,
        status=MeetingStatus.draft,
        description="Xem xét báo cáo kinh tế - xã hội, ngân sách và kế hoạch đầu tư công năm 2027.",
    )
    session.add(meeting)
    session.commit()
    logins = []
    for seat, (account, meeting_role, who) in enumerate(_people(), start=1):
        user = _one(session, select(User).where(User.username == account.username))
        if user is None:
            user = create_user(session, passwords, account, body_id=body.id)
        if meeting_role and not _one(
            session,
            select(Participant).where(
                Participant.meeting_id == meeting.id, Participant.user_id == user.id
            ),
        ):
            session.add(
                Participant(
                    meeting_id=meeting.id,
                    user_id=user.id,
                    role=meeting_role,
                    seat=f"{seat:02d}" if meeting_role != "ward_point" else "",
                )
            )
        if meeting_role in ("chair", "delegate"):
            _seat_on_roster(session, body, user, seat)
        logins.append(DemoLogin(account.username, account.role, who))
    session.commit()
    if not _one(session, select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)):
        _seed_agenda(session, settings, meeting, starts_at)
    return logins


def _seat_on_roster(session: Session, body: Body, user: User, seat: int) -> None:
    """The council's roster: the chair and the delegates, in two groups (tổ đại biểu)."""
    assert body.id is not None and user.id is not None  # both stored before
    if _one(session, select(Member).where(Member.body_id == body.id, Member.user_id == user.id)):
        return
    group = "Tổ đại biểu số 1" if seat <= (len(DELEGATES) + 3) // 2 else "Tổ đại biểu số 2"
    session.add(
        Member(
            body_id=body.id,
            user_id=user.id,
            title=user.title,
            seat=f"{seat:02d}",
            group=group,
            position=seat,
        )
    )


def _seed_agenda(
    session: Session, settings: Settings, meeting: Meeting, starts_at: datetime
) -> None:
    blobs = BlobStore(settings.blobs_dir)
    parents: dict[str, int] = {}
    positions: dict[str | None, int] = {}
    for item in demo_session(BODY, PLACE, starts_at.date()):
        parent_number = item.number.rpartition(".")[0] or None
        position = positions.get(parent_number, 0)
        positions[parent_number] = position + 1
        row = AgendaItem(
            meeting_id=meeting.id,
            title=item.title,
            position=position,
            parent_id=parents.get(parent_number) if parent_number else None,
        )
        session.add(row)
        session.flush()
        parents[item.number] = row.id
        for n, paper in enumerate(item.papers):
            facts = page_facts(paper.pdf)
            document = Document(
                meeting_id=meeting.id,
                item_id=row.id,
                position=n,
                title=paper.title,
                filename=paper.filename,
                sha256=blobs.put(paper.pdf),
                size_bytes=len(paper.pdf),
                page_count=len(facts),
            )
            session.add(document)
            session.flush()
            keys = [content_key(document.sha256, n) for n in range(1, len(facts) + 1)]
            session.add_all(page_rows(document.id, facts, keys))
    session.commit()


def _one(session: Session, query):  # type: ignore[no-untyped-def]
    return session.exec(query).first()
