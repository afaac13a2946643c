"""The meeting socket, `GET /ws/meetings/{id}`: handshake checks, catch-up, command dispatch."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from sqlmodel import col, select

from server import logs
from server.access import MeetingAccess, meeting_access
from server.auth import SESSION_COOKIE, account, must_choose_password, session_key
from server.errors import AppError
from server.house import house_of
from server.i18n import language_of, translations
from server.live.hub import CLOSE_FORBIDDEN, Connection, dumps, event_message
from server.live.protocol import Hook, Refusal, Session
from server.metrics import HELLO
from server.models import JournalEvent, Meeting
from server.origins import allowed_origin

log = logging.getLogger("phonghop.live")

MAX_MESSAGE_BYTES = 256 * 1024
REPLAY_LIMIT = 1000  # a tablet further behind than this is sent a snapshot instead
CLOSE_NOT_SIGNED_IN = 4401
_REMEMBERED_IDS = 512
MAX_ID_LENGTH = 64
# What one tablet may send, as (per second, burst): a pen, a ballot and catching up after
# a night offline fit; a script flooding the hall does not.
MESSAGES_PER_S = (20, 100)
BYTES_PER_S = (256 * 1024, 1024 * 1024)
HELLO_SNAPSHOT, HELLO_REPLAY = HELLO.of("snapshot"), HELLO.of("replay")
_TOO_FAST = Refusal("too_fast", "Too many messages at once; wait a moment and try again.")


# Signed in here rather than by the middleware: the account and the meeting are read together.
@websocket("/ws/meetings/{meeting_id:int}", opt={"exclude_from_auth": True})
async def meeting_socket(socket: WebSocket, meeting_id: FromPath[int]) -> None:
    """One tablet in one meeting. See DESIGN.md, "Realtime contract"."""
    state = house_of(socket)
    await socket.accept()
    try:
        access = await _admit(socket, meeting_id)
    except _Turned as away:
        await socket.close(code=away.code, reason=away.reason)
        return
    logs.add_context(user_id=socket.user.id, user=socket.user.username)  # for the socket's life
    connection = Connection(
        socket,
        socket.user.id,
        access.roles(),
        state.hub.queue_limit,
        access=access,
        key=session_key(socket.auth),
        credential=socket.user.password_hash,
    )
    session = Session(state, meeting_id, socket.user, connection, language_of(socket))
    await state.hub.join(meeting_id, connection)
    pump = asyncio.create_task(connection.pump())
    try:
        await _run_hooks(state.protocol.on_connect, session)
        await _serve(session)
    finally:
        connection.finish()
        await state.hub.leave(meeting_id, connection)
        await _stop(pump)
        await _run_hooks(state.protocol.on_disconnect, session)
        log.debug("socket closed after %.0f s", time.monotonic() - connection.opened)


class _Turned(Exception):
    """The socket is closed at once with `code` (4401, 4403)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _admit(socket: WebSocket, meeting_id: int) -> MeetingAccess:
    """The caller's access to the meeting, after the Origin and sign-in checks."""
    origin = socket.headers.get("origin")
    if origin is not None and not allowed_origin(socket, origin):
        raise _Turned(CLOSE_FORBIDDEN, "origin not allowed")
    state = house_of(socket)
    token = socket.cookies.get(SESSION_COOKIE)
    # not renewed here: a hall reconnecting would rewrite 500 session files at once, and the
    # reader's page requests renew it anyway
    user_id = await state.sessions.user_id(token, renew=False) if token else None
    if user_id is None:
        raise _Turned(CLOSE_NOT_SIGNED_IN, "not signed in")
    async with state.db_read() as db:
        user = await account(db, user_id)
        if user is None:
            raise _Turned(CLOSE_NOT_SIGNED_IN, "not signed in")
        if must_choose_password(user, socket.url.path):
            raise _Turned(CLOSE_FORBIDDEN, "must choose a password first")
        try:
            access = await meeting_access(db, user, meeting_id)
        except AppError as refusal:
            raise _Turned(CLOSE_FORBIDDEN, "not a participant") from refusal
    socket.scope["user"], socket.scope["auth"] = user, token
    return access


class Budget:
    """How much one socket may send: a burst, then a steady rate."""

    def __init__(self, per_s: float, burst: float) -> None:
        self._per_s, self._burst = per_s, burst
        self._left, self._at = burst, time.monotonic()

    def take(self, amount: float) -> bool:
        now = time.monotonic()
        self._left = min(self._burst, self._left + (now - self._at) * self._per_s)
        self._at = now
        if amount > self._left:
            return False
        self._left -= amount
        return True


async def _serve(session: Session) -> None:
    socket = session.connection.socket
    seen: deque[Any] = deque(maxlen=_REMEMBERED_IDS)
    messages, volume = Budget(*MESSAGES_PER_S), Budget(*BYTES_PER_S)
    while not session.connection.ended:
        try:
            raw = await socket.receive_text()
        except WebSocketDisconnect:
            return
        size = len(raw.encode())
        paced = not session.access.can("preside")  # the chair may turn pages at any pace
        if not (volume.take(size) and (not paced or messages.take(1))):
            reply = _error(session, _id_of(raw), _TOO_FAST)
        else:
            reply = await _answer(session, raw, size, seen)
        if reply is not None:
            session.connection.send(dumps(reply))


def _id_of(raw: str) -> Any:
    """The message's id, if it has a good one, for a refusal made before it is run."""
    try:
        message_id = json.loads(raw).get("id") if len(raw) <= MAX_MESSAGE_BYTES else None
    except (ValueError, AttributeError):
        return None
    return message_id if _good_id(message_id) else None


def _good_id(message_id: Any) -> bool:
    if isinstance(message_id, str):
        return len(message_id) <= MAX_ID_LENGTH
    return (
        isinstance(message_id, int)
        and not isinstance(message_id, bool)
        and -(2**63) <= message_id < 2**63
    )


async def _answer(session: Session, raw: str, size: int, seen: deque[Any]) -> dict[str, Any] | None:
    """The ack or error for one client message."""
    if size > MAX_MESSAGE_BYTES:
        return _error(session, None, Refusal("too_large", "The message is too large."))
    try:
        message = json.loads(raw)
    except ValueError:
        return _error(session, None, Refusal("bad_json", "The message is not valid JSON."))
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return _error(session, None, Refusal("bad_message", "A message needs a type."))
    message_id = message.get("id")
    if not _good_id(message_id):
        return _error(session, None, Refusal("bad_message", "A message needs an id."))
    if message_id in seen:
        return {"type": "ack", "id": message_id, "repeat": True}  # a retry: done once already
    try:
        extra = await _run(session, message)
    except Refusal as refusal:
        return _error(session, message_id, refusal)
    except AppError as refusal:
        return _error(session, message_id, Refusal(refusal.code, refusal.message, **refusal.params))
    except Exception:
        log.exception("command %s failed", message["type"])
        failure = Refusal("internal", "Something went wrong on the server; the error was logged.")
        return _error(session, message_id, failure)
    seen.append(message_id)
    return {"type": "ack", "id": message_id, **(extra or {})}


async def _run(session: Session, message: dict[str, Any]) -> dict[str, Any] | None:
    kind = message["type"]
    if session.connection.closing:
        raise Refusal("access_lost", "You no longer have access to this meeting.")
    if kind == "hello":
        return await _hello(session, message.get("since"))
    if not session.connection.greeted:
        raise Refusal("hello_first", "Send hello before anything else.")
    command = session.state.protocol.commands.get(kind)
    if command is None:
        raise Refusal("unknown_type", "Unknown message type: {type}.", type=kind[:40])
    if not session.access.can(command.permission):
        raise Refusal("forbidden", "You do not have permission to do this.")
    return await command.handler(session, message)


def _error(session: Session, message_id: Any, refusal: Refusal) -> dict[str, Any]:
    gettext = translations(session.language).gettext
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in refusal.params.items()}
    text = gettext(refusal.message).format(**params) if params else gettext(refusal.message)
    return {"type": "error", "id": message_id, "code": refusal.code, "message": text}


async def _hello(session: Session, since: Any) -> dict[str, Any]:
    """Catches the tablet up: the events it missed, in order, or a snapshot."""
    connection = session.connection
    connection.hold()
    last, began = 0, time.perf_counter()
    try:
        missed, message = None, ""
        async with session.state.db_read() as db:
            seq = select(Meeting.last_seq).where(Meeting.id == session.meeting_id)
            last = (await db.exec(seq)).one()
            if _can_replay(since, last):
                missed = await _missed(db, session, since, last)
            else:
                message = await session.state.snapshots.message(db, session, last)
        if missed is None:
            connection.send(message)
            HELLO_SNAPSHOT.observe(time.perf_counter() - began)
            return {"seq": last}
        for event in missed:  # more than a queue's worth: each waits for room
            await connection.send_waiting(event_message(event))
        HELLO_REPLAY.observe(time.perf_counter() - began)
        return {"seq": last, "replayed": last - since}
    finally:
        connection.release(up_to_seq=last)


def _can_replay(since: Any, last: int) -> bool:
    if not isinstance(since, int) or isinstance(since, bool):
        return False
    return 0 <= since <= last and last - since <= REPLAY_LIMIT


async def _missed(db: Any, session: Session, since: int, last: int) -> list[JournalEvent]:
    """Events after `since` up to `last`: later ones come live (each statement on
    PostgreSQL sees what was committed when it ran, so newer rows may show up here)."""
    rows = await db.exec(
        select(JournalEvent)
        .where(
            JournalEvent.meeting_id == session.meeting_id,
            JournalEvent.seq > since,
            JournalEvent.seq <= last,
            (col(JournalEvent.private_to).is_(None)) | (JournalEvent.private_to == session.user_id),
        )
        .order_by(JournalEvent.seq)
    )
    return list(rows.all())


async def _run_hooks(hooks: list[Hook], session: Session) -> None:
    for hook in hooks:
        try:
            await hook(session)
        except Exception:
            log.exception("%s failed", getattr(hook, "__name__", hook))


async def _stop(task: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(task, timeout=2)
    except (TimeoutError, asyncio.CancelledError, Exception):
        task.cancel()
