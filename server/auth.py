"""Signing in and out: sessions, the authentication middleware, login throttling."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect, Template
from litestar.stores.base import Store
from sqlmodel import select

from server.errors import AppError
from server.i18n import translate
from server.models import User
from server.settings import Settings

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

    async def start(self, user_id: int) -> str:
        token = secrets.token_urlsafe(32)
        await self._write(token, {"user_id": user_id, "seen": time.time()})
        return token

    async def user_id(self, token: str) -> int | None:
        raw = await self._store.get(session_key(token))
        if raw is None:
            return None
        data = json.loads(raw)
        if time.time() - data["seen"] > _RENEW_AFTER_S:
            data["seen"] = time.time()
            await self._write(token, data)
        return int(data["user_id"])

    async def end(self, token: str) -> None:
        await self._store.delete(session_key(token))

    async def _write(self, token: str, data: dict[str, Any]) -> None:
        await self._store.set(session_key(token), json.dumps(data), expires_in=self._idle_s)


class LoginThrottle:
    """Counts failed logins per account and per client address within a window."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._window = settings.login_window_seconds
        self._limits = {"user": settings.login_max_failures, "addr": settings.address_max_failures}

    async def wait_seconds(self, username: str, address: str) -> int:
        """Seconds until another try is allowed; 0 when it is allowed now."""
        waits = [0]
        for kind, value in (("user", username), ("addr", address)):
            record = await self._record(kind, value)
            if record and record["n"] >= self._limits[kind]:
                waits.append(int(record["first"] + self._window - time.time()) + 1)
        return max(waits)

    async def failed(self, username: str, address: str) -> None:
        for kind, value in (("user", username), ("addr", address)):
            record = await self._record(kind, value) or {"n": 0, "first": time.time()}
            record["n"] += 1
            left = max(1, int(record["first"] + self._window - time.time()))
            await self._store.set(f"{kind}:{value}", json.dumps(record), expires_in=left)

    async def succeeded(self, username: str) -> None:
        await self._store.delete(f"user:{username}")

    async def _record(self, kind: str, value: str) -> dict[str, Any] | None:
        raw = await self._store.get(f"{kind}:{value}")
        return json.loads(raw) if raw else None


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Puts the signed-in `User` (or None) on every request and websocket."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        state = connection.app.state
        user = state.recent_users.get(token)
        if user is None:
            user = await self._user(state, token)
            if user is None:
                return AuthenticationResult(user=None, auth=None)
            state.recent_users.put(token, user)
        return AuthenticationResult(user=user, auth=token)

    @staticmethod
    async def _user(state: State, token: str) -> User | None:
        user_id = await state.sessions.user_id(token)
        if user_id is None:
            return None
        async with state.db_read() as db:
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
    settings: Settings = request.app.state.settings
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
    state = request.app.state
    username = creds.username.strip().lower()
    address = _client_address(request)
    wait = await state.throttle.wait_seconds(username, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        raise AppError(
            429,
            "login_throttled",
            "Too many failed sign-ins. Try again in {minutes} minutes.",
            minutes=minutes,
        )
    async with state.db_read() as db:
        user = (await db.exec(select(User).where(User.username == username))).first()
    stored = user.password_hash if user and user.active else None
    ok, needs_rehash = await state.passwords.verify(stored, creds.password)
    if not ok or user is None:
        await state.throttle.failed(username, address)
        raise AppError(401, "bad_credentials", "Wrong username or password.")
    await state.throttle.succeeded(username)
    if needs_rehash:
        user.password_hash = await state.passwords.hash(creds.password)
        async with state.db() as db:
            db.add(user)
            await db.commit()
    return user


async def _start_session(request: Request, user: User) -> Cookie:
    state = request.app.state
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await state.sessions.end(old)  # a fresh id on every sign-in: no session fixation
        state.recent_users.forget(old)
    token = await state.sessions.start(user.id)
    return _session_cookie(request, token, state.settings.session_idle_minutes * 60)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "body_id": user.body_id,
    }


@get("/login", sync_to_thread=False)
def login_page(request: Request, next: str = "/") -> Template:
    return Template("login.html", context={"next": _safe_next(next), "error": None})


@post("/login", status_code=200)
async def login(request: Request) -> Response:
    """Form or JSON `{username, password}`; JSON gets the user, a form gets a redirect."""
    is_json = request.content_type[0] == "application/json"
    payload = await _json_body(request) if is_json else dict(await request.form())
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
    log.info("login", extra={"user": user.username})
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
async def logout(request: Request, state: State) -> Response:
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
