"""Notifications: what each person should know (a new invitation, a book published or a paper
replaced, a deadline near, a written vote opened), in an in-app list and by e-mail for those
who want it.

Other capabilities call `notify` inside their own transaction (it only adds rows) and
`remind` / `cancel` for a notification due later. The sentence is made when it is shown, in the
reader's language, from the kind and its params (`KINDS`); params whose name ends in `_at` are
ISO times, shown on the council's clock. A background `Postman` in each server process turns
due reminders into notifications and sends the e-mails; rows are claimed by a conditional
UPDATE, so with several processes each reminder fires once and each e-mail goes once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import signed_in
from server.errors import form_of, not_found
from server.house import House
from server.i18n import DEFAULT_LANGUAGE, N_, language_of, translate, translations
from server.mail import mail_enabled, valid_address
from server.models import (
    Document,
    Meeting,
    MeetingRole,
    MeetingStatus,
    Notification,
    Participant,
    Reminder,
    User,
    utcnow,
)

log = logging.getLogger("phonghop.notifications")

# kinds, and the params each one's sentence uses
INVITATION = "invitation"  # meeting, starts_at
BOOK_PUBLISHED = "book.published"  # meeting, version
BOOK_REPLACED = "document.replaced"  # meeting, document, version
DEADLINE_NEAR = "deadline.near"  # task (a key of TASKS), title, due_at
WRITTEN_VOTE_OPENED = "written_vote.opened"  # title, due_at

KINDS: dict[str, str] = {
    INVITATION: N_("Invitation to “{meeting}”, {starts_at}."),
    BOOK_PUBLISHED: N_("The documents of “{meeting}” were published (version {version})."),
    BOOK_REPLACED: N_("“{document}” of “{meeting}” was replaced by version {version}."),
    DEADLINE_NEAR: N_("Deadline near: {task} “{title}”, due {due_at}."),
    WRITTEN_VOTE_OPENED: N_("A written vote is open: “{title}”, until {due_at}."),
}
# what a deadline is for (DEADLINE_NEAR's `task`)
TASKS: dict[str, str] = {
    "opinion": N_("opinions on the draft"),
    "written_vote": N_("written vote"),
}
SUBJECT = N_("Paperless meeting room: {text}")

EVERY_S = 10.0  # how often each server looks for due reminders and e-mails
MAIL_TRIES = 5  # an e-mail that failed this often is given up (logged as an error)
MAIL_CLAIM = timedelta(minutes=5)  # a server that claimed an e-mail and died: others retry after
MAIL_RETRY = timedelta(minutes=2)  # the wait after a failure, doubled each time
# older than this (e-mail was off, or the servers stopped): news no longer, not sent
MAIL_STALE = timedelta(days=2)
BATCH = 100  # rows taken per look
TIME_FORMAT = "%H:%M %d/%m/%Y"

SendMail = Callable[[str, str, str], Awaitable[None]]  # to, subject, text


# what a browser reads as a slash or drops: a link holding one might leave the server
UNSAFE = re.compile(r"[\\\x00-\x20\x7f]")


def local(link: str) -> bool:
    """A path on this server, also as a browser reads it: a backslash is a slash to it, and it
    drops tabs and line breaks, so `/\\x` and `/\\t/x` would both go to the site x."""
    return link.startswith("/") and not link.startswith("//") and not UNSAFE.search(link)


def _check(kind: str, link: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not local(link):
        raise ValueError("a notification links to a path on this server")


async def notify(
    db: AsyncSession,
    user_ids: Iterable[int],
    kind: str,
    *,
    params: dict[str, Any],
    link: str,
    meeting_id: int | None = None,
    mailed: bool = False,
) -> None:
    """Adds a notification for each active account among `user_ids`, in the caller's
    transaction; the e-mails go later, from the Postman, to those who want them, unless the
    caller sends its own (`mailed`: a giấy mời comes by e-mail with its PDF)."""
    _check(kind, link)
    wanted = set(user_ids)
    if not wanted:
        return
    rows = await db.exec(
        select(User.id, User.email, User.email_notifications).where(
            col(User.id).in_(wanted), col(User.active).is_(True)
        )
    )
    for user_id, email, by_mail in rows.all():
        assert user_id is not None  # read from the table
        db.add(
            Notification(
                user_id=user_id,
                kind=kind,
                meeting_id=meeting_id,
                params=dict(params),
                link=link,
                mail_due=bool(by_mail and email) and not mailed,
            )
        )


async def remind(
    db: AsyncSession,
    key: str,
    due_at: datetime,
    user_ids: Iterable[int],
    kind: str,
    *,
    params: dict[str, Any],
    link: str,
    meeting_id: int | None = None,
) -> None:
    """Schedules a notification for `due_at` (at once when past), in the caller's transaction;
    a reminder with the same `key` is replaced (and fires again, even if it had)."""
    _check(kind, link)
    if due_at.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    reminder = (await db.exec(select(Reminder).where(Reminder.key == key))).first()
    reminder = reminder or Reminder(key=key, due_at=due_at, kind=kind)
    reminder.due_at, reminder.kind, reminder.link = due_at, kind, link
    reminder.user_ids = sorted(set(user_ids))
    reminder.params, reminder.meeting_id, reminder.sent_at = dict(params), meeting_id, None
    db.add(reminder)


async def cancel(db: AsyncSession, key: str) -> None:
    """Forgets the reminder with `key`, if any (the deadline was withdrawn or met)."""
    await db.exec(delete(Reminder).where(col(Reminder.key) == key))


# --- what the meetings say -----------------------------------------------------------------


async def participants_of(
    db: AsyncSession, meeting_id: int, *, but: int | None = None, observers: bool = True
) -> list[int]:
    """The meeting's participants (all but `but`, who did it), observers too unless not."""
    query = select(Participant.user_id).where(Participant.meeting_id == meeting_id)
    if not observers:
        query = query.where(Participant.role != MeetingRole.observer)
    return [user_id for user_id in (await db.exec(query)).all() if user_id != but]


async def book_published(db: AsyncSession, meeting: Meeting, version: int, by: int) -> None:
    """Tells the participants that a version of the agenda book is out (its reader opens it)."""
    assert meeting.id is not None
    await notify(
        db,
        await participants_of(db, meeting.id, but=by),
        BOOK_PUBLISHED,
        params={"meeting": meeting.title, "version": version},
        link=f"/meetings/{meeting.id}/read",
        meeting_id=meeting.id,
    )


async def paper_replaced(db: AsyncSession, new: Document, by: int) -> None:
    """Tells those who may read it that a paper has a new version, once its meeting's book is
    out (before that, the secretaries are still making the papers)."""
    meeting = await db.get_one(Meeting, new.meeting_id)
    if meeting.status == MeetingStatus.draft or new.kind != "paper":
        return
    readers = await participants_of(db, new.meeting_id, but=by, observers=not new.confidential)
    await notify(
        db,
        readers,
        BOOK_REPLACED,
        params={"meeting": meeting.title, "document": new.title, "version": new.version},
        link=f"/meetings/{new.meeting_id}/read?document={new.id}",
        meeting_id=new.meeting_id,
    )


# --- what people read ----------------------------------------------------------------------


def sentence(kind: str, params: dict[str, Any], gettext: Callable[[str], str], tz: tzinfo) -> str:
    """The notification in the reader's language; a missing param shows as empty."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("_at") and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value).astimezone(tz).strftime(TIME_FORMAT)
        values[name] = value
    if "task" in values:
        values["task"] = gettext(TASKS.get(str(values["task"]), str(values["task"])))
    template = gettext(KINDS.get(kind, N_("You have a new notification.")))
    return template.format_map(_Blank(values))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


async def unread_count(db: AsyncSession, user_id: int) -> int:
    found = await db.exec(
        select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    )
    return int(found.one())


# --- the background work -------------------------------------------------------------------


async def fire_due_reminders(
    db_maker: async_sessionmaker[AsyncSession],
    read: async_sessionmaker[AsyncSession] | None = None,
) -> int:
    """Turns the reminders that are due into notifications; each fires once, whichever server
    claims it first (the claim and the notifications are one transaction). Looks through
    `read` (on SQLite, no write lock while there is nothing to do). Returns how many."""
    async with (read or db_maker)() as db:
        due = await db.exec(
            select(Reminder.id)
            .where(col(Reminder.sent_at).is_(None), col(Reminder.due_at) <= utcnow())
            .order_by(col(Reminder.due_at))
            .limit(BATCH)
        )
        ids = list(due.all())
    fired = 0
    for reminder_id in ids:
        async with db_maker() as db:
            claimed = await db.exec(  # type: ignore[call-overload]
                sa.update(Reminder)
                .where(col(Reminder.id) == reminder_id, col(Reminder.sent_at).is_(None))
                .values(sent_at=utcnow())
            )
            if claimed.rowcount != 1:
                continue  # another server fired it, or it was re-scheduled meanwhile
            reminder = await db.get_one(Reminder, reminder_id)
            await notify(
                db,
                reminder.user_ids,
                reminder.kind,
                params=reminder.params,
                link=reminder.link,
                meeting_id=reminder.meeting_id,
            )
            await db.commit()
            fired += 1
    return fired


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    text: str
    tries: int  # with this one


async def send_due_mail(
    db_maker: async_sessionmaker[AsyncSession],
    send: SendMail,
    tz: tzinfo,
    base_url: str = "",
    read: async_sessionmaker[AsyncSession] | None = None,
) -> int:
    """Sends the e-mails that are due, each claimed first so no other server sends it too; a
    failure is logged and retried later, at most MAIL_TRIES times. Returns how many went."""
    async with (read or db_maker)() as db:
        due = await db.exec(
            select(Notification.id, Notification.created_at)
            .where(col(Notification.mail_due).is_(True), _not_waiting(utcnow()))
            .order_by(col(Notification.id))
            .limit(BATCH)
        )
        rows = list(due.all())
    cutoff = utcnow() - MAIL_STALE
    stale = [notification_id for notification_id, made in rows if made < cutoff]
    if stale:
        await _drop_stale_mail(db_maker, stale)
    sent = 0
    for notification_id, made in rows:
        if made < cutoff or notification_id is None:
            continue
        letter = await _claim_letter(db_maker, notification_id, tz, base_url)
        if letter is None:
            continue
        try:
            await send(letter.to, letter.subject, letter.text)
        except Exception as failure:  # any mail error: logged, retried later
            await _mail_failed(db_maker, notification_id, letter, failure)
            continue
        await _set(db_maker, notification_id, mail_due=False, emailed_at=utcnow())
        sent += 1
    return sent


async def _drop_stale_mail(
    db_maker: async_sessionmaker[AsyncSession], stale: list[int | None]
) -> None:
    async with db_maker() as db:
        await db.exec(  # type: ignore[call-overload]
            sa.update(Notification).where(col(Notification.id).in_(stale)).values(mail_due=False)
        )
        await db.commit()
    log.warning("%s notifications older than %s not sent by e-mail", len(stale), MAIL_STALE)


def _not_waiting(now: datetime) -> Any:
    return sa.or_(col(Notification.mail_after).is_(None), col(Notification.mail_after) <= now)


async def _claim_letter(
    db_maker: async_sessionmaker[AsyncSession], notification_id: int, tz: tzinfo, base_url: str
) -> Letter | None:
    """The e-mail of one notification, claimed by this server for MAIL_CLAIM; None when another
    server has it, it went meanwhile, or the person no longer wants e-mail."""
    now = utcnow()
    async with db_maker() as db:
        claimed = await db.exec(  # type: ignore[call-overload]
            sa.update(Notification)
            .where(
                col(Notification.id) == notification_id,
                col(Notification.mail_due).is_(True),
                _not_waiting(now),
            )
            .values(mail_after=now + MAIL_CLAIM, mail_tries=Notification.mail_tries + 1)
        )
        if claimed.rowcount != 1:
            return None
        notification = await db.get_one(Notification, notification_id)
        user = await db.get(User, notification.user_id)
        if user is None or not (user.active and user.email and user.email_notifications):
            notification.mail_due = False  # they changed their mind since
            db.add(notification)
            await db.commit()
            return None
        await db.commit()
    gettext = translations(DEFAULT_LANGUAGE).gettext
    text = sentence(notification.kind, notification.params, gettext, tz)
    subject = " ".join(gettext(SUBJECT).format(text=text).split())  # a title's line breaks
    body = f"{text}\n\n{base_url}{notification.link}\n"
    return Letter(user.email, subject, body, notification.mail_tries)


async def _mail_failed(
    db_maker: async_sessionmaker[AsyncSession],
    notification_id: int,
    letter: Letter,
    failure: Exception,
) -> None:
    if letter.tries >= MAIL_TRIES:
        log.error(
            "e-mail of notification %s to %s failed %s times, given up: %r",
            notification_id,
            letter.to,
            letter.tries,
            failure,
        )
        await _set(db_maker, notification_id, mail_due=False, mail_after=None)
        return
    log.warning(
        "e-mail of notification %s to %s failed (try %s of %s), retried later: %r",
        notification_id,
        letter.to,
        letter.tries,
        MAIL_TRIES,
        failure,
    )
    wait = MAIL_RETRY * 2 ** (letter.tries - 1)
    await _set(db_maker, notification_id, mail_after=utcnow() + wait)


async def _set(
    db_maker: async_sessionmaker[AsyncSession], notification_id: int, **values: Any
) -> None:
    async with db_maker() as db:
        await db.exec(  # type: ignore[call-overload]
            sa.update(Notification).where(col(Notification.id) == notification_id).values(**values)
        )
        await db.commit()


class Postman:
    """This server's loop over due reminders and e-mails; never blocked by a slow mail server
    for longer than one e-mail's send (which `send` keeps off the event loop)."""

    def __init__(
        self,
        db_maker: async_sessionmaker[AsyncSession],
        send: SendMail | None,
        tz: tzinfo,
        base_url: str = "",
        every_s: float = EVERY_S,
        read: async_sessionmaker[AsyncSession] | None = None,  # looks without the write lock
    ) -> None:
        self._db, self._read, self._send, self._tz = db_maker, read, send, tz
        self._base_url, self._every_s = base_url, every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._rounds())

    async def _rounds(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # the database away for a moment: try again next round
                log.exception("notifications: a round failed")
            await asyncio.sleep(self._every_s)

    async def round(self) -> None:
        await fire_due_reminders(self._db, self._read)
        if self._send is not None:
            await send_due_mail(self._db, self._send, self._tz, self._base_url, self._read)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --- pages ---------------------------------------------------------------------------------

LIST_LENGTH = 100  # the newest this many are listed


def _views(request: Request, rows: list[Notification], tz: tzinfo) -> list[dict[str, Any]]:
    gettext = translations(language_of(request)).gettext
    return [
        {
            "id": n.id,
            "kind": n.kind,
            "text": sentence(n.kind, n.params, gettext, tz),
            "link": n.link,
            "meeting_id": n.meeting_id,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in rows
    ]


async def _newest(db: AsyncSession, user_id: int) -> list[Notification]:
    rows = await db.exec(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(col(Notification.id).desc())
        .limit(LIST_LENGTH)
    )
    return list(rows.all())


async def _page(
    request: Request,
    db: AsyncSession,
    state: House,
    error: str = "",
    typed: tuple[str, bool] | None = None,  # what a refused form held, shown again
) -> Template:
    user = await db.get_one(User, request.user.id)  # as saved just now, not as remembered
    assert user.id is not None
    email, by_mail = typed or (user.email, user.email_notifications)
    return Template(
        "notifications.html",
        context={
            "notifications": _views(request, await _newest(db, user.id), state.settings.tz),
            "unread": await unread_count(db, user.id),
            "email": email,
            "by_mail": by_mail,
            "mail_on": mail_enabled(state.settings),
            "error": error,
            "tz": state.settings.tz,
        },
        status_code=400 if error else 200,
        # never shown again from the cache (the back button): what was opened since is read
        headers={"Cache-Control": "private, no-store"},
    )


@get("/notifications", guards=[signed_in])
async def notifications_page(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    return await _page(request, db, state)


@get("/notifications/bell", guards=[signed_in])
async def bell(request: Request, db: NamedDependency[AsyncSession]) -> Template:
    """The header's bell with the unread count; the page asks again every minute (htmx)."""
    count = await unread_count(db, request.user.id)
    return Template("fragments/bell.html", context={"unread": count})


class NotificationOut(TypedDict):
    id: int | None
    kind: str
    text: str  # in the caller's language
    link: str
    meeting_id: int | None
    created_at: str
    read: bool


class NotificationsOut(TypedDict):
    unread: int
    notifications: list[NotificationOut]


@get("/api/notifications", guards=[signed_in])
async def notifications_json(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> NotificationsOut:
    """The caller's newest notifications, their sentence in the caller's language."""
    user_id = request.user.id
    views = _views(request, await _newest(db, user_id), state.settings.tz)
    for view in views:
        view["created_at"] = view["created_at"].isoformat()
    unread = await unread_count(db, user_id)
    return {"unread": unread, "notifications": cast(list[NotificationOut], views)}


@get("/notifications/{notification_id:int}/open", guards=[signed_in])
async def open_notification(
    request: Request, state: House, notification_id: FromPath[int]
) -> Redirect:
    """Marks one of the caller's notifications read and goes where it points."""
    async with state.db() as db:  # a GET, but it writes: the writers' session
        notification = await db.get(Notification, notification_id)
        if notification is None or notification.user_id != request.user.id:
            raise not_found("notification")  # another's is not revealed
        if notification.read_at is None:
            notification.read_at = utcnow()
            db.add(notification)
            await db.commit()
        return Redirect(
            notification.link if local(notification.link) else "/notifications", status_code=303
        )


@post("/notifications/read", guards=[signed_in])
async def mark_all_read(request: Request, db: NamedDependency[AsyncSession]) -> Redirect:
    await db.exec(  # type: ignore[call-overload]
        sa.update(Notification)
        .where(col(Notification.user_id) == request.user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    await db.commit()
    return Redirect("/notifications", status_code=303)


@post("/notifications/settings", guards=[signed_in])
async def save_settings(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Response:
    """The person's own e-mail address and whether notifications also go there."""
    form = await form_of(request)
    email = str(form.get("email") or "").strip()
    by_mail = form.get("email_notifications") in ("on", "1", "true")
    error = ""
    if email and not valid_address(email):
        error = N_("The e-mail address is not valid.")
    elif by_mail and not email:
        error = N_("Enter an e-mail address to receive notifications by e-mail.")
    if error:
        return await _page(request, db, state, translate(request, error), (email, by_mail))
    user = await db.get_one(User, request.user.id)
    user.email, user.email_notifications = email, by_mail
    db.add(user)
    await db.commit()
    return Redirect("/notifications?saved=1#settings", status_code=303)


ROUTES = [
    notifications_page,
    bell,
    notifications_json,
    open_notification,
    mark_all_read,
    save_settings,
]
