"""Invitations (giấy mời) and replies.

The secretary sends every participant a giấy mời (or one person again): shown in the app at
once, and e-mailed with its PDF to those with an address. Each invitee replies in person,
online, or absent with a reason, until the meeting's reply deadline (`Meeting.reply_by`, else
its start); after it a reply is refused and nothing is kept. The replies feed attendance (an
absence with a reason marks the person excused, journaled as any attendance change), the
quorum forecast on the secretary's panel, and the minutes (the reason given).

The reply page `/invitations/{token}` asks the invitee to sign in: the token is printed on
paper and shown at the door, so having it must not be enough to answer for someone.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.invitation import InvitationData, invitation_pdf, invitation_text, salutation
from server import attendance, council, notifications
from server.access import meeting_access, meeting_permission, signed_in
from server.errors import AppError, form_of
from server.house import House, house_of
from server.i18n import N_
from server.mail import FAILURES, MailError, mail_enabled, send_mail
from server.meetings import rules as meeting_rules
from server.minutes import (
    ISSUERS,
    ROLE_NAMES,
    clock_words,
    date_place,
    day_words,
    issuer_lines,
    issuer_unit,
)
from server.models import (
    Attendance,
    Body,
    BodyKind,
    Invitation,
    Meeting,
    MeetingRole,
    MeetingStatus,
    Member,
    Participant,
    User,
    utcnow,
)
from server.record import download

log = logging.getLogger("phonghop.invitations")

REPLIES = ("in_person", "online", "absent")
REPLY_NAMES = {
    "in_person": N_("Attending in person"),
    "online": N_("Attending online"),
    "absent": N_("Absent, with a reason"),
    "": N_("No reply yet"),
}
COMING = ("in_person", "online")
SYMBOLS: dict[str, str] = {BodyKind.hdnd: "GM-HĐND", BodyKind.ubnd: "GM-UBND"}
ROLE_WORDS: dict[str, str] = {str(role): name for role, name in ROLE_NAMES.items()}
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
MAX_REASON = 300
OPEN_STATUSES = (MeetingStatus.draft, MeetingStatus.published)  # before the session starts


def new_token() -> str:
    return secrets.token_urlsafe(18)


def deadline(meeting: Meeting) -> datetime:
    """Until when replies are taken: the secretary's deadline, else (or if the meeting was
    moved earlier than it) the meeting's start."""
    if meeting.reply_by is None:
        return meeting.starts_at
    return min(meeting.reply_by, meeting.starts_at)


def invitation_url(base: str, invitation: Invitation) -> str:
    return f"{base.rstrip('/')}/invitations/{invitation.token}"


# ---------------------------------------------------------------------------
# Who is invited, and the forecast


async def _invitees(db: AsyncSession, meeting_id: int) -> list[tuple[Participant, User]]:
    """Everyone taking part but its secretaries, who issue the invitation."""
    rows = await db.exec(
        select(Participant, User)
        .join(User, col(User.id) == Participant.user_id)
        .where(Participant.meeting_id == meeting_id, Participant.role != MeetingRole.secretary)
        .order_by(Participant.role, User.full_name)
    )
    return list(rows.all())


async def _invitations(db: AsyncSession, meeting_id: int) -> dict[int, Invitation]:
    rows = await db.exec(select(Invitation).where(Invitation.meeting_id == meeting_id))
    return {row.user_id: row for row in rows.all()}


@dataclass(frozen=True)
class Forecast:
    """How the quorum stands by the replies: members coming against what the law asks."""

    members: int
    """All delegates of the council (the quorum's base)."""
    needed: int
    in_person: int
    online: int
    absent: int
    unanswered: list[str]
    """Names of the meeting's members who have not replied."""
    kind: str

    @property
    def coming(self) -> int:
        return self.in_person + self.online

    @property
    def met(self) -> bool:
        return self.coming >= self.needed

    @property
    def possible(self) -> bool:
        """Could still be met if everyone who has not replied comes."""
        return self.coming + len(self.unanswered) >= self.needed


async def forecast(db: AsyncSession, meeting_id: int) -> Forecast:
    membership = await council.membership(db, meeting_id)
    replies = await _invitations(db, meeting_id)
    counts = dict.fromkeys(REPLIES, 0)
    unanswered = []
    for participant, user in await _invitees(db, meeting_id):
        if participant.role not in council.VOTERS:
            continue
        invitation = replies.get(participant.user_id)
        if invitation is None or not invitation.reply:
            unanswered.append(user.full_name or user.username)
        else:
            counts[invitation.reply] += 1
    return Forecast(
        members=membership.total,
        needed=council.quorum_needed(membership.kind, membership.total),
        in_person=counts["in_person"],
        online=counts["online"],
        absent=counts["absent"],
        unanswered=unanswered,
        kind=membership.kind,
    )


# ---------------------------------------------------------------------------
# The letter


def _moment(value: datetime, tz: Any) -> str:
    """ "08 giờ 00 phút, thứ Hai, ngày 15 tháng 12 năm 2026"."""
    local = value.astimezone(tz)
    return f"{clock_words(local)}, {WEEKDAYS[local.weekday()]}, ngày {day_words(local)}"


def _inviter(body: Body) -> str:
    kind, unit = issuer_unit(body)
    issuer = ISSUERS.get(BodyKind(kind))
    if kind == BodyKind.hdnd:
        return f"Thường trực {issuer} {unit}"
    return f"{issuer} {unit}" if issuer else body.name


async def _signer(db: AsyncSession, meeting: Meeting, body: Body) -> tuple[tuple[str, ...], str]:
    """The council's Chủ tịch on its roster signs for its standing committee; else a Phó Chủ
    tịch for them; else the meeting's chair."""
    rows = await db.exec(
        select(Member.title, User.full_name)
        .join(User, col(User.id) == Member.user_id)
        .where(Member.body_id == body.id, col(User.active))
        .order_by(col(Member.position))
    )
    kind, _ = issuer_unit(body)
    on_behalf: dict[str, str] = {
        BodyKind.hdnd: "TM. THƯỜNG TRỰC HĐND",
        BodyKind.ubnd: "TM. ỦY BAN NHÂN DÂN",
    }
    leaders = [(title.strip().lower(), name) for title, name in rows.all()]
    for title, name in leaders:
        if title.startswith("chủ tịch"):
            return (on_behalf.get(kind, "TM. " + body.name.upper()), "CHỦ TỊCH"), name
    for title, name in leaders:
        if title.startswith("phó chủ tịch"):
            return ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), name
    chair = (
        await db.exec(
            select(User.full_name)
            .join(Participant, col(Participant.user_id) == User.id)
            .where(Participant.meeting_id == meeting.id, Participant.role == MeetingRole.chair)
        )
    ).first()
    return ("CHỦ TỌA",), chair or ""


async def _office(db: AsyncSession, body_id: int, participant: Participant, user: User) -> str:
    seat = (
        await db.exec(
            select(Member.title).where(Member.body_id == body_id, Member.user_id == user.id)
        )
    ).first()
    return seat or user.title or ROLE_WORDS.get(participant.role, "")


async def letter(
    db: AsyncSession, meeting: Meeting, invitation: Invitation, base: str, tz: Any
) -> InvitationData:
    """What one person's giấy mời says."""
    body = await db.get_one(Body, meeting.body_id)
    user = await db.get_one(User, invitation.user_id)
    participant = (
        await db.exec(
            select(Participant).where(
                Participant.meeting_id == meeting.id, Participant.user_id == user.id
            )
        )
    ).first() or Participant(meeting_id=invitation.meeting_id, user_id=invitation.user_id)
    items = meeting_rules.flatten(
        meeting_rules.agenda_tree(await meeting_rules.agenda_items(db, invitation.meeting_id))
    )
    titles, signer = await _signer(db, meeting, body)
    issued = (invitation.sent_at or utcnow()).astimezone(tz)
    return InvitationData(
        issuer=issuer_lines(body),
        number=invitation.number,
        place=date_place(body),
        date=day_words(issued),
        inviter=_inviter(body),
        meeting=meeting.title,
        invitee=user.full_name or user.username,
        invitee_title=await _office(db, meeting.body_id, participant, user),
        time=_moment(meeting.starts_at, tz),
        venue=meeting.place or body.place,
        items=[(row["number"], row["item"].title) for row in items if "." not in row["number"]],
        reply_by=_moment(deadline(meeting), tz),
        url=invitation_url(base, invitation),
        signer_titles=titles,
        signer=signer,
    )


# ---------------------------------------------------------------------------
# Sending


@dataclass(frozen=True)
class _Outgoing:
    invitation_id: int
    address: str
    data: InvitationData


def _default_number(meeting: Meeting, body: Body) -> str:
    kind, _ = issuer_unit(body)
    return f"{meeting.id}/{SYMBOLS.get(kind, 'GM')}"


def _reply_by(state: House, meeting: Meeting, value: str) -> datetime | None:
    """The form's deadline on the council's clock; blank means the meeting's start."""
    if not value.strip():
        return None
    try:  # the calendar's very ends overflow when compared across zones
        when = meeting_rules.on_council_clock(datetime.fromisoformat(value), state.settings.tz)
        when.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise AppError(400, "bad_reply_by", "Enter the reply deadline as a date and time.") from exc
    if when <= utcnow():
        raise AppError(400, "bad_reply_by", "The reply deadline must be in the future.")
    if when > meeting.starts_at:
        raise AppError(
            400, "bad_reply_by", "The reply deadline must not be after the meeting starts."
        )
    return when


async def send(
    state: House,
    meeting_id: int,
    base: str,
    only: int | None = None,
    number: str | None = None,
    reply_by: str | None = None,
) -> None:
    """Make (or renew) the invitations of every invitee, or of user `only`, show them in the
    app, and e-mail each one's PDF to those with an address; one failure stops no other."""
    tz = state.settings.tz
    outgoing: list[_Outgoing] = []
    async with state.db() as db:
        meeting = await db.get_one(Meeting, meeting_id)
        body = await db.get_one(Body, meeting.body_id)
        if meeting.status == MeetingStatus.closed:
            raise AppError(409, "meeting_closed", "The meeting is over; invitations are not sent.")
        if reply_by is not None:
            meeting.reply_by = _reply_by(state, meeting, reply_by)
        number = (number or "").strip()[:64]
        invitees = await _invitees(db, meeting_id)
        if only is not None:
            invitees = [(p, u) for p, u in invitees if p.user_id == only]
            if not invitees:
                raise AppError(404, "not_invited", "That person is not invited to this meeting.")
        found = await _invitations(db, meeting_id)
        now = utcnow()
        first_time = [
            p.user_id for p, _ in invitees if not getattr(found.get(p.user_id), "sent_at", None)
        ]
        for participant, user in invitees:
            invitation = found.get(participant.user_id) or Invitation(
                meeting_id=meeting_id, user_id=participant.user_id, token=new_token()
            )
            invitation.number = number or invitation.number or _default_number(meeting, body)
            invitation.sent_at, invitation.email_error = now, ""
            invitation.emailed_to = user.email if mail_enabled(state.settings) else ""
            db.add(invitation)
            found[participant.user_id] = invitation
        db.add(meeting)
        try:
            await db.flush()
        except IntegrityError:  # the same giấy mời made from another screen this very moment
            await db.rollback()
            raise AppError(
                409,
                "try_again",
                "The invitations were being sent from another screen at this moment; "
                "try once more.",
            ) from None
        for user_id in first_time:  # a new giấy mời in one's notifications (the bell)
            await notifications.notify(
                db,
                [user_id],
                notifications.INVITATION,
                params={"meeting": meeting.title, "starts_at": meeting.starts_at.isoformat()},
                link=f"/invitations/{found[user_id].token}",
                meeting_id=meeting_id,
                mailed=bool(found[user_id].emailed_to),
            )
        for participant, user in invitees:
            invitation = found[participant.user_id]
            if user.email and mail_enabled(state.settings):
                data = await letter(db, meeting, invitation, base, tz)
                outgoing.append(_Outgoing(invitation.id or 0, user.email, data))
        await db.commit()
    failures = {}
    for message in outgoing:  # one at a time: a council's server rarely takes many at once
        try:
            await _mail_one(state, message)
        except MailError as exc:
            failures[message.invitation_id] = exc.code
    if failures:
        async with state.db() as db:
            for invitation_id, code in failures.items():
                row = await db.get_one(Invitation, invitation_id)
                row.email_error = code
                db.add(row)
            await db.commit()


async def _mail_one(state: House, message: _Outgoing) -> None:
    data = message.data
    pdf = await state.renderer.run(invitation_pdf, data)  # PyMuPDF: in the render pool
    text = "\n\n".join(
        [
            f"Kính gửi: {salutation(data)}.",
            *invitation_text(data),
            f"{' '.join(data.signer_titles)}\n{data.signer}",
            "Giấy mời kèm theo (tệp PDF) có mã QR dùng để xác nhận tham dự và điểm danh.",
        ]
    )
    await send_mail(
        state.settings,
        message.address,
        f"Giấy mời: {data.meeting}",
        text,
        attachments=[(f"giay-moi-{data.number.replace('/', '-')}.pdf", pdf, "application/pdf")],
    )


# ---------------------------------------------------------------------------
# Replies


async def reply(
    db: AsyncSession, state: House, invitation: Invitation, answer: str, reason: str
) -> Any:
    """Keep the invitee's reply (before the deadline) and bring attendance in line with it:
    absent with a reason marks them excused; withdrawing that absence unmarks it. Returns the
    attendance event to publish, if any."""
    reason = " ".join(reason.split())
    if answer not in REPLIES:
        raise AppError(400, "bad_reply", "Choose: in person, online, or absent.")
    if answer == "absent" and not reason:
        raise AppError(400, "reason_needed", "Give the reason you will be absent.")
    if len(reason) > MAX_REASON:
        raise AppError(400, "reason_too_long", "The reason is too long (at most 300 characters).")
    meeting = await db.get_one(Meeting, invitation.meeting_id)
    if utcnow() >= deadline(meeting) or meeting.status not in OPEN_STATUSES:
        raise AppError(
            409,
            "reply_closed",
            "Replies to this invitation closed at {when}; tell the secretary directly.",
            when=deadline(meeting).astimezone(state.settings.tz).strftime("%H:%M %d/%m/%Y"),
        )
    before = (invitation.reply, invitation.reason)
    invitation.reply = answer
    invitation.reason = reason if answer == "absent" else ""
    invitation.replied_at = utcnow()
    db.add(invitation)
    return await _attendance_follows(db, invitation, before)


async def _attendance_follows(
    db: AsyncSession, invitation: Invitation, before: tuple[str, str]
) -> Any:
    current = (
        await db.exec(
            select(Attendance).where(
                Attendance.meeting_id == invitation.meeting_id,
                Attendance.user_id == invitation.user_id,
            )
        )
    ).first()
    mine = current is not None and before[0] == "absent" and current.status == "excused"
    if invitation.reply == "absent":
        if current is not None and current.status not in ("excused", "absent"):
            return None  # already checked in: the hall knows better than a reply
        status, reason = "excused", invitation.reason
    elif mine and current is not None and current.reason == before[1]:
        status, reason = "absent", ""  # the excuse was this reply's: take it back
    else:
        return None
    return await attendance.mark(
        db, invitation.meeting_id, invitation.user_id, status, reason, invitation.user_id
    )


# ---------------------------------------------------------------------------
# Routes


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _panel_context(
    db: AsyncSession, state: House, request: Request, meeting_id: int
) -> dict[str, Any]:
    access = request.state.access
    meeting = access.meeting
    context: dict[str, Any] = {
        "meeting": meeting,
        "tz": state.settings.tz,
        "reply_names": REPLY_NAMES,
        "deadline": deadline(meeting),
        "open": utcnow() < deadline(meeting) and meeting.status in OPEN_STATUSES,
        "manages": access.can("manage"),
        "mine": None,
    }
    found = await _invitations(db, meeting_id)
    mine = found.get(request.user.id)
    if mine is not None and mine.sent_at is not None:
        context["mine"] = mine
    if access.can("manage"):
        context.update(
            rows=[(p, u, found.get(p.user_id)) for p, u in await _invitees(db, meeting_id)],
            forecast=await forecast(db, meeting_id),
            mail_on=mail_enabled(state.settings),
            failures=FAILURES,
            role_names=ROLE_NAMES,
        )
    return context


@get("/meetings/{meeting_id:int}/invitations", guards=[meeting_permission])
async def invitations_panel(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    """The meeting page's invitations: the secretary's list and forecast, or one's own."""
    context = await _panel_context(db, state, request, meeting_id)
    return Template("fragments/invitations.html", context=context)


@post(
    "/meetings/{meeting_id:int}/invitations/send",
    guards=[meeting_permission],
    opt={"permission": "manage"},
)
async def send_all(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response:
    form = await form_of(request)
    await send(
        state,
        meeting_id,
        _base(request),
        number=str(form.get("number") or ""),
        reply_by=str(form.get("reply_by") or ""),
    )
    return await _after(request, db, state, meeting_id)


@post(
    "/meetings/{meeting_id:int}/invitations/{user_id:int}/send",
    guards=[meeting_permission],
    opt={"permission": "manage"},
)
async def send_one(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    user_id: FromPath[int],
) -> Response:
    await send(state, meeting_id, _base(request), only=user_id)
    return await _after(request, db, state, meeting_id)


async def _after(request: Request, db: AsyncSession, state: House, meeting_id: int) -> Response:
    if request.headers.get("hx-request"):
        db.expire_all()
        context = await _panel_context(db, state, request, meeting_id)
        return Template("fragments/invitations.html", context=context)
    return Redirect(f"/meetings/{meeting_id}", status_code=303)


async def _invitation_of(request: Request, db: AsyncSession, token: str) -> Invitation:
    """The invitation the token names, for its invitee or someone who runs the meeting."""
    invitation = (
        (await db.exec(select(Invitation).where(Invitation.token == token[:64]))).first()
        if token
        else None
    )
    if invitation is None or invitation.sent_at is None:
        raise AppError(
            404,
            "no_invitation",
            "There is no such invitation: check the link or the QR code, or ask the secretary.",
        )
    if invitation.user_id == request.user.id:
        participant = (
            await db.exec(
                select(Participant.id).where(
                    Participant.meeting_id == invitation.meeting_id,
                    Participant.user_id == invitation.user_id,
                )
            )
        ).first()
        if participant is None:
            raise AppError(404, "not_invited", "You are no longer invited to this meeting.")
        return invitation
    try:
        manages = (await meeting_access(db, request.user, invitation.meeting_id)).can("manage")
    except AppError:
        manages = False
    if not manages:
        raise AppError(
            403, "not_yours", "This invitation is for another person; sign in as the invitee."
        )
    return invitation


async def _card(
    db: AsyncSession, state: House, request: Request, invitation: Invitation
) -> dict[str, Any]:
    meeting = await db.get_one(Meeting, invitation.meeting_id)
    return {
        "invitation": invitation,
        "meeting": meeting,
        "invitee": await db.get_one(User, invitation.user_id),
        "yours": invitation.user_id == request.user.id,
        "deadline": deadline(meeting),
        "open": utcnow() < deadline(meeting) and meeting.status in OPEN_STATUSES,
        "reply_names": REPLY_NAMES,
        "tz": state.settings.tz,
    }


@get("/invitations/{token:str}", guards=[signed_in])
async def invitation_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, token: FromPath[str]
) -> Template:
    invitation = await _invitation_of(request, db, token)
    return Template("invitation.html", context=await _card(db, state, request, invitation))


@get("/invitations/{token:str}/pdf", guards=[signed_in])
async def invitation_file(
    request: Request, db: NamedDependency[AsyncSession], state: House, token: FromPath[str]
) -> Response:
    invitation = await _invitation_of(request, db, token)
    meeting = await db.get_one(Meeting, invitation.meeting_id)
    data = await letter(db, meeting, invitation, _base(request), state.settings.tz)
    pdf = await state.renderer.run(invitation_pdf, data)
    name = f"giay-moi-{meeting.id}-{invitation.user_id}.pdf"
    return download(pdf, "application/pdf", name, inline=True)


@post("/invitations/{token:str}/reply", guards=[signed_in])
async def reply_route(request: Request, state: House, token: FromPath[str]) -> Response:
    form = await form_of(request)
    async with state.db() as db:
        invitation = await _invitation_of(request, db, token)
        if invitation.user_id != request.user.id:
            raise AppError(403, "not_yours", "Only the invitee may reply to an invitation.")
        event = await reply(
            db, state, invitation, str(form.get("reply") or ""), str(form.get("reason") or "")
        )
        await db.commit()
        meeting_id = invitation.meeting_id
    if event is not None:
        house_of(request).hub.publish_event(event)
    back = str(form.get("back") or "")
    if not request.headers.get("hx-request"):
        return Redirect(f"/invitations/{token}", status_code=303)
    async with state.db_read() as db:
        if back == "panel":
            request.state.access = await meeting_access(db, request.user, meeting_id)
            context = await _panel_context(db, state, request, meeting_id)
            return Template("fragments/invitations.html", context=context)
        invitation = await _invitation_of(request, db, token)
        context = await _card(db, state, request, invitation)
    return Template("fragments/invitation_card.html", context=context)


@get("/invitations", guards=[signed_in])
async def my_invitations(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    """The signed-in person's invitations to meetings still to come (on the meetings list)."""
    rows = await db.exec(
        select(Invitation, Meeting)
        .join(Meeting, col(Meeting.id) == Invitation.meeting_id)
        .join(
            Participant,
            (col(Participant.meeting_id) == Invitation.meeting_id)
            & (col(Participant.user_id) == Invitation.user_id),
        )
        .where(
            Invitation.user_id == request.user.id,
            col(Invitation.sent_at).is_not(None),
            col(Meeting.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Meeting.starts_at))
    )
    now = utcnow()
    found = [(inv, meeting, now < deadline(meeting)) for inv, meeting in rows.all()]
    return Template(
        "fragments/my_invitations.html",
        context={"found": found, "reply_names": REPLY_NAMES, "tz": state.settings.tz},
    )


ROUTES = [
    invitations_panel,
    send_all,
    send_one,
    invitation_page,
    invitation_file,
    reply_route,
    my_invitations,
]
