"""Accounts as an admin keeps them: create, edit, deactivate, reset a password (a one-time
password, or a one-time link the person opens to choose one), and never lose the last admin."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypedDict

import msgspec
import sqlalchemy as sa
from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, UnsetType
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import admin_only
from server.admin.audit import record, user_target
from server.errors import AppError, not_found
from server.house import House
from server.mail import valid_address
from server.models import Body, PasswordReset, Role, User
from server.passwords import Passwords
from server.users import new_user_problem, one_time_password

RESET_LINK_HOURS = 24
MIN_PASSWORD = 8
PER_PAGE = 50


class NewAccount(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    full_name: Annotated[str, msgspec.Meta(max_length=200)]
    role: str = Role.delegate
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    body_id: int | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class AccountPatch(msgspec.Struct):
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    title: Annotated[str, msgspec.Meta(max_length=200)] | UnsetType = UNSET
    email: Annotated[str, msgspec.Meta(max_length=254)] | UnsetType = UNSET
    role: str | UnsetType = UNSET
    body_id: int | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class AccountOut(TypedDict):
    id: int | None
    username: str
    full_name: str
    title: str
    email: str
    role: str
    body_id: int | None
    active: bool
    must_change_password: bool


class NewAccountOut(TypedDict):
    """The account made and its one-time password, shown once."""

    account: AccountOut
    password: str


class OneTimePassword(TypedDict):
    password: str


class ResetLink(TypedDict):
    path: str
    expires_at: str


def account_json(user: User) -> AccountOut:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "title": user.title,
        "email": user.email,
        "role": user.role,
        "body_id": user.body_id,
        "active": user.active,
        "must_change_password": user.must_change_password,
    }


async def find_accounts(db: AsyncSession, query: str = "") -> list[User]:
    """Accounts whose name or username holds `query`, by name."""
    found = select(User).order_by(User.full_name, User.username).limit(500)
    if query.strip():
        like = f"%{query.strip().lower()}%"
        found = found.where(
            or_(func.lower(User.full_name).like(like), col(User.username).like(like))
        )
    return list((await db.exec(found)).all())


async def get_account(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise not_found("account")
    return user


def check_password(password: str, confirm: str | None = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise AppError(
            400, "password_short", "The password must have at least {n} characters.", n=MIN_PASSWORD
        )
    if confirm is not None and confirm != password:
        raise AppError(400, "password_mismatch", "The two passwords are not the same.")


def check_email(email: str) -> str:
    """The address as kept: trimmed; empty is allowed (no e-mail), a bad one is refused."""
    email = email.strip()
    if email and not valid_address(email):
        raise AppError(400, "bad_email", "The e-mail address {email} is not valid.", email=email)
    return email


async def _check_body(db: AsyncSession, body_id: int | None) -> None:
    if body_id is not None and await db.get(Body, body_id) is None:
        raise not_found("council")


async def create_account(
    db: AsyncSession, passwords: Passwords, actor: User, new: NewAccount
) -> tuple[User, str]:
    """The new account and its password; it must choose its own at first sign-in."""
    username = new.username.strip().lower()
    problem = new_user_problem(username, new.role)
    if problem:
        raise AppError(400, "bad_account", problem[0], **problem[1])
    if not new.full_name.strip():
        raise AppError(400, "name_empty", "Enter the person's full name.")
    if (await db.exec(select(User.id).where(User.username == username))).first():
        raise AppError(
            409, "username_taken", "The username {username} is taken.", username=username
        )
    await _check_body(db, new.body_id)
    email = check_email(new.email)
    password = new.password or one_time_password()
    check_password(password)
    user = User(
        username=username,
        full_name=new.full_name.strip(),
        role=new.role,
        title=new.title.strip(),
        email=email,
        body_id=new.body_id,
        password_hash=await passwords.hash(password),
        must_change_password=True,
    )
    db.add(user)
    await db.flush()
    record(db, actor, "user.create", user_target(user), role=user.role, body_id=user.body_id)
    await db.commit()
    return user, password


async def _active_admins(db: AsyncSession) -> int:
    found = select(func.count()).select_from(User).where(User.role == Role.admin, User.active)
    return int((await db.exec(found)).one())


async def _keep_an_admin(db: AsyncSession, user: User, role: str, active: bool) -> None:
    """Refuses a change that would leave no active admin."""
    stays = role == Role.admin and active
    if user.role == Role.admin and user.active and not stays and await _active_admins(db) <= 1:
        raise AppError(
            409, "last_admin", "This is the last active administrator: name another one first."
        )


async def change_account(db: AsyncSession, actor: User, user: User, data: AccountPatch) -> User:
    """Edits an account; the change is listed with what it was before."""
    role = user.role if data.role is UNSET else data.role
    active = user.active if data.active is UNSET else data.active
    if role not in Role.__members__:
        raise AppError(400, "bad_role", "Unknown role.")
    if data.body_id is not UNSET:
        await _check_body(db, data.body_id)
    if data.email is not UNSET:
        data.email = check_email(data.email)
    await _keep_an_admin(db, user, role, active)
    before: dict[str, Any] = dict(account_json(user))
    for field in ("full_name", "title", "email", "role", "body_id", "active"):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(user, field, value.strip() if isinstance(value, str) else value)
    after: dict[str, Any] = dict(account_json(user))
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        record(db, actor, _verb(changed), user_target(user), changed=changed)
    db.add(user)
    await db.commit()
    return user


def _verb(changed: dict[str, Any]) -> str:
    if list(changed) == ["active"]:
        return "user.reactivate" if changed["active"][1] else "user.deactivate"
    return "user.edit"


async def give_one_time_password(
    db: AsyncSession, passwords: Passwords, actor: User, user: User
) -> str:
    """A new password for one sign-in; the person must choose their own right after it."""
    password = one_time_password()
    user.password_hash = await passwords.hash(password)
    user.must_change_password = True
    db.add(user)
    record(db, actor, "user.password_reset", user_target(user), by="one-time password")
    await db.commit()
    return password


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def make_reset_link(db: AsyncSession, actor: User, user: User) -> tuple[str, datetime]:
    """A one-time link `/reset/{token}`; only its hash is kept. Earlier unused links lapse."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await db.exec(  # type: ignore[call-overload]
        sa.update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(expires_at=now)
    )
    expires = now + timedelta(hours=RESET_LINK_HOURS)
    db.add(
        PasswordReset(
            user_id=user.id or 0,
            token_sha256=_token_hash(token),
            expires_at=expires,
            created_by=actor.id,
        )
    )
    record(db, actor, "user.reset_link", user_target(user), expires_at=expires.isoformat())
    await db.commit()
    return f"/reset/{token}", expires


async def open_reset_link(db: AsyncSession, token: str) -> tuple[PasswordReset, User]:
    """The link's reset and account while it may still be used; 410 once used or expired."""
    reset = (
        await db.exec(select(PasswordReset).where(PasswordReset.token_sha256 == _token_hash(token)))
    ).first()
    if reset is None:
        raise AppError(404, "reset_unknown", "This link is not valid. Ask the administrator.")
    if reset.used_at is not None:
        raise AppError(
            410, "reset_used", "This link was already used. Ask the administrator for a new one."
        )
    if reset.expires_at <= datetime.now(UTC):
        raise AppError(
            410, "reset_expired", "This link has expired. Ask the administrator for a new one."
        )
    user = await db.get(User, reset.user_id)
    if user is None or not user.active:
        raise AppError(410, "reset_account_gone", "This account can no longer sign in.")
    return reset, user


async def use_reset_link(
    db: AsyncSession, passwords: Passwords, token: str, password: str, confirm: str
) -> User:
    """Sets the person's password through the link, once: a second use changes nothing."""
    reset, user = await open_reset_link(db, token)
    check_password(password, confirm)
    password_hash = await passwords.hash(password)
    taken = await db.exec(  # type: ignore[call-overload]
        sa.update(PasswordReset)
        .where(col(PasswordReset.id) == reset.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=datetime.now(UTC))
    )
    if taken.rowcount != 1:  # another request used it meanwhile
        raise AppError(
            410, "reset_used", "This link was already used. Ask the administrator for a new one."
        )
    user.password_hash, user.must_change_password = password_hash, False
    db.add(user)
    record(db, user, "user.reset_link_used", user_target(user))
    await db.commit()
    return user


async def choose_password(
    db: AsyncSession, passwords: Passwords, user: User, password: str, confirm: str, current: str
) -> User:
    """The person sets their own password; after a reset the current one is not asked again."""
    if not user.must_change_password:
        ok, _ = await passwords.verify(user.password_hash, current)
        if not ok:
            raise AppError(400, "wrong_password", "The current password is not right.")
    check_password(password, confirm)
    if (await passwords.verify(user.password_hash, password))[0]:
        raise AppError(400, "password_same", "Choose a password other than the one given to you.")
    user = await get_account(db, user.id or 0)
    user.password_hash = await passwords.hash(password)
    user.must_change_password = False
    db.add(user)
    await db.commit()
    return user


# JSON routes (see the report's route list); the pages in server/admin/pages.py share the rules.


@get("/api/admin/accounts", guards=[admin_only])
async def list_accounts(
    db: NamedDependency[AsyncSession], q: FromQuery[str] = ""
) -> list[AccountOut]:
    return [account_json(u) for u in await find_accounts(db, q)]


@post("/api/admin/accounts", guards=[admin_only])
async def add_account(
    request: Request, db: NamedDependency[AsyncSession], state: House, data: JSONBody[NewAccount]
) -> NewAccountOut:
    user, password = await create_account(db, state.passwords, request.user, data)
    return {"account": account_json(user), "password": password}


@patch("/api/admin/accounts/{user_id:int}", guards=[admin_only])
async def edit_account(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    user_id: FromPath[int],
    data: JSONBody[AccountPatch],
) -> AccountOut:
    user = await change_account(db, request.user, await get_account(db, user_id), data)
    state.rights.changed()  # a role or an account that stops: open sockets are checked now
    return account_json(user)


@post("/api/admin/accounts/{user_id:int}/password", guards=[admin_only])
async def reset_password(
    request: Request, db: NamedDependency[AsyncSession], state: House, user_id: FromPath[int]
) -> OneTimePassword:
    user = await get_account(db, user_id)
    password = await give_one_time_password(db, state.passwords, request.user, user)
    state.rights.changed()
    return {"password": password}


@post("/api/admin/accounts/{user_id:int}/reset-link", guards=[admin_only])
async def reset_link(
    request: Request, db: NamedDependency[AsyncSession], user_id: FromPath[int]
) -> ResetLink:
    path, expires = await make_reset_link(db, request.user, await get_account(db, user_id))
    return {"path": path, "expires_at": expires.isoformat()}


ROUTES = [list_accounts, add_account, edit_account, reset_password, reset_link]
