"""The audit list: every administrative change appended as an AdminChange, never rewritten
(the database refuses UPDATE and DELETE)."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import admin_only
from server.i18n import N_
from server.models import AdminChange, User

PER_PAGE = 50

# What the list calls each change, and the things a refusal may name; shown as _(value).
NAMES = (
    N_("user.create"),
    N_("user.edit"),
    N_("user.deactivate"),
    N_("user.reactivate"),
    N_("user.password_reset"),
    N_("user.reset_link"),
    N_("user.reset_link_used"),
    N_("user.import"),
    N_("user.council"),
    N_("body.create"),
    N_("body.edit"),
    N_("member.add"),
    N_("member.edit"),
    N_("member.remove"),
    N_("account"),
    N_("council"),
    N_("roster member"),
)


def record(
    db: AsyncSession, actor: User | None, action: str, target: str, **details: Any
) -> AdminChange:
    """Adds the change to `db`'s transaction: it is kept only if the change itself commits.

    `action` is a dotted verb ("user.create"), `target` names what changed ("user:12 daibieu05").
    """
    change = AdminChange(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "",
        action=action,
        target=target[:200],
        details=details,
    )
    db.add(change)
    return change


def user_target(user: User) -> str:
    return f"user:{user.id} {user.username}"


async def page_of_changes(
    db: AsyncSession, page: int, per_page: int = PER_PAGE
) -> tuple[list[AdminChange], int]:
    """One page of the list, newest first, and how many changes there are in all."""
    total = int((await db.exec(select(func.count()).select_from(AdminChange))).one())
    rows = await db.exec(
        select(AdminChange)
        .order_by(col(AdminChange.at).desc(), col(AdminChange.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows.all()), total


class ChangeOut(TypedDict):
    id: int | None
    at: str
    actor_id: int | None
    actor_name: str
    action: str
    target: str
    details: dict[str, Any]


class ChangesPage(TypedDict):
    changes: list[ChangeOut]
    page: int
    total: int


def change_json(change: AdminChange) -> ChangeOut:
    return {
        "id": change.id,
        "at": change.at.isoformat(),
        "actor_id": change.actor_id,
        "actor_name": change.actor_name,
        "action": change.action,
        "target": change.target,
        "details": change.details,
    }


@get("/api/admin/changes", guards=[admin_only])
async def list_changes(db: NamedDependency[AsyncSession], page: FromQuery[int] = 1) -> ChangesPage:
    """The audit list, newest first, `PER_PAGE` to a page."""
    page = max(1, min(page, 100_000))
    changes, total = await page_of_changes(db, page)
    return {"changes": [change_json(c) for c in changes], "page": page, "total": total}


ROUTES = [list_changes]
