"""Signing in and out: sessions, the authentication middleware, login throttling."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.stores.base import Store
from redis.asyncio import Redis
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import logs
from server.errors import AppError, form_of
from server.house import House, house_of
from server.i18n import translate
from server.models import User
from server.settings import Settings
from server.users import FIRST_ADMIN_COMMAND

log = logging.getLogger("phonghop.auth")
SESSION_COOKIE = "phonghop_session"
_RENEW_AFTER_S = 60  # rewrite the session's expiry at most once a minute per session


def session_key(token: str) -> str:
    # The store keeps a hash, so a copy of it holds no usable session ids.
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Server-side sessions in a Litestar store, expiring after `idle_s` without a request."""

    def __init__(self, store: Store, idle_s: int) -> None:
        self._store = store
        self._idle_s = idle_s

    async def start(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        await self._write(token, {"user_id": user.id, "seen": time.time()})
        return token

    async def user_id(self, token: str, renew: bool = True) -> int | None:
        """Whose session `token` is; `renew` moves its expiry on (at most once a minute)."""
        raw = await self._store.get(session_key(token))
        if raw is None:
            return None
        data = json.loads(raw)
        if renew and time.time() - data["seen"] > _RENEW_AFTER_S:
            data["seen"] = time.time()
            await self._write(token, data)
        return int(data["user_id"])

    async def end(self, token: str) -> None:
        await self._store.delete(session_key(token))

    async def _write(self, token: str, data: dict[str, Any]) -> None:
        await self._store.set(session_key(token), json.dumps(data), expires_in=self._idle_s)


class LoginThrottle:
    """Failed sign-ins per account and per client address within a window.

    Every try takes a place for its account and its address before the password is checked,
    and keeps it when the password is wrong: tries sent at once can never outnumber the limit.
    A try that finds the places all held by failures is refused; one that finds some held by
    tries still being checked waits for them (a hall signing in at once through one address).
    """

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self._places = (
            _RedisPlaces(redis, f"{settings.redis_prefix}:login") if redis else _MemoryPlaces()
        )
        self._window = settings.login_window_seconds
        self._limits = (settings.login_max_failures, settings.address_max_failures)
        self._waiting: deque[asyncio.Future[None]] = deque()  # tries here waiting for a place

    @asynccontextmanager
    async def attempt(self, username: str, address: str) -> AsyncIterator[Attempt]:
        """Holds the places of one try; it counts as failed unless `passed()` is called.

        Raises AppError 429 when no place is free."""
        keys = (f"user:{username}", f"addr:{address}")
        await self._take(keys)
        attempt = Attempt()
        try:
            yield attempt
        finally:
            await self._places.settle(keys, attempt.ok)
            self._wake_one()

    async def _take(self, keys: tuple[str, str]) -> None:
        deadline = time.monotonic() + _QUEUE_S
        pause = _FIRST_PAUSE_S
        while (wait := await self._places.take(keys, self._limits, self._window)) == _BUSY:
            if time.monotonic() > deadline:
                raise AppError(
                    429, "login_busy", "Too many sign-ins at once; try again in a minute."
                )
            # Woken when a try here settles; another process's shows at the next look.
            await self._settled(within=pause)
            pause = min(2 * pause, _LAST_PAUSE_S)
        if wait:
            self._wake_one()  # the next waiting try may be refused as well
            raise AppError(
                429,
                "login_throttled",
                "Too many failed sign-ins. Try again in {minutes} min.",
                minutes=max(1, (wait + 59) // 60),
            )

    async def _settled(self, within: float) -> None:
        if len(self._waiting) > 1000:
            self._waiting = deque(w for w in self._waiting if not w.done())
        place = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        with suppress(TimeoutError):
            await asyncio.wait_for(place, within)

    def _wake_one(self) -> None:
        """One waiting try looks again: a settled try frees at most one place."""
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(None)
                return


class Attempt:
    """One sign-in try holding its places."""

    def __init__(self) -> None:
        self.ok = False

    def passed(self) -> None:
        """The password was right: the account's failures are forgotten, the places given back."""
        self.ok = True


_BUSY = -1  # every free place is held by a try still being checked
_QUEUE_S = 30.0
_FIRST_PAUSE_S, _LAST_PAUSE_S = 0.02, 0.25


@dataclass
class _Count:
    until: float  # time.monotonic() when the window ends
    failed: int = 0
    pending: int = 0


class _MemoryPlaces:
    """One process: taking and settling never await, so each is atomic on the event loop."""

    def __init__(self) -> None:
        self._counts: dict[str, _Count] = {}

    async def take(self, keys: tuple[str, str], limits: tuple[int, int], window: int) -> int:
        """0 when both places are taken, _BUSY, else the seconds until the window ends."""
        now = time.monotonic()
        if len(self._counts) > 10_000:
            self._counts = {k: c for k, c in self._counts.items() if c.until > now}
        counts = [self._live(key, now) for key in keys]
        held = [(c, limit) for c, limit in zip(counts, limits, strict=True) if c is not None]
        if full := [c.until for c, limit in held if c.failed >= limit]:
            return max(1, math.ceil(max(full) - now))
        if any(c.failed + c.pending >= limit for c, limit in held):
            return _BUSY
        for key, count in zip(keys, counts, strict=True):
            count = count or self._counts.setdefault(key, _Count(until=now + window))
            count.pending += 1
        return 0

    async def settle(self, keys: tuple[str, str], passed: bool) -> None:
        now = time.monotonic()
        for n, key in enumerate(keys):
            count = self._live(key, now)
            if count is None:
                continue  # the window ended while the password was checked
            count.pending = max(0, count.pending - 1)
            if not passed:
                count.failed += 1
            elif n == 0:  # the account's failures are forgotten, not the address's
                count.failed = 0
            if not count.failed and not count.pending:
                del self._counts[key]

    def _live(self, key: str, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and count.until <= now:
            del self._counts[key]
            return None
        return count


# The same rules as _MemoryPlaces, each run atomically in Redis (one round trip).
_TAKE = """
local wait, busy = 0, false
for i, key in ipairs(KEYS) do
  local failed = tonumber(redis.call('HGET', key, 'failed') or 0)
  local pending = tonumber(redis.call('HGET', key, 'pending') or 0)
  local limit = tonumber(ARGV[i + 1])
  if failed >= limit then
    wait = math.max(wait, redis.call('TTL', key), 1)
  elseif failed + pending >= limit then
    busy = true
  end
end
if wait > 0 then return wait end
if busy then return -1 end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'pending', 1)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 0
"""
_SETTLE = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    local pending = tonumber(redis.call('HGET', key, 'pending') or 0)
    if pending > 0 then pending = redis.call('HINCRBY', key, 'pending', -1) end
    local failed = 0
    if ARGV[1] == '0' then
      failed = redis.call('HINCRBY', key, 'failed', 1)
    elseif i == 1 then
      redis.call('HSET', key, 'failed', 0)
    else
      failed = tonumber(redis.call('HGET', key, 'failed') or 0)
    end
    if failed == 0 and pending == 0 then redis.call('DEL', key) end
  end
end
return 0
"""


class _RedisPlaces:
    """Several processes: the counts live in Redis under `namespace`."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._namespace = namespace
        self._take = redis.register_script(_TAKE)
        self._settle = redis.register_script(_SETTLE)

    async def take(self, keys: tuple[str, str], limits: tuple[int, int], window: int) -> int:
        return int(await self._take(keys=self._keys(keys), args=[window, *limits]))

    async def settle(self, keys: tuple[str, str], passed: bool) -> None:
        await self._settle(keys=self._keys(keys), args=[int(passed)])

    def _keys(self, keys: tuple[str, str]) -> list[str]:
        return [f"{self._namespace}:{key}" for key in keys]


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Puts the signed-in `User` (or None) on every request and websocket."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        state = house_of(connection)
        user = state.recent_users.get(token)
        if user is None:
            user = await self._user(state, token)
            if user is None:
                return AuthenticationResult(user=None, auth=None)
            state.recent_users.put(token, user)
        return AuthenticationResult(user=user, auth=token)

    @staticmethod
    async def _user(state: House, token: str) -> User | None:
        user_id = await state.sessions.user_id(token)
        if user_id is None:
            return None
        async with state.db_read() as db:
            return await account(db, user_id)


async def account(db: AsyncSession, user_id: int) -> User | None:
    """The account a session is signed in as, while it may still sign in."""
    user = await db.get(User, user_id)
    return user if user is not None and user.active else None


@dataclass
class Credentials:
    username: str
    password: str
    next: str = "/"


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _session_cookie(request: Request, value: str, max_age: int) -> Cookie:
    settings: Settings = house_of(request).settings
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


async def sign_in(request: Request, creds: Credentials) -> User:
    """Checks the credentials and throttling; raises AppError on refusal."""
    state = house_of(request)
    username = creds.username.strip().lower()
    async with state.throttle.attempt(username, _client_address(request)) as attempt:
        async with state.db_read() as db:
            user = (await db.exec(select(User).where(User.username == username))).first()
        stored = user.password_hash if user and user.active else None
        ok, needs_rehash = await state.passwords.verify(stored, creds.password)
        if not ok or user is None:
            raise AppError(401, "bad_credentials", "Wrong username or password.")
        attempt.passed()
    if needs_rehash:
        user.password_hash = await state.passwords.hash(creds.password)
        async with state.db() as db:
            db.add(user)
            await db.commit()
    return user


async def _start_session(request: Request, user: User) -> Cookie:
    state = house_of(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await state.sessions.end(old)  # a fresh id on every sign-in: no session fixation
        state.recent_users.forget(old)
        state.rights.signed_out(session_key(old))  # and the old session's sockets close
    token = await state.sessions.start(user)
    return _session_cookie(request, token, state.settings.session_idle_minutes * 60)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "body_id": user.body_id,
        "must_change_password": user.must_change_password,
    }


# What an account that must choose its own password may still open.
_BEFORE_PASSWORD = ("/password", "/logout", "/login", "/lang/", "/static/", "/reset/", "/healthz")


def must_choose_password(user: User | None, path: str) -> bool:
    """The account (new, or reset by an admin) must choose its password before using `path`.

    Decided here for every page, API route (`password_first`) and meeting socket."""
    return bool(user and user.must_change_password) and not path.startswith(_BEFORE_PASSWORD)


async def password_first(request: Request) -> Response | None:
    """Before every route: an account that must choose its password is sent to do that."""
    if not must_choose_password(request.scope.get("user"), request.url.path):
        return None
    if request.headers.get("hx-request"):
        return Response(b"", headers={"HX-Redirect": "/password"})
    if request.url.path.startswith("/api/"):
        message = translate(request, "Choose your own password first.")
        return Response({"code": "must_change_password", "message": message}, status_code=403)
    return Redirect("/password", status_code=303)


@get("/login")
async def login_page(db: NamedDependency[AsyncSession], next: FromQuery[str] = "/") -> Template:
    """The sign-in form; on an install without accounts it says how to make the first admin."""
    no_accounts = (await db.exec(select(User.id).limit(1))).first() is None
    context = {"next": _safe_next(next), "error": None, "no_accounts": no_accounts}
    return Template("login.html", context={**context, "first_admin": FIRST_ADMIN_COMMAND})


@post("/login", status_code=200)
async def login(request: Request) -> Response:
    """Form or JSON `{username, password}`; JSON gets the user, a form gets a redirect."""
    is_json = request.content_type[0] == "application/json"
    payload = await _json_body(request) if is_json else dict(await form_of(request))
    creds = _credentials(payload)
    try:
        user = await sign_in(request, creds)
    except AppError as refusal:
        if is_json:
            raise
        message = translate(request, refusal.message, **refusal.params)
        context = {"next": _safe_next(creds.next), "error": message, "username": creds.username}
        return Template("login.html", context=context, status_code=refusal.status)
    cookie = await _start_session(request, user)
    logs.add_context(user_id=user.id, user=user.username)  # this request's lines name them now
    log.info("login")
    if is_json:
        return Response({"user": user_json(user)}, cookies=[cookie])
    return Redirect(_safe_next(creds.next), cookies=[cookie])


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except Exception as exc:
        raise AppError(400, "bad_json", "The request body is not valid JSON.") from exc


def _credentials(payload: Any) -> Credentials:
    if not isinstance(payload, dict):
        raise AppError(400, "bad_request", "Send a username and a password.")
    username, password = payload.get("username"), payload.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise AppError(400, "bad_request", "Send a username and a password.")
    return Credentials(username[:64], password[:1024], str(payload.get("next") or "/"))


@post("/logout", status_code=200)
async def logout(request: Request, state: House) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await state.sessions.end(token)
        state.recent_users.forget(token)
        state.rights.signed_out(session_key(token))  # its sockets close, on every server
    expired = _session_cookie(request, "", 0)
    if request.content_type[0] == "application/json":
        return Response({"ok": True}, cookies=[expired])
    return Redirect("/login", cookies=[expired])


ROUTES = [login_page, login, logout]
