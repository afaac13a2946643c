"""Choosing one's own password: forced after a reset or on a new account (`/password`), or
through a one-time link made by an admin (`/reset/{token}`)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import signed_in
from server.admin.accounts import MIN_PASSWORD, choose_password, open_reset_link, use_reset_link
from server.auth import SESSION_COOKIE
from server.errors import AppError, form_of
from server.house import House
from server.i18n import translate


async def _fields(request: Request) -> dict[str, str]:
    form = await form_of(request)
    return {k: str(form.get(k) or "")[:1024] for k in ("password", "confirm", "current")}


def _page(
    request: Request, template: str, refusal: AppError | None = None, **context: object
) -> Template:
    error = translate(request, refusal.message, **refusal.params) if refusal else None
    status = refusal.status if refusal else 200
    return Template(
        template,
        context={"error": error, "min_length": MIN_PASSWORD, **context},
        status_code=status,
    )


@get("/password", guards=[signed_in])
async def password_page(request: Request) -> Template:
    return _page(request, "password.html", forced=request.user.must_change_password)


@post("/password", guards=[signed_in])
async def password_chosen(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Response:
    fields = await _fields(request)
    forced = request.user.must_change_password
    try:
        await choose_password(
            db,
            state.passwords,
            request.user,
            fields["password"],
            fields["confirm"],
            fields["current"],
        )
    except AppError as refusal:
        return _page(request, "password.html", refusal, forced=forced)
    token = request.cookies.get(SESSION_COOKIE)
    state.recent_users.forget(token)  # the next request reads the account afresh
    state.rights.changed()
    return Redirect("/", status_code=303)


@get("/reset/{token:str}")
async def reset_page(
    request: Request, db: NamedDependency[AsyncSession], token: FromPath[str]
) -> Template:
    try:
        _, user = await open_reset_link(db, token)
    except AppError as refusal:
        return _page(request, "reset.html", refusal, usable=False)
    return _page(request, "reset.html", usable=True, username=user.username)


@post("/reset/{token:str}")
async def reset_chosen(
    request: Request, db: NamedDependency[AsyncSession], state: House, token: FromPath[str]
) -> Template:
    fields = await _fields(request)
    try:
        user = await use_reset_link(
            db, state.passwords, token, fields["password"], fields["confirm"]
        )
    except AppError as refusal:
        usable = refusal.status == 400  # a bad password: the link may be tried again
        return _page(request, "reset.html", refusal, usable=usable)
    state.rights.changed()
    return _page(request, "reset.html", usable=False, done=True, username=user.username)


ROUTES = [password_page, password_chosen, reset_page, reset_chosen]
