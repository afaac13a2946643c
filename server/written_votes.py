"""Written votes between sessions (lấy ý kiến đại biểu bằng phiếu): the council's secretary or
its chair drafts a question with its papers; the chair (a Chủ tịch or Phó Chủ tịch on the
roster) sends it with a deadline to the delegates on the roster, who answer once each from
their own devices; at the deadline (or earlier, once every one has answered) it closes and
the same rules as a vote in session decide it (server/votes/rules.py), on all the council's
delegates: one who did not answer counts as not in favour. The count's minutes are frozen
at the close (content and its SHA-256) and printed in the form of Decree 30."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.minutes import VoteOutcome
from agenda.written_vote import Reply, WrittenVoteRecord, written_vote_pdf
from server import council, notifications
from server.access import CouncilStanding, council_standing, signed_in
from server.blobs import BlobStore
from server.documents.rules import Upload, take_in
from server.errors import AppError, forbidden, form_of, not_found
from server.house import House
from server.i18n import gettext_for
from server.ids import ID_MAX
from server.minutes import ISSUERS, SYMBOLS, date_place, issuer_lines, issuer_unit, rule_text
from server.models import (
    Body,
    BodyKind,
    Member,
    Reminder,
    Role,
    User,
    Vote,
    WrittenBallot,
    WrittenVote,
    utcnow,
)
from server.record import content_sha256, download
from server.settings import Settings
from server.votes.rules import YES_NO_ABSTAIN, decide, needed, parse_threshold

log = logging.getLogger("phonghop.written_votes")

CHOICES = dict(YES_NO_ABSTAIN)
BASES = ("members", "cast")  # "present" has no meaning without a session
MAX_PAPERS = 20
LONGEST = timedelta(days=90)
SHORTEST = timedelta(minutes=5)
SWEEP_EVERY_S = 10.0  # how often each server closes the votes whose deadline has passed


class Draft(msgspec.Struct):
    body_id: int
    title: Annotated[str, msgspec.Meta(max_length=500)]
    question: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    majority_base: str = ""  # "" is the law's default for the council (server/council.py)
    threshold: str = ""


# ---------------------------------------------------------------------------
# The rules


def as_vote(vote: WrittenVote) -> Vote:
    """The written vote as the rules of a vote read it: yes / no / abstain, named."""
    return Vote(
        meeting_id=0,
        title=vote.title,
        kind="yes_no_abstain",
        majority_base=vote.majority_base,
        threshold=vote.threshold,
    )


async def delegates(db: AsyncSession, body_id: int) -> list[User]:
    """Who is asked: the roster's people with an active account, in the roster's order."""
    found = await db.exec(
        select(User)
        .join(Member, col(Member.user_id) == User.id)
        .where(
            Member.body_id == body_id,
            col(User.active).is_(True),
            col(User.role).not_in((Role.ward, Role.observer)),
        )
        .order_by(col(Member.group), col(Member.position), col(Member.seat), User.full_name)
    )
    return list(found.all())


def membership(body: Body, asked: int) -> council.Membership:
    """The council as the rules count it: all its delegates by law, else those asked."""
    return council.Membership(body.kind, body.members or asked, asked)


def requirement(vote: WrittenVote, body: Body, asked: int) -> dict[str, Any]:
    """What it needs to pass, known before anyone answers (None on votes cast); `asked` is
    how many it was sent to (or, for a draft, how many the roster has)."""
    if vote.result:
        return {"base": vote.result["base"], "needed": vote.result["needed"]}
    if vote.majority_base == "cast":
        return {"base": None, "needed": None}
    total = membership(body, asked).total
    return {"base": total, "needed": needed(as_vote(vote), total)}


def check_reachable(vote: WrittenVote, council_now: council.Membership) -> None:
    """Refuses to send what the delegates asked could never pass (as a vote in session
    refuses to open), in the words of a council between sessions."""
    if council_now.voters > council_now.total:
        raise AppError(
            409,
            "members_exceeded",
            "The council's roster has {voters} delegates but its total membership is "
            "{total}: correct the council's total membership first.",
            voters=council_now.voters,
            total=council_now.total,
        )
    need = needed(as_vote(vote), council_now.total)
    if vote.majority_base == "members" and need > council_now.voters:
        raise AppError(
            400,
            "rule_unreachable",
            "This rule needs {needed} delegates in favour out of {total}, but only {voters} "
            "are on the roster to be asked.",
            needed=need,
            total=council_now.total,
            voters=council_now.voters,
        )


def due(vote: WrittenVote, now: datetime | None = None) -> bool:
    """Open past its deadline: it must close before anything else is done with it."""
    return (
        vote.status == "open" and vote.deadline is not None and (now or utcnow()) >= vote.deadline
    )


def _checked_rule(base: str, threshold: str, kind: str) -> tuple[str, str]:
    default_base, default_threshold = council.DEFAULT_MAJORITY.get(BodyKind(kind), ("cast", "half"))
    base, threshold = base or default_base, threshold or default_threshold
    if base not in BASES:
        raise AppError(
            400,
            "bad_base",
            "A written vote is counted on all the council's delegates or on the answers given.",
        )
    parse_threshold(threshold)
    return base, threshold


def parse_deadline(text: str, settings: Settings, now: datetime) -> datetime:
    """A deadline typed on the council's clock ("2026-12-19T17:00"), checked."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AppError(400, "bad_deadline", "Give the deadline as a date and a time.") from None
    try:  # the first and last days of the calendar overflow when moved to another zone
        when = (when if when.tzinfo else when.replace(tzinfo=settings.tz)).astimezone(now.tzinfo)
    except OverflowError:
        raise AppError(400, "bad_deadline", "Give the deadline as a date and a time.") from None
    if when < now + SHORTEST:
        raise AppError(
            400, "deadline_too_soon", "The deadline must be at least 5 minutes from now."
        )
    if when > now + LONGEST:
        raise AppError(400, "deadline_too_far", "The deadline must be within 90 days.")
    return when


# ---------------------------------------------------------------------------
# In the database


async def _locked(db: AsyncSession, vote_id: int) -> WrittenVote:
    """The row, locked on PostgreSQL; on SQLite the writer already holds the write lock."""
    statement = select(WrittenVote).where(WrittenVote.id == vote_id).with_for_update()
    vote = (await db.exec(statement)).first()
    if vote is None:
        raise not_found("written vote")
    return vote


async def _body_of(db: AsyncSession, vote: WrittenVote) -> Body:
    return await db.get_one(Body, vote.body_id)


async def create_draft(db: AsyncSession, user: User, given: Draft) -> WrittenVote:
    body = await db.get(Body, given.body_id) if 0 < given.body_id <= ID_MAX else None
    if body is None:
        raise not_found("council")
    if not (await council_standing(db, user, given.body_id)).drafts:
        raise AppError(
            403,
            "may_not_draft",
            "Only the council's secretary or its chair may draft a written vote.",
        )
    title = " ".join(given.title.split())
    if not title:
        raise AppError(400, "no_title", "Say what the delegates are asked about.")
    base, threshold = _checked_rule(given.majority_base, given.threshold, body.kind)
    vote = WrittenVote(
        body_id=given.body_id,
        title=title,
        question=given.question.strip(),
        majority_base=base,
        threshold=threshold,
        created_by=user.id,
    )
    db.add(vote)
    await db.commit()
    return vote


async def add_paper(state: House, db: AsyncSession, vote_id: int, upload: Upload) -> None:
    """A PDF (or an office file) taken in as a meeting's papers are; a refusal keeps nothing."""
    vote = await db.get(WrittenVote, vote_id)
    if vote is None:
        raise not_found("written vote")
    if vote.status != "draft":
        raise AppError(
            409, "already_sent", "This written vote has been sent: its papers are fixed."
        )
    if len(vote.papers) >= MAX_PAPERS:
        raise AppError(400, "too_many_papers", "A written vote carries at most 20 papers.")
    taken = await take_in(state, upload)
    sha256 = await asyncio.to_thread(BlobStore(state.settings.blobs_dir).put, taken.pdf)
    vote = await _locked(db, vote_id)
    paper = {
        "title": taken.title[:500],
        "filename": taken.filename,
        "sha256": sha256,
        "pages": len(taken.facts),
        "size": len(taken.pdf),
    }
    vote.papers = [*vote.papers, paper]
    db.add(vote)
    await db.commit()


async def send(db: AsyncSession, vote_id: int, user: User, deadline: datetime) -> WrittenVote:
    """Sends a draft to every delegate on the roster, fixed from now on."""
    vote = await _locked(db, vote_id)
    if vote.status != "draft":
        raise AppError(409, "already_sent", "This written vote has been sent already.")
    body = await _body_of(db, vote)
    asked = await delegates(db, vote.body_id)
    if not asked:
        raise AppError(
            409, "no_delegates", "The council's roster is empty: add its delegates first."
        )
    check_reachable(vote, membership(body, len(asked)))
    vote.voters = [u.id for u in asked if u.id is not None]
    vote.status, vote.deadline = "open", deadline
    vote.opened_by, vote.opened_at = user.id, utcnow()
    db.add(vote)
    await _tell(db, vote, user)
    await db.commit()
    return vote


def _reminder_key(vote: WrittenVote) -> str:
    return f"written_vote:{vote.id}"


async def _tell(db: AsyncSession, vote: WrittenVote, sender: User) -> None:
    """Tells the delegates asked that it is open, and once more a day before the deadline
    (or halfway to a nearer one); in the caller's transaction."""
    assert vote.deadline is not None and vote.opened_at is not None
    params = {"title": vote.title, "due_at": vote.deadline.isoformat()}
    link = f"/written-votes/{vote.id}"
    asked = [uid for uid in vote.voters if uid != sender.id]
    await notifications.notify(
        db, asked, notifications.WRITTEN_VOTE_OPENED, params=params, link=link
    )
    ahead = min(timedelta(days=1), (vote.deadline - vote.opened_at) / 2)
    await notifications.remind(
        db,
        _reminder_key(vote),
        vote.deadline - ahead,
        vote.voters,
        notifications.DEADLINE_NEAR,
        params={"task": "written_vote", **params},
        link=link,
    )


async def cast(db: AsyncSession, vote_id: int, user: User, choice: str) -> WrittenBallot:
    """One answer per delegate asked, before the deadline; a second one, or one too late, is
    refused and changes nothing."""
    vote = await _locked(db, vote_id)
    if vote.status == "draft":
        raise not_found("written vote")
    if user.id not in vote.voters:
        raise AppError(
            403,
            "not_asked",
            "This question was not sent to you: only the council's delegates answer it.",
        )
    if vote.status == "closed" or due(vote):
        raise AppError(
            409,
            "deadline_passed",
            "The deadline for answers has passed; no more answers are taken.",
        )
    if user.id not in {delegate.id for delegate in await delegates(db, vote.body_id)}:
        raise AppError(
            403,
            "no_longer_delegate",
            "You are no longer a delegate of this council; your answer was not taken.",
        )
    if choice not in CHOICES:
        raise AppError(400, "bad_choice", "Choose in favour, against or abstain.")
    ballot = WrittenBallot(vote_id=vote_id, voter_id=user.id or 0, choice=choice)
    db.add(ballot)
    try:
        await db.flush()  # the database keeps one answer per delegate, also under a race
        await _remind_only_the_silent(db, vote, ballot.voter_id)
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise _answered() from None
    return ballot


async def _remind_only_the_silent(db: AsyncSession, vote: WrittenVote, voter_id: int) -> None:
    """One who has answered is not reminded of the deadline (until the reminder has fired)."""
    found = await db.exec(select(Reminder).where(Reminder.key == _reminder_key(vote)))
    reminder = found.first()
    if reminder is not None and reminder.sent_at is None:
        reminder.user_ids = [uid for uid in reminder.user_ids if uid != voter_id]
        db.add(reminder)


def _answered() -> AppError:
    return AppError(
        409, "already_answered", "You have answered already: a written ballot is sent only once."
    )


async def _replies(db: AsyncSession, vote_id: int) -> list[tuple[WrittenBallot, User]]:
    found = await db.exec(
        select(WrittenBallot, User)
        .join(User, col(User.id) == WrittenBallot.voter_id)
        .where(WrittenBallot.vote_id == vote_id)
        .order_by(col(WrittenBallot.cast_at), col(WrittenBallot.id))
    )
    return list(found.all())


async def close(
    db: AsyncSession, vote_id: int, user: User | None, settings: Settings
) -> WrittenVote:
    """Closes it and decides it once, by the rules of a vote in session; closing again returns
    the same result. Before the deadline only the chair may, once every delegate asked has
    answered: no one loses the time they were given."""
    vote = await _locked(db, vote_id)
    if vote.status == "closed":
        return vote
    if vote.status == "draft":
        raise AppError(409, "not_sent", "This written vote has not been sent yet.")
    replies = await _replies(db, vote_id)
    if user is not None and not due(vote) and len(replies) < len(vote.voters):
        raise AppError(
            409,
            "not_all_answered",
            "{missing} of the delegates asked have not answered yet: the vote closes at its "
            "deadline.",
            missing=len(vote.voters) - len(replies),
        )
    body = await _body_of(db, vote)
    vote.status, vote.closed_at = "closed", utcnow()
    vote.result = _result(vote, body, replies)
    vote.record = await _record(db, vote, body, replies, settings)
    vote.record_sha256 = content_sha256(vote.record)
    db.add(vote)
    await notifications.cancel(db, _reminder_key(vote))
    await db.commit()
    return vote


def _result(
    vote: WrittenVote, body: Body, replies: list[tuple[WrittenBallot, User]]
) -> dict[str, Any]:
    tally = dict.fromkeys(CHOICES, 0)
    for ballot, _ in replies:
        tally[ballot.choice] += 1
    total = membership(body, len(vote.voters)).total
    base = total if vote.majority_base == "members" else len(replies)
    return {
        "tally": tally,
        "labels": CHOICES,
        "sent": len(vote.voters),
        "voters": len(replies),
        "base": base,
        **decide(as_vote(vote), tally, base, len(replies)),
    }


def _day(value: datetime) -> str:
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"{value.day:02d} tháng {month} năm {value.year}"


def _moment(value: datetime, settings: Settings) -> str:
    local = value.astimezone(settings.tz)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, ngày {_day(local)}"


def _signer_titles(body: Body, title: str) -> tuple[str, ...]:
    if body.kind == BodyKind.hdnd:
        on_behalf = "TM. THƯỜNG TRỰC HĐND"
    elif body.kind == BodyKind.ubnd:
        on_behalf = "TM. ỦY BAN NHÂN DÂN"
    else:
        return ("CHỦ TỌA",)
    if title.strip().lower().startswith("phó chủ tịch"):
        return (on_behalf, "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    return (on_behalf, "CHỦ TỊCH")


async def _roster_title(db: AsyncSession, body_id: int, user: User) -> str:
    seat = await db.exec(
        select(Member.title).where(Member.body_id == body_id, Member.user_id == user.id)
    )
    return (seat.first() or "") or user.title


async def _secretary(db: AsyncSession, vote: WrittenVote) -> str:
    """Who signs as secretary: the council's secretary who drafted it, else its first."""
    drafted = await db.get(User, vote.created_by) if vote.created_by else None
    if drafted is not None and drafted.role == Role.secretary:
        return drafted.full_name or drafted.username
    first = await db.exec(
        select(User)
        .where(User.body_id == vote.body_id, User.role == Role.secretary, col(User.active))
        .order_by(col(User.id))
    )
    found = first.first()
    return (found.full_name or found.username) if found else ""


async def _record(
    db: AsyncSession,
    vote: WrittenVote,
    body: Body,
    replies: list[tuple[WrittenBallot, User]],
    settings: Settings,
) -> dict[str, Any]:
    """Everything the count's minutes say, from the rows as they are at the close."""
    words = gettext_for("vi")
    result = vote.result or {}
    labels = {key: words(label) for key, label in CHOICES.items()}
    answered = {ballot.voter_id for ballot, _ in replies}
    asked = {u.id: u for u in await delegates(db, vote.body_id)}
    missing = [uid for uid in vote.voters if uid not in answered]
    silent = [await db.get(User, uid) for uid in missing if uid not in asked]
    names = [asked[uid] for uid in missing if uid in asked] + [u for u in silent if u]
    chair = await db.get(User, vote.opened_by) if vote.opened_by else None
    chair_title = await _roster_title(db, vote.body_id, chair) if chair else ""
    kind, unit = issuer_unit(body)
    issuer = ISSUERS.get(BodyKind(kind))
    rule = rule_text(as_vote(vote)).split(";")[0] + "; lấy ý kiến bằng phiếu, có ghi tên"
    assert vote.opened_at and vote.deadline and vote.closed_at  # a closed vote was sent
    data = WrittenVoteRecord(
        body=f"{issuer} {unit}" if issuer else unit,
        issuer=issuer_lines(body),
        number=f"{vote.id}/{SYMBOLS.get(BodyKind(body.kind), 'BB')}",
        place=date_place(body),
        date=_day(vote.closed_at.astimezone(settings.tz)),
        title=vote.title,
        question=vote.question,
        papers=tuple(f"{p['title']} ({p['pages']} trang)" for p in vote.papers),
        sent_at=_moment(vote.opened_at, settings),
        deadline=_moment(vote.deadline, settings),
        counted_at=_moment(vote.closed_at, settings),
        sent=len(vote.voters),
        returned=len(replies),
        valid=len(replies),
        outcome=VoteOutcome(
            title=vote.title,
            item="",
            rule=rule,
            tally=tuple((labels[key], count) for key, count in result["tally"].items()),
            voters=len(replies),
            base=result["base"],
            needed=result["needed"],
            passed=result["passed"],
            secret=False,
        ),
        replies=tuple(
            Reply(
                u.full_name or u.username,
                labels[b.choice],
                b.cast_at.astimezone(settings.tz).strftime("%H:%M ngày %d/%m/%Y"),
            )
            for b, u in replies
        ),
        silent=tuple(u.full_name or u.username for u in names),
        chair=(chair.full_name or chair.username) if chair else "",
        secretary=await _secretary(db, vote),
        signer_titles=_signer_titles(body, chair_title),
        delegates="đại biểu" if body.kind == BodyKind.hdnd else "thành viên",
    )
    return data.to_dict()


async def record_pdf(state: House, vote: WrittenVote) -> bytes:
    """The frozen record's PDF: made once in the render pool from the frozen content and
    kept as a blob (the same content always makes the same bytes)."""
    db_maker, blobs = state.db, BlobStore(state.settings.blobs_dir)
    if vote.record_pdf_sha256:
        return await asyncio.to_thread(blobs.get, vote.record_pdf_sha256)
    if vote.record is None:
        raise AppError(409, "not_closed", "The result is known once the vote has closed.")
    data = WrittenVoteRecord.from_dict(vote.record)
    pdf = await state.renderer.run(written_vote_pdf, data)
    sha256 = await asyncio.to_thread(blobs.put, pdf)
    async with db_maker() as db:
        await db.exec(
            sa.update(WrittenVote)  # type: ignore[call-overload]
            .where(col(WrittenVote.id) == vote.id, col(WrittenVote.record_pdf_sha256) == "")
            .values(record_pdf_sha256=sha256)
        )
        await db.commit()
    return pdf


# ---------------------------------------------------------------------------
# The clock: nothing stays open past its deadline


class WrittenVotes:
    """Closes the written votes whose deadline has passed: every few seconds on every server
    (the close happens once, under the row's lock), and before any page shows them."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        db_read: async_sessionmaker[AsyncSession],
        settings: Settings,
    ) -> None:
        self._db, self._db_read, self._settings = db, db_read, settings
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)

    async def _sweep(self) -> None:
        while True:
            try:
                await self.close_overdue()
            except Exception:  # the database away for a moment: try again at the next sweep
                log.exception("could not close the written votes past their deadline")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def close_overdue(self) -> list[int]:
        """Closes every open written vote past its deadline; returns their ids."""
        async with self._db_read() as db:
            overdue = list(
                await db.exec(
                    select(WrittenVote.id).where(
                        WrittenVote.status == "open", col(WrittenVote.deadline) <= utcnow()
                    )
                )
            )
        closed = []
        for vote_id in overdue:
            assert vote_id is not None
            try:  # one vote that cannot close must not keep the others open
                async with self._db() as db:
                    await close(db, vote_id, None, self._settings)
                closed.append(vote_id)
            except Exception:
                log.exception("written vote %s could not be closed at its deadline", vote_id)
        return closed


# ---------------------------------------------------------------------------
# Pages and routes


async def _visible(
    db: AsyncSession, user: User, vote_id: int
) -> tuple[WrittenVote, CouncilStanding]:
    vote = await db.get(WrittenVote, vote_id)
    if vote is None:
        raise not_found("written vote")
    standing = await council_standing(db, user, vote.body_id)
    asked = user.id in vote.voters and vote.status != "draft"
    if not (asked or standing.drafts):
        raise not_found("written vote")  # not revealed to those it was not sent to
    return vote, standing


async def _councils_of(db: AsyncSession, user: User) -> list[Body]:
    """The councils the caller is on the roster of, drafts for or runs."""
    on_roster = select(Member.body_id).where(Member.user_id == user.id)
    query = select(Body).order_by(col(Body.name))
    if user.role != Role.admin:
        query = query.where(col(Body.id).in_(on_roster) | (Body.id == user.body_id))
    return [b for b in await db.exec(query) if b.id is not None]


class PaperRef(TypedDict):
    title: str
    pages: int


class WrittenVoteFields(TypedDict):
    id: int | None
    body_id: int
    title: str
    question: str
    status: str
    majority_base: str
    threshold: str
    deadline: str | None
    papers: list[PaperRef]
    sent: int
    replied: int
    requirement: dict[str, Any]


class WrittenVoteOut(WrittenVoteFields, total=False):
    """A written vote (lấy ý kiến bằng văn bản) as anyone who may see it may know it."""

    result: dict[str, Any] | None  # once closed
    record_sha256: str | None


def vote_json(vote: WrittenVote, body: Body, replied: int) -> WrittenVoteOut:
    """What anyone who may see it may know: no tally before the close."""
    data: WrittenVoteOut = {
        "id": vote.id,
        "body_id": vote.body_id,
        "title": vote.title,
        "question": vote.question,
        "status": vote.status,
        "majority_base": vote.majority_base,
        "threshold": vote.threshold,
        "deadline": vote.deadline.isoformat() if vote.deadline else None,
        "papers": [{"title": p["title"], "pages": p["pages"]} for p in vote.papers],
        "sent": len(vote.voters),
        "replied": replied,
        "requirement": requirement(vote, body, len(vote.voters)),
    }
    if vote.status == "closed":
        data["result"] = vote.result
        data["record_sha256"] = vote.record_sha256
    return data


async def _replied(db: AsyncSession, vote_id: int) -> int:
    count = select(sa.func.count()).where(WrittenBallot.vote_id == vote_id)
    return int((await db.exec(count)).one())


async def _my_answer(db: AsyncSession, vote_id: int, user_id: int) -> WrittenBallot | None:
    found = await db.exec(
        select(WrittenBallot).where(
            WrittenBallot.vote_id == vote_id, WrittenBallot.voter_id == user_id
        )
    )
    return found.first()


def _go(target: str) -> Response:
    return Response(b"", headers={"HX-Redirect": target})


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@get("/written-votes", guards=[signed_in])
async def written_votes_page(request: Request, state: House) -> Template:
    await state.written_votes.close_overdue()
    user = request.user
    async with state.db_read() as db:
        councils = []
        for body in await _councils_of(db, user):
            standing = await council_standing(db, user, body.id or 0)
            rows = await db.exec(
                select(WrittenVote)
                .where(WrittenVote.body_id == body.id)
                .order_by(col(WrittenVote.created_at).desc())
            )
            shown = []
            for vote in rows.all():
                asked = user.id in vote.voters and vote.status != "draft"
                if not (asked or standing.drafts):
                    continue
                mine = await _my_answer(db, vote.id or 0, user.id) if asked else None
                shown.append((vote, asked, mine, await _replied(db, vote.id or 0)))
            councils.append((body, standing, shown))
    return Template(
        "written_votes.html",
        context={"councils": councils, "tz": state.settings.tz, "choices": CHOICES},
    )


@post("/written-votes", guards=[signed_in])
async def draft_written_vote(request: Request, db: NamedDependency[AsyncSession]) -> Response:
    form = await form_of(request)
    try:
        body_id = int(_text(form, "body_id"))
    except ValueError:
        raise AppError(400, "bad_body", "Choose a council.") from None
    given = Draft(
        body_id=body_id,
        title=_text(form, "title")[:500],
        question=_text(form, "question")[:5000],
        majority_base=_text(form, "majority_base"),
        threshold=_text(form, "threshold"),
    )
    vote = await create_draft(db, request.user, given)
    return _go(f"/written-votes/{vote.id}")


@get("/written-votes/{vote_id:int}", guards=[signed_in])
async def written_vote_page(request: Request, state: House, vote_id: FromPath[int]) -> Template:
    await state.written_votes.close_overdue()
    user = request.user
    async with state.db_read() as db:
        vote, standing = await _visible(db, user, vote_id)
        body = await _body_of(db, vote)
        asked = user.id in vote.voters and vote.status != "draft"
        replies = await _replies(db, vote_id) if vote.status == "closed" else []
        asked_count = len(vote.voters) or len(await delegates(db, vote.body_id))
        context = {
            "vote": vote,
            "body": body,
            "standing": standing,
            "asked": asked,
            "mine": await _my_answer(db, vote_id, user.id) if asked else None,
            "replied": await _replied(db, vote_id),
            "requirement": requirement(vote, body, asked_count),
            "replies": replies,
            "choices": CHOICES,
            "tz": state.settings.tz,
            "now": utcnow(),
            "sender": standing.leads,
        }
    return Template("written_vote.html", context=context)


@get("/api/written-votes/{vote_id:int}", guards=[signed_in])
async def written_vote_info(
    request: Request, state: House, vote_id: FromPath[int]
) -> WrittenVoteOut:
    await state.written_votes.close_overdue()
    async with state.db_read() as db:
        vote, _ = await _visible(db, request.user, vote_id)
        return vote_json(vote, await _body_of(db, vote), await _replied(db, vote_id))


@post("/written-votes/{vote_id:int}/papers", guards=[signed_in])
async def add_written_vote_paper(
    request: Request, db: NamedDependency[AsyncSession], state: House, vote_id: FromPath[int]
) -> Response:
    vote, standing = await _visible(db, request.user, vote_id)
    if not standing.drafts:
        raise forbidden()
    form = await form_of(request)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise AppError(400, "no_file", "Choose a file to upload.")
    data = await file.read()
    if not data:
        raise AppError(422, "empty", "The file is empty.")
    upload = Upload(filename=file.filename or "tai-lieu.pdf", data=data, title=_text(form, "title"))
    await add_paper(state, db, vote_id, upload)
    return _go(f"/written-votes/{vote_id}")


@post("/written-votes/{vote_id:int}/send", guards=[signed_in])
async def send_written_vote(
    request: Request, db: NamedDependency[AsyncSession], state: House, vote_id: FromPath[int]
) -> Response:
    _, standing = await _visible(db, request.user, vote_id)
    if not standing.leads:
        raise AppError(403, "not_chair", "Only the council's chair may send a written vote.")
    form = await form_of(request)
    deadline = parse_deadline(_text(form, "deadline"), state.settings, utcnow())
    await send(db, vote_id, request.user, deadline)
    return _go(f"/written-votes/{vote_id}")


@post("/written-votes/{vote_id:int}/ballot", guards=[signed_in])
async def cast_written_ballot(
    request: Request, db: NamedDependency[AsyncSession], state: House, vote_id: FromPath[int]
) -> Response:
    await state.written_votes.close_overdue()
    form = await form_of(request)
    await cast(db, vote_id, request.user, _text(form, "choice"))
    return _go(f"/written-votes/{vote_id}")


@post("/written-votes/{vote_id:int}/close", guards=[signed_in])
async def close_written_vote(
    request: Request, db: NamedDependency[AsyncSession], state: House, vote_id: FromPath[int]
) -> Response:
    _, standing = await _visible(db, request.user, vote_id)
    if not standing.leads:
        raise AppError(403, "not_chair", "Only the council's chair may close a written vote.")
    await close(db, vote_id, request.user, state.settings)
    return _go(f"/written-votes/{vote_id}")


@get("/written-votes/{vote_id:int}/papers/{n:int}", guards=[signed_in])
async def written_vote_paper(
    request: Request, state: House, vote_id: FromPath[int], n: FromPath[int]
) -> Response:
    async with state.db_read() as db:
        vote, _ = await _visible(db, request.user, vote_id)
    if not 1 <= n <= len(vote.papers):
        raise not_found("paper")
    paper = vote.papers[n - 1]
    data = await asyncio.to_thread(BlobStore(state.settings.blobs_dir).get, paper["sha256"])
    name = f"tai-lieu-lay-y-kien-{vote_id}-{n}.pdf"
    return download(data, "application/pdf", name, f"{paper['title'][:80]}.pdf")


@get("/written-votes/{vote_id:int}/record.pdf", guards=[signed_in])
async def written_vote_record(request: Request, state: House, vote_id: FromPath[int]) -> Response:
    await state.written_votes.close_overdue()
    async with state.db_read() as db:
        vote, _ = await _visible(db, request.user, vote_id)
    pdf = await record_pdf(state, vote)
    title = f"Biên bản kiểm phiếu - {vote.title}"[:80]
    return download(pdf, "application/pdf", f"bien-ban-kiem-phieu-{vote_id}.pdf", f"{title}.pdf")


ROUTES = [
    written_votes_page,
    draft_written_vote,
    written_vote_page,
    written_vote_info,
    add_written_vote_paper,
    send_written_vote,
    cast_written_ballot,
    close_written_vote,
    written_vote_paper,
    written_vote_record,
]
