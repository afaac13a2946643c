"""Meetings, participants and the agenda tree: the rules, shared by the JSON API and the pages."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import bodies
from server.access import MeetingAccess, may_keep_minutes, runs_body
from server.errors import AppError, not_found
from server.models import (
    AgendaItem,
    Body,
    Document,
    Meeting,
    MeetingRole,
    Member,
    Participant,
    Role,
    User,
    utcnow,
)

MAX_AGENDA_DEPTH = 3


def on_council_clock(value: datetime, tz: tzinfo) -> datetime:
    """A time given without an offset is read on the council's wall clock."""
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


async def meetings_for(db: AsyncSession, user: User) -> list[Meeting]:
    """Meetings the user takes part in, plus every meeting of bodies the user runs."""
    query = select(Meeting).order_by(col(Meeting.starts_at).desc())
    if user.role != Role.admin:
        mine = select(Participant.meeting_id).where(Participant.user_id == user.id)
        condition = col(Meeting.id).in_(mine)
        if user.role == Role.secretary and user.body_id is not None:
            condition = sa.or_(condition, Meeting.body_id == user.body_id)
        query = query.where(condition)
    return list((await db.exec(query)).all())


async def create_meeting(
    db: AsyncSession,
    user: User,
    *,
    title: str,
    starts_at: datetime,
    place: str = "",
    description: str = "",
    body_id: int | None = None,
) -> Meeting:
    body_id = body_id or user.body_id or await bodies.sole_council_id(db)
    if body_id is None or await db.get(Body, body_id) is None:
        raise AppError(400, "no_body", "Choose the council or body that holds the meeting.")
    if not runs_body(user, body_id):
        raise AppError(403, "forbidden", "You do not have permission to do this.")
    meeting = Meeting(
        body_id=body_id,
        title=required(title, "title"),
        starts_at=starts_at,
        place=place.strip(),
        description=description.strip(),
        created_by=user.id,
    )
    db.add(meeting)
    await db.commit()
    return meeting


async def update_meeting(db: AsyncSession, meeting: Meeting, changes: dict[str, Any]) -> Meeting:
    moved = False  # a calendar app updates the event when its sequence grows
    for field in ("title", "place", "description", "starts_at"):
        if field in changes and changes[field] is not None:
            value = changes[field]
            value = required(value, field) if field == "title" else value
            moved = moved or (field != "description" and getattr(meeting, field) != value)
            setattr(meeting, field, value)
    if moved:
        meeting.sequence += 1
    if "secretary_id" in changes:
        meeting.secretary_id = await check_secretary(db, meeting, changes["secretary_id"])
    meeting.updated_at = utcnow()
    db.add(meeting)
    await db.commit()
    return meeting


async def secretaries(db: AsyncSession, meeting: Meeting) -> list[User]:
    """Who may be named the meeting's secretary: see `access.may_keep_minutes`."""
    seated = dict(
        (
            await db.exec(
                select(Participant.user_id, Participant.role).where(
                    Participant.meeting_id == meeting.id
                )
            )
        ).all()
    )
    candidates = await db.exec(
        select(User)
        .where(User.active)
        .where(
            sa.or_(
                col(User.role) == Role.secretary,
                col(User.id).in_([u for u, r in seated.items() if r == MeetingRole.secretary]),
            )
        )
        .order_by(User.full_name)
    )
    return [u for u in candidates if may_keep_minutes(u, meeting.body_id, seated.get(u.id or 0))]


async def check_secretary(db: AsyncSession, meeting: Meeting, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    if user_id not in {u.id for u in await secretaries(db, meeting)}:
        raise AppError(
            400,
            "bad_secretary",
            "The meeting's secretary must be an active secretary of this council "
            "or a participant with the secretary's role.",
        )
    return user_id


async def add_participant(
    db: AsyncSession,
    meeting: Meeting,
    *,
    role: str,
    username: str = "",
    user_id: int | None = None,
    seat: str = "",
    vote_weight: int = 1,
) -> tuple[Participant, User]:
    """Adds one person, picked by account id or named by username; a blank seat is their
    seat in the council's roster."""
    if role not in MeetingRole.__members__:
        raise AppError(400, "bad_role", "Unknown meeting role: {role}.", role=role)
    if not 0 <= vote_weight <= 100:
        raise AppError(400, "bad_weight", "Vote weight must be between 0 and 100.")
    user = await _account(db, username, user_id)
    if not user.active:
        raise AppError(
            400, "inactive_account", "The account of {name} is deactivated.", name=user.full_name
        )
    exists = await db.exec(
        select(Participant).where(
            Participant.meeting_id == meeting.id, Participant.user_id == user.id
        )
    )
    if exists.first() is not None:
        raise AppError(
            409, "already_participant", "{name} is already in this meeting.", name=user.full_name
        )
    if not seat.strip():
        seat = (
            await db.exec(
                select(Member.seat).where(
                    Member.body_id == meeting.body_id, Member.user_id == user.id
                )
            )
        ).first() or ""
    participant = Participant(
        meeting_id=meeting.id,
        user_id=user.id,
        role=role,
        seat=seat.strip(),
        vote_weight=vote_weight,
    )
    db.add(participant)
    await db.commit()
    return participant, user


async def _account(db: AsyncSession, username: str, user_id: int | None) -> User:
    if user_id is not None:
        user = await db.get(User, user_id)
        if user is None:
            raise AppError(404, "no_such_user", "Choose a person from the list.")
        return user
    if not username.strip():
        raise AppError(400, "no_person", "Choose a person from the list.")
    user = (await db.exec(select(User).where(User.username == username.strip().lower()))).first()
    if user is None:
        raise AppError(404, "no_such_user", "No account named {username}.", username=username)
    return user


async def remove_participant(db: AsyncSession, meeting: Meeting, user_id: int) -> None:
    participant = (
        await db.exec(
            select(Participant).where(
                Participant.meeting_id == meeting.id, Participant.user_id == user_id
            )
        )
    ).first()
    if participant is None:
        raise not_found("participant")
    await db.delete(participant)
    await db.commit()


async def participants(db: AsyncSession, meeting_id: int) -> list[tuple[Participant, User]]:
    rows = await db.exec(
        select(Participant, User)
        .join(User, col(User.id) == Participant.user_id)
        .where(Participant.meeting_id == meeting_id)
        .order_by(Participant.role, User.full_name)
    )
    return list(rows.all())


# --- agenda tree -------------------------------------------------------------------------


async def agenda_items(db: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    rows = await db.exec(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return list(rows.all())


def agenda_tree(items: list[AgendaItem]) -> list[dict[str, Any]]:
    """Items nested by parent, in order, each numbered like "2.1"."""
    children: dict[int | None, list[AgendaItem]] = defaultdict(list)
    for item in items:
        children[item.parent_id].append(item)

    def build(parent_id: int | None, prefix: str) -> list[dict[str, Any]]:
        nodes = []
        for index, item in enumerate(children[parent_id], start=1):
            number = f"{prefix}{index}"
            nodes.append({"item": item, "number": number, "children": build(item.id, number + ".")})
        return nodes

    return build(None, "")


def flatten(tree: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The tree in reading order, each node with its depth."""
    rows = []
    for node in tree:
        rows.append({**node, "depth": depth})
        rows.extend(flatten(node["children"], depth + 1))
    return rows


async def add_item(
    db: AsyncSession,
    meeting: Meeting,
    *,
    title: str,
    parent_id: int | None = None,
    position: int | None = None,
    presenter: str = "",
    duration_minutes: int | None = None,
    notes: str = "",
) -> AgendaItem:
    items = await agenda_items(db, meeting.id)
    _check_parent(items, parent_id, moving=None)
    item = AgendaItem(
        meeting_id=meeting.id,
        parent_id=parent_id,
        title=required(title, "title"),
        presenter=presenter.strip(),
        duration_minutes=_duration(duration_minutes),
        notes=notes.strip(),
    )
    db.add(item)
    await db.flush()
    _place(items + [item], item, parent_id, position)
    await db.commit()
    return item


async def update_item(db: AsyncSession, item: AgendaItem, changes: dict[str, Any]) -> AgendaItem:
    """Edit fields, and move when `parent_id` or `position` is given."""
    if changes.get("title") is not None:
        item.title = required(changes["title"], "title")
    for field in ("presenter", "notes"):
        if changes.get(field) is not None:
            setattr(item, field, changes[field].strip())
    if "duration_minutes" in changes:
        item.duration_minutes = _duration(changes["duration_minutes"])
    if "parent_id" in changes or changes.get("position") is not None:
        items = await agenda_items(db, item.meeting_id)
        parent_id = changes["parent_id"] if "parent_id" in changes else item.parent_id
        _check_parent(items, parent_id, moving=item)
        _place(items, item, parent_id, changes.get("position"))
    db.add(item)
    await db.commit()
    return item


async def move_item(db: AsyncSession, item: AgendaItem, direction: str) -> AgendaItem:
    """One step for the editor's buttons: up, down, in (under the item above), out."""
    items = await agenda_items(db, item.meeting_id)
    siblings = [i for i in items if i.parent_id == item.parent_id]
    index = next(n for n, i in enumerate(siblings) if i.id == item.id)
    changes: dict[str, Any] = {}
    if direction == "up" and index > 0:
        changes["position"] = index - 1
    elif direction == "down" and index < len(siblings) - 1:
        changes["position"] = index + 1
    elif direction == "in" and index > 0:
        changes = {"parent_id": siblings[index - 1].id, "position": 10**6}
    elif direction == "out" and item.parent_id is not None:
        parent = next(i for i in items if i.id == item.parent_id)
        grand_siblings = [i for i in items if i.parent_id == parent.parent_id]
        changes = {"parent_id": parent.parent_id, "position": grand_siblings.index(parent) + 1}
    if not changes:
        return item
    return await update_item(db, item, changes)


async def delete_item(db: AsyncSession, item: AgendaItem) -> None:
    """Deletes the item with its sub-items; their documents stay in the meeting, unattached."""
    items = await agenda_items(db, item.meeting_id)
    doomed = _subtree_ids(items, item.id)
    await db.exec(  # type: ignore[call-overload]
        sa.update(Document).where(col(Document.item_id).in_(doomed)).values(item_id=None)
    )
    await db.delete(item)
    await db.flush()
    remaining = [i for i in items if i.id not in doomed]
    _renumber(remaining, item.parent_id)
    await db.commit()


def _subtree_ids(items: list[AgendaItem], root_id: int) -> set[int]:
    ids = {root_id}
    grew = True
    while grew:
        grew = False
        for i in items:
            if i.parent_id in ids and i.id not in ids:
                ids.add(i.id)
                grew = True
    return ids


def _depth(items: list[AgendaItem], item_id: int | None) -> int:
    by_id = {i.id: i for i in items}
    depth = 0
    while item_id is not None:
        depth += 1
        item_id = by_id[item_id].parent_id
    return depth


def _height(items: list[AgendaItem], root_id: int) -> int:
    kids = [i for i in items if i.parent_id == root_id]
    return 1 + max((_height(items, k.id) for k in kids), default=0)


def _check_parent(
    items: list[AgendaItem], parent_id: int | None, moving: AgendaItem | None
) -> None:
    if parent_id is None:
        return
    if parent_id not in {i.id for i in items}:
        raise AppError(400, "bad_parent", "The parent item is not in this meeting.")
    if moving is not None and parent_id in _subtree_ids(items, moving.id):
        raise AppError(400, "bad_parent", "An item cannot be moved under itself.")
    height = _height(items, moving.id) if moving is not None else 1
    if _depth(items, parent_id) + height > MAX_AGENDA_DEPTH:
        raise AppError(
            400,
            "too_deep",
            "The agenda can be nested at most {depth} levels.",
            depth=MAX_AGENDA_DEPTH,
        )


def _place(
    items: list[AgendaItem], item: AgendaItem, parent_id: int | None, position: int | None
) -> None:
    """Put `item` among its new siblings at `position` (end when None) and renumber them."""
    old_parent = item.parent_id
    item.parent_id = parent_id
    siblings = [i for i in items if i.parent_id == parent_id and i.id != item.id]
    index = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
    siblings.insert(index, item)
    for n, sibling in enumerate(siblings):
        sibling.position = n
    if old_parent != parent_id:
        _renumber(items, old_parent)


def _renumber(items: list[AgendaItem], parent_id: int | None) -> None:
    for n, sibling in enumerate(i for i in items if i.parent_id == parent_id):
        sibling.position = n


def required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise AppError(400, "required", "Fill in the {field}.", field=field)
    return value


def _duration(minutes: int | None) -> int | None:
    if minutes is None:
        return None
    if not 0 < int(minutes) <= 24 * 60:
        raise AppError(400, "bad_duration", "Duration must be between 1 and 1440 minutes.")
    return int(minutes)


async def documents_by_item(db: AsyncSession, meeting_id: int) -> dict[int | None, list[Document]]:
    rows = await db.exec(
        select(Document)
        .where(Document.meeting_id == meeting_id, col(Document.replaced_at).is_(None))
        .order_by(Document.position, Document.id)
    )
    grouped: dict[int | None, list[Document]] = defaultdict(list)
    for document in rows.all():
        grouped[document.item_id].append(document)
    return grouped


def item_titles(tree: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Item id -> its number and title, for pages that name the item being presented."""
    return {
        row["item"].id: {"number": row["number"], "title": row["item"].title}
        for row in flatten(tree)
    }


async def meeting_view(db: AsyncSession, access: MeetingAccess) -> dict[str, Any]:
    """Everything a meeting page or the JSON API shows about one meeting."""
    meeting = access.meeting
    body = await db.get(Body, meeting.body_id)
    tree = agenda_tree(await agenda_items(db, meeting.id))
    return {
        "meeting": meeting,
        "body": body,
        "tree": tree,
        "documents": await documents_by_item(db, meeting.id),
        "participants": await participants(db, meeting.id),
        "access": access,
    }
