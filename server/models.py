"""The data model: SQLModel tables shared by every capability.

Migrations under server/migrations are the schema's source of truth in a database;
these classes must match them (tests/test_migrations.py checks it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stored as UTC, read back aware; SQLite would otherwise drop the offset silently."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _when(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _maybe_when() -> Any:
    return Field(default=None, sa_type=UTCDateTime)


def _json(**kw: Any) -> Any:
    return Field(sa_type=sa.JSON, **kw)


class Role(StrEnum):
    """An account's global role."""

    admin = "admin"
    secretary = "secretary"
    delegate = "delegate"
    ward = "ward"
    observer = "observer"


class MeetingRole(StrEnum):
    """A participant's role in one meeting."""

    chair = "chair"
    secretary = "secretary"
    delegate = "delegate"
    ward_point = "ward_point"
    observer = "observer"


class MeetingStatus(StrEnum):
    draft = "draft"
    published = "published"
    live = "live"
    closed = "closed"


class BodyKind(StrEnum):
    """What the law calls the body; it sets the default majority and quorum rules."""

    hdnd = "hdnd"  # Hội đồng nhân dân, People's Council
    ubnd = "ubnd"  # Ủy ban nhân dân, People's Committee
    other = "other"


class Body(SQLModel, table=True):
    """A council or other body that holds meetings (HĐND phường, UBND xã, ...)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    place: str = Field(default="", max_length=200)
    kind: str = Field(
        default=BodyKind.other, max_length=8, sa_column_kwargs={"server_default": "other"}
    )
    # Tổng số đại biểu (or members) of the body by law, the base of "all delegates";
    # None counts the voting participants of each meeting instead.
    members: int | None = None
    term: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(default=Role.delegate, max_length=16)
    password_hash: str = Field(default="", max_length=256)
    body_id: int | None = Field(default=None, foreign_key="body.id", ondelete="SET NULL")
    title: str = Field(default="", max_length=200)  # chức vụ, e.g. "Phó Chủ tịch UBND"
    active: bool = True
    # set by an admin's reset or a new account: the next sign-in must choose a password first
    must_change_password: bool = False
    email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    # notifications also by e-mail (invitations are always sent when there is an address)
    email_notifications: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = _when()


class Member(SQLModel, table=True):
    """A seat on a council's roster: who sits on it, as what, and in which group (tổ đại biểu)."""

    __table_args__ = (sa.UniqueConstraint("body_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="body.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    title: str = Field(default="", max_length=200)  # e.g. "Phó Chủ tịch HĐND"
    seat: str = Field(default="", max_length=32)
    group: str = Field(default="", max_length=200)  # e.g. "Tổ đại biểu số 2"
    position: int = 0


class PasswordReset(SQLModel, table=True):
    """A one-time sign-in link made by an admin: only its hash is kept; used once, before expiry."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_sha256: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _maybe_when()
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()


class AdminChange(SQLModel, table=True):
    """The audit list of administrative changes: append-only (the database refuses UPDATE and
    DELETE); the actor is kept by id and name without a foreign key so no change rewrites it."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    actor_id: int | None = None
    actor_name: str = Field(default="", max_length=64)
    action: str = Field(max_length=64)  # e.g. "user.create", "member.import"
    target: str = Field(default="", max_length=200)  # e.g. "user:12 daibieu05"
    details: dict[str, Any] = _json(default_factory=dict)


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="body.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    place: str = Field(default="", max_length=300)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    description: str = ""
    status: str = Field(default=MeetingStatus.draft, max_length=16)
    last_seq: int = 0  # the journal's last sequence number, bumped in each journaled transaction
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # Thư ký kỳ họp, who writes and signs the minutes; None means the one who created it.
    secretary_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()
    updated_at: datetime = _when()
    # bumped when the time, place or title changes: calendar apps update the event (SEQUENCE)
    sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # invitees reply until then (server/invitations.py); None means until the meeting starts
    reply_by: datetime | None = _maybe_when()
    # the secretary opens it on the open-data portal (server/public.py decides what is shown)
    public: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class Participant(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("meeting_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(default=MeetingRole.delegate, max_length=16)
    seat: str = Field(default="", max_length=32)
    vote_weight: int = 1


class AgendaItem(SQLModel, table=True):
    """One point of the agenda; `parent_id` nests sub-items, `position` orders siblings."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(
        default=None, foreign_key="agendaitem.id", index=True, ondelete="CASCADE"
    )
    position: int = 0
    title: str = Field(max_length=500)
    presenter: str = Field(default="", max_length=200)
    duration_minutes: int | None = None
    notes: str = ""


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(
        default=None, foreign_key="agendaitem.id", index=True, ondelete="SET NULL"
    )
    position: int = 0
    title: str = Field(max_length=500)
    filename: str = Field(default="", max_length=255)  # shown to people, never used as a path
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = 0
    page_count: int = 0
    confidential: bool = False
    version: int = 1
    # the version this one replaces, and when a newer version replaced this one
    previous_id: int | None = Field(default=None, foreign_key="document.id", ondelete="SET NULL")
    replaced_at: datetime | None = _maybe_when()
    # "paper", "book" for a published agenda book, or "resolution" for the final text of a
    # resolution the council adopted on the item (signed through server/signing)
    kind: str = Field(default="paper", max_length=16, sa_column_kwargs={"server_default": "paper"})
    uploaded_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()


class AgendaBook(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("meeting_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    version: int
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE")
    sha256: str = Field(max_length=64)
    page_count: int = 0
    page_map: list[dict[str, Any]] = _json(default_factory=list)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()


class DocumentPage(SQLModel, table=True):
    """One page of a document: its size in points, its text, and the text folded for search."""

    __table_args__ = (sa.UniqueConstraint("document_id", "page"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True, ondelete="CASCADE")
    page: int
    width: float
    height: float
    text: str = ""
    folded: str = ""  # lowercase without diacritics, same length as text
    # The same for the same page of the same source file, also inside an agenda book.
    content_key: str = Field(default="", max_length=64, index=True)


class Annotation(SQLModel, table=True):
    """Ink, highlight or note on a page; the id is made by the client so retries never double."""

    id: uuid.UUID = Field(primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    document_id: int = Field(foreign_key="document.id", index=True, ondelete="CASCADE")
    page: int
    kind: str = Field(max_length=16)
    data: dict[str, Any] = _json(default_factory=dict)
    visibility: str = Field(default="private", max_length=16)
    updated_at: datetime = _when()
    deleted: bool = False
    # Which page content it was drawn on (see DocumentPage.content_key); set aside, never
    # deleted, when a new agenda book no longer has that content.
    content_key: str = Field(default="", max_length=64)
    set_aside: bool = False


class Vote(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agendaitem.id", ondelete="SET NULL")
    title: str = Field(max_length=500)
    kind: str = Field(default="yes_no_abstain", max_length=24)
    secret: bool = False
    majority_base: str = Field(default="cast", max_length=16)
    threshold: str = Field(default="half", max_length=24)
    quorum: int | None = None
    max_choices: int = 1
    allow_change: bool = False
    duration_s: int | None = None
    status: str = Field(default="draft", max_length=16)
    # electronic (tablets), hands (giơ tay) or paper (phiếu kín on paper): the last two are
    # counted by the tally committee (Ban kiểm phiếu) and entered by `counted_by`.
    method: str = Field(
        default="electronic", max_length=16, sa_column_kwargs={"server_default": "electronic"}
    )
    counted_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    opened_at: datetime | None = _maybe_when()
    closed_at: datetime | None = _maybe_when()
    result: dict[str, Any] | None = _json(default=None)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()


class VoteOption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="vote.id", index=True, ondelete="CASCADE")
    position: int = 0
    key: str = Field(max_length=32)  # "yes" / "no" / "abstain" or a candidate key
    label: str = Field(max_length=300)


class BallotCast(SQLModel, table=True):
    """Who has voted: one row per voter and vote, enforced by the database."""

    __table_args__ = (sa.UniqueConstraint("vote_id", "voter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="vote.id", index=True, ondelete="CASCADE")
    voter_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    weight: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Ballot(SQLModel, table=True):
    """What was chosen. In a named vote, one row per voter and choice. In a secret vote, one
    running total per option made when the vote opens (`weight` is the sum, no voter), so
    nothing stored says who chose what, or in which order."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vote_id: int = Field(foreign_key="vote.id", index=True, ondelete="CASCADE")
    option_id: int = Field(foreign_key="voteoption.id", ondelete="CASCADE")
    weight: int = 1
    voter_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")


class BallotCount(SQLModel, table=True):
    """How many ballots a secret vote's box holds, counted apart from who cast them (no
    voter, no time, no order): at the close it must equal the BallotCast rows."""

    vote_id: int = Field(foreign_key="vote.id", primary_key=True, ondelete="CASCADE")
    ballots: int = 0


class SpeakerRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agendaitem.id", ondelete="SET NULL")
    status: str = Field(default="waiting", max_length=16)  # waiting|speaking|done|withdrawn
    position: int = 0
    time_limit_s: int | None = None
    requested_at: datetime = _when()
    started_at: datetime | None = _maybe_when()
    ended_at: datetime | None = _maybe_when()


class Attendance(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("meeting_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    status: str = Field(default="absent", max_length=16)  # present|remote|excused|absent
    reason: str = Field(default="", max_length=300)  # why absent or excused
    checked_in_at: datetime | None = _maybe_when()
    updated_at: datetime = _when()


class JournalEvent(SQLModel, table=True):
    """Append-only record of a live meeting; `seq` is gapless per meeting."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    seq: int
    type: str = Field(max_length=48)
    payload: dict[str, Any] = _json(default_factory=dict)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    private_to: int | None = None  # only this user's devices may see it (no foreign key: kept)
    at: datetime = _when()
    # SHA-256 of the previous event's hash and this event's fields (server/chain.py)
    hash: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class Recording(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    # recording|done|interrupted|refused|failed; a recorder that died leaves "recording"
    status: str = Field(default="recording", max_length=16)
    started_at: datetime = _when()  # the first frame: the recording's clock starts here
    ended_at: datetime | None = _maybe_when()
    path: str = Field(default="", max_length=500)
    duration_s: float = 0.0
    size_bytes: int = 0
    # why it stopped or was refused (an English msgid, e.g. the disk filled)
    message: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})


class MinutesDraft(SQLModel, table=True):
    """What the secretary writes in the minutes beyond the journal's facts, for the meeting."""

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    number: str = Field(default="", max_length=64)  # số và ký hiệu, e.g. "12/BB-HĐND"
    opening: str = ""  # anything said before the first item
    other: str = ""  # ý kiến khác, closing remarks
    recipients: str = ""  # nơi nhận, one per line
    updated_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = _when()


class MinutesNote(SQLModel, table=True):
    """The secretary's summary of the discussion and the conclusion (kết luận) of one item."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="agendaitem.id", ondelete="CASCADE")
    summary: str = ""
    conclusion: str = ""
    updated_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = _when()


class RecordVersion(SQLModel, table=True):
    """A frozen version of the minutes or of the conclusion notice: never changed again;
    a correction is a new version."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    kind: str = Field(default="minutes", max_length=16)  # minutes | notice
    version: int
    content: dict[str, Any] = _json(default_factory=dict)  # everything the document shows
    sha256: str = Field(max_length=64)  # of the canonical JSON of `content`
    pdf_sha256: str = Field(default="", max_length=64)  # the PDF made from it, a blob
    journal_seq: int = 0  # the journal's last event when it was frozen
    journal_hash: str = Field(  # that event's chain hash
        default="", max_length=64, sa_column_kwargs={"server_default": ""}
    )
    frozen_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    frozen_at: datetime = _when()


class Signature(SQLModel, table=True):
    """A digital signature on a frozen version's PDF (server/signing): who signed in which
    role, with which certificate, and the PDF as it was right after (a blob); `code` is the
    random token of the QR code printed in the signature's block (/verify/{code})."""

    __table_args__ = (
        sa.UniqueConstraint("record_version_id", "role"),
        sa.UniqueConstraint("document_id", "role"),
        sa.UniqueConstraint("written_vote_id", "role"),
        sa.CheckConstraint(
            "(CASE WHEN record_version_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN document_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN written_vote_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="signature_one_target",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # what was signed, exactly one of: a frozen record version (minutes, notice), a document
    # (an adopted resolution, kind "resolution"), a written vote's frozen count minutes
    record_version_id: int | None = Field(
        default=None, foreign_key="recordversion.id", index=True, ondelete="CASCADE"
    )
    document_id: int | None = Field(
        default=None, foreign_key="document.id", index=True, ondelete="CASCADE"
    )
    written_vote_id: int | None = Field(
        default=None, foreign_key="writtenvote.id", index=True, ondelete="CASCADE"
    )
    role: str = Field(max_length=16)  # chair | secretary | seal
    signer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    subject: str = Field(default="", max_length=500)  # the certificate's subject, as RFC 4514
    signed_at: datetime = _when()
    pdf_sha256: str = Field(max_length=64)  # the signed PDF, a blob
    code: str = Field(max_length=64, unique=True, index=True)
    timestamped: bool = False  # an RFC 3161 timestamp is in the signature (PAdES B-T)


class CalendarLink(SQLModel, table=True):
    """A secret-token iCalendar feed (server/calendar_links.py): a person's meetings (kind
    "person", user_id) or a council's (kind "council", body_id); a revoked one answers 410."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)  # person | council
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    body_id: int | None = Field(default=None, foreign_key="body.id", index=True, ondelete="CASCADE")
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()
    revoked_at: datetime | None = _maybe_when()


class Invitation(SQLModel, table=True):
    """A giấy mời to one person for one meeting (server/invitations.py): its QR code holds
    `{base}/invitations/{token}`, which opens the reply page and is read at the door
    (check-in sets `checked_in_at`); `reply` is "" until the invitee answers."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True, index=True)
    number: str = Field(default="", max_length=64)  # số và ký hiệu, e.g. "15/GM-HĐND"
    sent_at: datetime | None = _maybe_when()  # last sent (shown in the app, e-mailed if any)
    emailed_to: str = Field(default="", max_length=254)  # the address it last went to
    email_error: str = Field(default="", max_length=500)  # why the last e-mail failed
    reply: str = Field(default="", max_length=16)  # "" | in_person | online | absent
    reason: str = Field(default="", max_length=300)  # why absent
    replied_at: datetime | None = _maybe_when()
    checked_in_at: datetime | None = _maybe_when()
    created_at: datetime = _when()


class Notification(SQLModel, table=True):
    """Something one person should know (server/notifications.py). The sentence is made from
    `kind` and `params` in the reader's language when shown, never stored as text."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)  # e.g. "book.published"
    meeting_id: int | None = Field(
        default=None, foreign_key="meeting.id", index=True, ondelete="CASCADE"
    )
    params: dict[str, Any] = _json(default_factory=dict)
    link: str = Field(default="", max_length=500)  # a path on this server, e.g. /meetings/3
    created_at: datetime = _when(index=True)
    read_at: datetime | None = _maybe_when()
    # by e-mail: due when the person wanted it then; tried at most a few times, not before
    # `mail_after` (a claim by one server process, or the wait before a retry)
    mail_due: bool = Field(default=False, index=True)
    mail_tries: int = 0
    mail_after: datetime | None = _maybe_when()
    emailed_at: datetime | None = _maybe_when()


class Reminder(SQLModel, table=True):
    """A notification to make later (a deadline near): `key` names what it is about, so
    scheduling the same deadline again replaces it; it fires once (`sent_at`)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # e.g. "opinion:12:due"
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    user_ids: list[int] = _json(default_factory=list)
    kind: str = Field(max_length=32)
    meeting_id: int | None = Field(
        default=None, foreign_key="meeting.id", index=True, ondelete="CASCADE"
    )
    params: dict[str, Any] = _json(default_factory=dict)
    link: str = Field(default="", max_length=500)
    created_at: datetime = _when()
    sent_at: datetime | None = _maybe_when()


class Consultation(SQLModel, table=True):
    """A paper opened for opinions (lấy ý kiến góp ý dự thảo) until a deadline
    (server/opinions.py); closing early moves the deadline to now, reopening sets a new one."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", unique=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    deadline: datetime = Field(sa_type=UTCDateTime)
    note: str = Field(default="", max_length=1000)  # what the drafting body asks about
    opened_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    opened_at: datetime = _when()


class Opinion(SQLModel, table=True):
    """A participant's opinion on a passage of one page of a paper under consultation;
    `position` is where the passage is on the page: rectangles normalized 0..1."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True, ondelete="CASCADE")
    author_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    page: int  # of the paper, 1-based
    passage: str = Field(default="", max_length=1000)
    position: list[list[float]] = _json(default_factory=list)
    text: str = Field(max_length=5000)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    withdrawn: bool = False


class WrittenVote(SQLModel, table=True):
    """A question put in writing to a council's delegates between sessions (lấy ý kiến bằng
    phiếu), with its papers and a deadline (server/written_votes.py); decided by the rules
    of a vote in session (server/votes/rules.py). `voters` are the roster's delegates it was
    sent to, fixed when sent; `record` is the frozen content of the tally's minutes."""

    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="body.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=500)
    question: str = Field(default="", max_length=5000)
    majority_base: str = Field(default="members", max_length=16)
    threshold: str = Field(default="half", max_length=24)
    status: str = Field(default="draft", max_length=16)  # draft | open | closed
    deadline: datetime | None = _maybe_when()
    # [{"title", "filename", "sha256", "pages", "size"}]: PDFs taken in like a meeting's papers
    papers: list[dict[str, Any]] = _json(default_factory=list)
    voters: list[int] = _json(default_factory=list)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = _when()
    opened_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    opened_at: datetime | None = _maybe_when()
    closed_at: datetime | None = _maybe_when()
    result: dict[str, Any] | None = _json(default=None)
    record: dict[str, Any] | None = _json(default=None)
    record_sha256: str = Field(default="", max_length=64)  # of the canonical JSON of `record`
    record_pdf_sha256: str = Field(default="", max_length=64)  # the PDF made from it, a blob


class WrittenBallot(SQLModel, table=True):
    """One delegate's written answer: one per delegate and question, enforced by the database."""

    __table_args__ = (sa.UniqueConstraint("vote_id", "voter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="writtenvote.id", index=True, ondelete="CASCADE")
    voter_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    choice: str = Field(max_length=16)  # yes | no | abstain
    cast_at: datetime = _when()
