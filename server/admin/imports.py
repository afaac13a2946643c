"""Accounts from a CSV in the browser: read and checked whole (server/users.py), shown as a
preview, then written all at once, onto a council's roster with seats and groups when one is
chosen. A bad line imports nothing and is named."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import admin_only
from server.admin.audit import record
from server.errors import AppError, not_found
from server.house import House
from server.i18n import translate
from server.models import Body, Member, User
from server.passwords import Passwords
from server.users import ImportRefused, NewUser, read_users_text

MAX_ROWS = 2000


class ImportRequest(msgspec.Struct):
    csv: Annotated[str, msgspec.Meta(max_length=2_000_000)]
    body_id: int | None = None


async def read_import(db: AsyncSession, text: str) -> list[NewUser]:
    """The file's accounts, checked against those that exist; raises ImportRefused."""
    existing = set((await db.exec(select(User.username))).all())
    rows = read_users_text(text, existing)
    if not rows:
        raise AppError(400, "csv_empty", "The file has no accounts.")
    if len(rows) > MAX_ROWS:
        raise AppError(400, "csv_long", "At most {n} accounts at once.", n=MAX_ROWS)
    return rows


async def _council(db: AsyncSession, body_id: int | None) -> Body | None:
    if body_id is None:
        return None
    body = await db.get(Body, body_id)
    if body is None:
        raise not_found("council")
    return body


async def commit_import(
    db: AsyncSession, passwords: Passwords, actor: User, text: str, body_id: int | None
) -> list[NewUser]:
    """Every account of the file, or none; generated passwords must be changed at first use."""
    body = await _council(db, body_id)
    rows = await read_import(db, text)
    hashes = await asyncio.gather(*(passwords.hash(r.password) for r in rows))
    users = [
        _account(new, password_hash, body) for new, password_hash in zip(rows, hashes, strict=True)
    ]
    db.add_all(users)
    await db.flush()
    if body is not None:
        db.add_all(
            _seat(body, n, new, user) for n, (new, user) in enumerate(zip(rows, users, strict=True))
        )
    target = f"body:{body.id} {body.name}" if body else ""
    record(db, actor, "user.import", target, usernames=[r.username for r in rows])
    try:
        await db.commit()
    except sa.exc.IntegrityError as exc:  # an account of the same name made meanwhile
        raise AppError(
            409, "username_taken", "An account in the file was made meanwhile; preview again."
        ) from exc
    return rows


def _account(new: NewUser, password_hash: str, body: Body | None) -> User:
    return User(
        username=new.username,
        full_name=new.full_name,
        role=new.role,
        title=new.title,
        email=new.email,
        body_id=body.id if body else None,
        password_hash=password_hash,
        must_change_password=new.generated_password,
    )


def _seat(body: Body, n: int, new: NewUser, user: User) -> Member:
    return Member(
        body_id=body.id or 0,
        user_id=user.id or 0,
        title=new.title,
        seat=new.seat,
        group=new.group,
        position=n + 1,
    )


def problems_json(request: Request, refused: ImportRefused) -> list[dict[str, Any]]:
    return [
        {"line": p.line, "message": translate(request, p.message, **p.params)}
        for p in refused.lines
    ]


def refusal(request: Request, refused: ImportRefused) -> Response:
    message = translate(request, "Nothing was imported: fix the lines named below.")
    problems = problems_json(request, refused)
    return Response({"code": "bad_csv", "message": message, "problems": problems}, status_code=400)


def row_json(new: NewUser) -> dict[str, Any]:
    return {
        "username": new.username,
        "full_name": new.full_name,
        "role": new.role,
        "title": new.title,
        "email": new.email,
        "seat": new.seat,
        "group": new.group,
        "password": new.password if new.generated_password else None,
    }


class ImportedAccount(TypedDict):
    username: str
    full_name: str
    role: str
    title: str
    email: str
    seat: str
    group: str
    password: str | None  # the one-time password made for it, shown once (None in a preview)


class ImportPreview(TypedDict):
    rows: list[ImportedAccount]


class Imported(TypedDict):
    accounts: list[ImportedAccount]


@post(
    "/api/admin/import/preview",
    guards=[admin_only],
    status_code=200,
    responses={200: ResponseSpec(ImportPreview, description="The accounts it would make.")},
)
async def preview_api(
    request: Request, db: NamedDependency[AsyncSession], data: JSONBody[ImportRequest]
) -> Any:
    try:
        rows = await read_import(db, data.csv)
    except ImportRefused as refused:
        return refusal(request, refused)
    return {"rows": [{**row_json(r), "password": None} for r in rows]}


@post(
    "/api/admin/import",
    guards=[admin_only],
    responses={201: ResponseSpec(Imported, description="The accounts made.")},
)
async def import_api(
    request: Request, db: NamedDependency[AsyncSession], state: House, data: JSONBody[ImportRequest]
) -> Any:
    try:
        rows = await commit_import(db, state.passwords, request.user, data.csv, data.body_id)
    except ImportRefused as refused:
        return refusal(request, refused)
    return Response({"accounts": [row_json(r) for r in rows]}, status_code=201)


ROUTES = [preview_api, import_api]
