"""The administration pages and their htmx fragments; the rules live beside them in
accounts.py, councils.py, roster.py, imports.py and audit.py."""

from __future__ import annotations

import math
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import admin_only, keeps_roster
from server.admin import accounts, audit, councils, imports, roster
from server.bodies import BodyPatch
from server.errors import AppError, form_of
from server.house import House
from server.models import BodyKind, Role
from server.users import ImportRefused

KINDS = list(BodyKind)
ROLES = list(Role)


async def _form(request: Request) -> dict[str, Any]:
    return dict(await form_of(request))


def _text(form: dict[str, Any], name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _number(form: dict[str, Any], name: str) -> int | None:
    value = _text(form, name)
    return int(value) if value.isascii() and value.isdigit() else None


def _to(target: str) -> Response:
    return Response(b"", headers={"HX-Redirect": target})


@get("/admin", guards=[admin_only])
async def admin_home() -> Redirect:
    return Redirect("/admin/accounts")


# accounts


@get("/admin/accounts", guards=[admin_only])
async def accounts_page(
    request: Request, db: NamedDependency[AsyncSession], q: FromQuery[str] = ""
) -> Template:
    context = {
        "people": await accounts.find_accounts(db, q),
        "q": q,
        "councils": {b.id: b for b in await councils.all_councils(db)},
        "roles": ROLES,
    }
    if request.headers.get("hx-request"):
        return Template("admin/account_rows.html", context=context)
    return Template("admin/accounts.html", context=context)


@post("/admin/accounts", guards=[admin_only])
async def account_made(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    form = await _form(request)
    new = accounts.NewAccount(
        username=_text(form, "username", 64),
        full_name=_text(form, "full_name"),
        role=_text(form, "role", 16),
        title=_text(form, "title"),
        body_id=_number(form, "body_id"),
        email=_text(form, "email", 254),
        password=_text(form, "password", 1024),
    )
    user, password = await accounts.create_account(db, state.passwords, request.user, new)
    context = {"person": user, "password": password, "link": None}
    return Template(
        "admin/once.html",
        context=context,
        status_code=201,
        headers={"HX-Trigger": "accounts-changed"},
    )


async def _account_context(db: AsyncSession, user_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "person": await accounts.get_account(db, user_id),
        "councils": await councils.all_councils(db),
        "roles": ROLES,
        **extra,
    }


@get("/admin/accounts/{user_id:int}", guards=[admin_only])
async def account_page(db: NamedDependency[AsyncSession], user_id: FromPath[int]) -> Template:
    return Template("admin/account.html", context=await _account_context(db, user_id))


@post("/admin/accounts/{user_id:int}", guards=[admin_only])
async def account_saved(
    request: Request, db: NamedDependency[AsyncSession], state: House, user_id: FromPath[int]
) -> Template:
    form = await _form(request)
    data = accounts.AccountPatch(
        full_name=_text(form, "full_name"),
        title=_text(form, "title"),
        email=_text(form, "email", 254),
        role=_text(form, "role", 16),
        body_id=_number(form, "body_id"),
    )
    if not data.full_name:
        raise AppError(400, "name_empty", "Enter the person's full name.")
    person = await accounts.get_account(db, user_id)
    await accounts.change_account(db, request.user, person, data)
    state.rights.changed()
    context = await _account_context(db, user_id, saved=True)
    return Template("admin/account_form.html", context=context)


@post("/admin/accounts/{user_id:int}/active", guards=[admin_only])
async def account_active(
    request: Request, db: NamedDependency[AsyncSession], state: House, user_id: FromPath[int]
) -> Template:
    active = _text(await _form(request), "active") == "1"
    person = await accounts.get_account(db, user_id)
    await accounts.change_account(db, request.user, person, accounts.AccountPatch(active=active))
    state.rights.changed()
    return Template("admin/account_state.html", context=await _account_context(db, user_id))


@post("/admin/accounts/{user_id:int}/password", guards=[admin_only])
async def account_password(
    request: Request, db: NamedDependency[AsyncSession], state: House, user_id: FromPath[int]
) -> Template:
    person = await accounts.get_account(db, user_id)
    password = await accounts.give_one_time_password(db, state.passwords, request.user, person)
    state.rights.changed()
    return Template("admin/once.html", context={"person": person, "password": password})


@post("/admin/accounts/{user_id:int}/reset-link", guards=[admin_only])
async def account_link(
    request: Request, db: NamedDependency[AsyncSession], user_id: FromPath[int]
) -> Template:
    person = await accounts.get_account(db, user_id)
    path, expires = await accounts.make_reset_link(db, request.user, person)
    link = f"{request.base_url}".rstrip("/") + path
    context = {
        "person": person,
        "link": link,
        "expires": expires,
        "hours": accounts.RESET_LINK_HOURS,
    }
    return Template("admin/once.html", context=context)


# councils


@get("/admin/councils", guards=[admin_only])
async def councils_page(db: NamedDependency[AsyncSession]) -> Template:
    context = {"councils": await councils.all_councils(db), "kinds": KINDS}
    return Template("admin/councils.html", context=context)


def _members(form: dict[str, Any]) -> int | None:
    members = _number(form, "members")
    if _text(form, "members") and members is None:
        raise AppError(400, "bad_members", "The total membership is a whole number.")
    return members or None


@post("/admin/councils", guards=[admin_only])
async def council_made(request: Request, db: NamedDependency[AsyncSession]) -> Response:
    form = await _form(request)
    new = councils.NewCouncil(
        name=_text(form, "name"),
        kind=_text(form, "kind", 8),
        term=_text(form, "term", 64),
        place=_text(form, "place"),
        members=_members(form),
    )
    body = await councils.create_council(db, request.user, new)
    return _to(f"/admin/councils/{body.id}")


@get("/admin/councils/{body_id:int}", guards=[admin_only])
async def council_page(db: NamedDependency[AsyncSession], body_id: FromPath[int]) -> Template:
    body = await councils.get_council(db, body_id)
    context = {"council": body, "kinds": KINDS, "roster": await roster.roster_of(db, body_id)}
    return Template("admin/council.html", context=context)


@post("/admin/councils/{body_id:int}", guards=[admin_only])
async def council_saved(
    request: Request, db: NamedDependency[AsyncSession], body_id: FromPath[int]
) -> Template:
    form = await _form(request)
    if not _text(form, "name"):
        raise AppError(400, "no_council_name", "Enter the council's name.")
    data = BodyPatch(
        name=_text(form, "name"),
        kind=_text(form, "kind", 8),
        term=_text(form, "term", 64),
        place=_text(form, "place"),
        members=_members(form),
    )
    body = await councils.change_council(
        db, request.user, await councils.get_council(db, body_id), data
    )
    return Template(
        "admin/council_form.html", context={"council": body, "kinds": KINDS, "saved": True}
    )


# rosters: an admin, or a secretary of that council


async def _roster_table(db: AsyncSession, body_id: int) -> Template:
    context = {
        "council": await councils.get_council(db, body_id),
        "roster": await roster.roster_of(db, body_id),
        "people": await accounts.find_accounts(db),
    }
    return Template("admin/roster_table.html", context=context)


@get("/councils/{body_id:int}/roster", guards=[keeps_roster])
async def roster_page(db: NamedDependency[AsyncSession], body_id: FromPath[int]) -> Template:
    table = await _roster_table(db, body_id)
    return Template("admin/roster.html", context=table.context)


@post("/councils/{body_id:int}/roster", guards=[keeps_roster])
async def member_added(
    request: Request, db: NamedDependency[AsyncSession], body_id: FromPath[int]
) -> Template:
    form = await _form(request)
    new = roster.NewMember(
        username=_text(form, "username", 64),
        title=_text(form, "title"),
        seat=_text(form, "seat", 32),
        group=_text(form, "group"),
    )
    await roster.add_member(db, request.user, await councils.get_council(db, body_id), new)
    return await _roster_table(db, body_id)


@post("/members/{member_id:int}", guards=[keeps_roster])
async def member_saved(
    request: Request, db: NamedDependency[AsyncSession], member_id: FromPath[int]
) -> Template:
    form = await _form(request)
    data = roster.MemberPatch(
        title=_text(form, "title"), seat=_text(form, "seat", 32), group=_text(form, "group")
    )
    member = await roster.change_member(db, request.user, member_id, data)
    return await _roster_table(db, member.body_id)


@post("/members/{member_id:int}/delete", guards=[keeps_roster])
async def member_removed(
    request: Request, db: NamedDependency[AsyncSession], member_id: FromPath[int]
) -> Template:
    body_id = await roster.remove_member(db, request.user, member_id)
    return await _roster_table(db, body_id)


# CSV import


@get("/admin/import", guards=[admin_only])
async def import_page(db: NamedDependency[AsyncSession]) -> Template:
    return Template("admin/import.html", context={"councils": await councils.all_councils(db)})


async def _csv_of(form: dict[str, Any]) -> str:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AppError(
                400, "csv_not_utf8", "Save the file as CSV UTF-8 and try again."
            ) from exc
    return _text(form, "csv", 2_000_000)


def _problems(request: Request, refused: ImportRefused) -> Template:
    context = {"problems": imports.problems_json(request, refused)}
    return Template("admin/import_problems.html", context=context, status_code=400)


@post("/admin/import/preview", guards=[admin_only])
async def import_preview(request: Request, db: NamedDependency[AsyncSession]) -> Template:
    form = await _form(request)
    text = await _csv_of(form)
    body_id = _number(form, "body_id")
    try:
        rows = await imports.read_import(db, text)
    except ImportRefused as refused:
        return _problems(request, refused)
    council = await councils.get_council(db, body_id) if body_id else None
    context = {"rows": rows, "csv": text, "council": council}
    return Template("admin/import_preview.html", context=context, status_code=200)


@post("/admin/import/commit", guards=[admin_only])
async def import_commit(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    form = await _form(request)
    body_id = _number(form, "body_id")
    try:
        rows = await imports.commit_import(
            db, state.passwords, request.user, _text(form, "csv", 2_000_000), body_id
        )
    except ImportRefused as refused:
        return _problems(request, refused)
    return Template("admin/import_done.html", context={"rows": rows}, status_code=201)


# audit


@get("/admin/changes", guards=[admin_only])
async def changes_page(
    db: NamedDependency[AsyncSession], state: House, page: FromQuery[int] = 1
) -> Template:
    page = max(1, min(page, 100_000))
    changes, total = await audit.page_of_changes(db, page)
    context = {
        "changes": changes,
        "page": page,
        "pages": max(1, math.ceil(total / audit.PER_PAGE)),
        "total": total,
        "tz": state.settings.tz,
    }
    return Template("admin/changes.html", context=context)


ROUTES = [
    admin_home,
    accounts_page,
    account_made,
    account_page,
    account_saved,
    account_active,
    account_password,
    account_link,
    councils_page,
    council_made,
    council_page,
    council_saved,
    roster_page,
    member_added,
    member_saved,
    member_removed,
    import_page,
    import_preview,
    import_commit,
    changes_page,
]
