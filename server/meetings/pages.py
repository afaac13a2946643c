"""HTML pages and htmx fragments: my meetings, the meeting page, the secretary's editor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import bodies, council, journal
from server.access import founds_first_council, may_copy, meeting_permission, runs_body, signed_in
from server.errors import AppError, form_of, not_found
from server.house import House, house_of
from server.meetings import rules, setup
from server.models import AgendaBook, AgendaItem, Body, Meeting, MeetingRole, User

MANAGE = {"permission": "manage"}


def local_datetime(state: House, value: str) -> datetime:
    """A datetime-local form value, read on the council's wall clock."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AppError(400, "bad_date", "Enter the date and time of the meeting.") from exc
    return rules.on_council_clock(naive, state.settings.tz)


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await form_of(request)).items()}


@get("/", guards=[signed_in])
async def home() -> Redirect:
    return Redirect("/meetings")


@get("/meetings", guards=[signed_in])
async def my_meetings(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Template:
    user: User = request.user
    meetings = await rules.meetings_for(db, user)
    councils = (await db.exec(select(Body).order_by(Body.name))).all()
    context = {
        "meetings": meetings,
        "bodies": [b for b in councils if runs_body(user, b.id)],
        "first_council": not councils and founds_first_council(user),
        "council_kinds": bodies.KIND_NAMES,
        "tz": state.settings.tz,
    }
    return Template("meetings.html", context=context)


@post("/meetings", guards=[signed_in])
async def create_meeting(
    request: Request, db: NamedDependency[AsyncSession], state: House
) -> Response:
    form = await _form(request)
    user: User = request.user
    body_id = int(form["body_id"]) if form.get("body_id", "").isdigit() else None
    if "council_name" in form:
        body = await bodies.found_first_council(
            db, user, form["council_name"], form.get("council_kind", "")
        )
        body_id, user = body.id, await db.get_one(User, user.id)  # now of that council
        state.recent_users.clear()
    meeting = await rules.create_meeting(
        db,
        user,
        title=form.get("title", ""),
        starts_at=local_datetime(state, form.get("starts_at", "")),
        place=form.get("place", ""),
        body_id=body_id,
    )
    target = f"/meetings/{meeting.id}/edit"
    if request.headers.get("hx-request"):
        return Response(b"", headers={"HX-Redirect": target})
    return Redirect(target)


@get("/meetings/{meeting_id:int}", guards=[meeting_permission])
async def meeting_page(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    view = await rules.meeting_view(db, request.state.access)
    default = council.DEFAULT_MAJORITY.get(view["body"].kind, ("cast", "half"))
    context = {
        **view,
        "tz": state.settings.tz,
        "majority_default": default,
        "can_copy": may_copy(request.state.access, request.user),
        "chain": None,
    }
    if request.state.access.can("preside"):  # secretary, chair, admin: does the journal hold?
        context["chain"] = await journal.verify_meeting(db, meeting_id)
    return Template("meeting.html", context=context)


@get("/meetings/{meeting_id:int}/edit", guards=[meeting_permission], opt=MANAGE)
async def meeting_editor(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    view = await rules.meeting_view(db, request.state.access)
    books = await db.exec(
        select(AgendaBook)
        .where(AgendaBook.meeting_id == meeting_id)
        .order_by(col(AgendaBook.version).desc())
    )
    meeting = view["meeting"]
    context = {
        **view,
        **await _setup_context(db, meeting),
        "tz": state.settings.tz,
        "books": books.all(),
        "can_copy": may_copy(request.state.access, request.user),
    }
    return Template("meeting_edit.html", context=context)


async def _setup_context(db: AsyncSession, meeting: Meeting) -> dict[str, Any]:
    """What the details and participants sections draw: the lists to pick from."""
    people = await setup.chair_choices(db, meeting)
    return {
        "meeting": meeting,
        "participants": setup.by_seat(await rules.participants(db, setup.id_of(meeting))),
        "roles": list(MeetingRole),
        "groups": await setup.roster_groups(db, meeting.body_id),
        "roster_size": len(await setup.roster(db, meeting.body_id)),
        "secretaries": await rules.secretaries(db, meeting),
        "chairs": people,
        "chair_id": setup.chair_of(people),
    }


@post("/meetings/{meeting_id:int}/details", guards=[meeting_permission], opt=MANAGE)
async def save_details(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Template:
    form = await _form(request)
    meeting: Meeting = request.state.access.meeting
    changes: dict[str, Any] = {k: form[k] for k in ("title", "place", "description") if k in form}
    if "title" in changes:
        rules.required(changes["title"], "title")
    if form.get("starts_at"):
        changes["starts_at"] = local_datetime(state, form["starts_at"])
    if "secretary_id" in form:
        changes["secretary_id"] = await rules.check_secretary(
            db, meeting, _id(form["secretary_id"])
        )
    headers = {}
    if "chair_id" in form and await _chair_changes(db, meeting, _id(form["chair_id"])):
        house_of(request).rights.changed()
        headers["HX-Trigger"] = "chair-changed"
    meeting = await rules.update_meeting(db, meeting, changes)
    context = {**await _setup_context(db, meeting), "tz": state.settings.tz, "saved": True}
    return Template("fragments/meeting_details.html", context=context, headers=headers)


def _id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None


async def _chair_changes(db: AsyncSession, meeting: Meeting, chair_id: int | None) -> bool:
    if setup.chair_of(await setup.chair_choices(db, meeting)) == chair_id:
        return False
    await setup.set_chair(db, meeting, chair_id)
    return True


@get("/meetings/{meeting_id:int}/chair", guards=[meeting_permission], opt=MANAGE)
async def chair_pick(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    """The chair's list, drawn again when the participants change."""
    context = await _setup_context(db, request.state.access.meeting)
    return Template("fragments/chair_pick.html", context=context)


async def agenda_fragment(db: AsyncSession, meeting: Meeting) -> Template:
    context = {
        "meeting": meeting,
        "tree": rules.agenda_tree(await rules.agenda_items(db, meeting.id)),
        "documents": await rules.documents_by_item(db, meeting.id),
        "editable": True,
    }
    return Template("fragments/agenda_items.html", context=context)


@post("/meetings/{meeting_id:int}/items", guards=[meeting_permission], opt=MANAGE)
async def add_item(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    form = await _form(request)
    parent = form.get("parent_id", "")
    minutes = form.get("duration_minutes", "")
    await rules.add_item(
        db,
        request.state.access.meeting,
        title=form.get("title", ""),
        parent_id=int(parent) if parent.isdigit() else None,
        presenter=form.get("presenter", ""),
        duration_minutes=int(minutes) if minutes.isdigit() else None,
    )
    return await agenda_fragment(db, request.state.access.meeting)


async def _item(db: AsyncSession, item_id: int) -> AgendaItem:
    item = await db.get(AgendaItem, item_id)
    if item is None:
        raise not_found("agenda item")
    return item


@post("/items/{item_id:int}/move/{direction:str}", guards=[meeting_permission], opt=MANAGE)
async def move_item(
    request: Request,
    db: NamedDependency[AsyncSession],
    item_id: FromPath[int],
    direction: FromPath[str],
) -> Template:
    if direction not in ("up", "down", "in", "out"):
        raise AppError(400, "bad_direction", "Unknown direction.")
    await rules.move_item(db, await _item(db, item_id), direction)
    return await agenda_fragment(db, request.state.access.meeting)


@post("/items/{item_id:int}/delete", guards=[meeting_permission], opt=MANAGE)
async def delete_item(
    request: Request, db: NamedDependency[AsyncSession], item_id: FromPath[int]
) -> Template:
    await rules.delete_item(db, await _item(db, item_id))
    return await agenda_fragment(db, request.state.access.meeting)


async def _participants_fragment(
    db: AsyncSession, meeting: Meeting, added: setup.RosterAdded | None = None, changed: bool = True
) -> Template:
    context = {**await _setup_context(db, meeting), "added": added}
    headers = {"HX-Trigger": "participants-changed"} if changed else {}
    return Template("fragments/participants.html", context=context, headers=headers)


@get("/meetings/{meeting_id:int}/participants", guards=[meeting_permission], opt=MANAGE)
async def participants_section(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    return await _participants_fragment(db, request.state.access.meeting, changed=False)


@get("/meetings/{meeting_id:int}/people", guards=[meeting_permission], opt=MANAGE)
async def find_people(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    q: FromQuery[str] = "",
) -> Template:
    """The picker's answer as the secretary types a name."""
    found = await setup.find_people(db, request.state.access.meeting, q[:100])
    return Template("fragments/people_found.html", context={"found": found, "q": q})


@post("/meetings/{meeting_id:int}/participants", guards=[meeting_permission], opt=MANAGE)
async def add_participant(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    form = await _form(request)
    weight = form.get("vote_weight", "1")
    await rules.add_participant(
        db,
        request.state.access.meeting,
        user_id=_id(form.get("user_id", "")),
        username=form.get("username", ""),
        role=form.get("role", MeetingRole.delegate),
        seat=form.get("seat", ""),
        vote_weight=int(weight) if weight.isascii() and weight.isdigit() else 1,
    )
    house_of(request).rights.changed()
    return await _participants_fragment(db, request.state.access.meeting)


@post("/meetings/{meeting_id:int}/roster", guards=[meeting_permission], opt=MANAGE)
async def add_roster(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    form = await _form(request)
    meeting = request.state.access.meeting
    done = await setup.add_roster(
        db, meeting, group=form.get("group", ""), role=form.get("role", MeetingRole.delegate)
    )
    house_of(request).rights.changed()
    return await _participants_fragment(db, meeting, done)


@post(
    "/meetings/{meeting_id:int}/participants/{user_id:int}/delete",
    guards=[meeting_permission],
    opt=MANAGE,
)
async def remove_participant(
    request: Request,
    db: NamedDependency[AsyncSession],
    meeting_id: FromPath[int],
    user_id: FromPath[int],
) -> Template:
    await rules.remove_participant(db, request.state.access.meeting, user_id)
    house_of(request).rights.changed()
    return await _participants_fragment(db, request.state.access.meeting)


@post("/meetings/{meeting_id:int}/copy", guards=[meeting_permission], opt=MANAGE)
async def copy_meeting(
    request: Request, db: NamedDependency[AsyncSession], state: House, meeting_id: FromPath[int]
) -> Response:
    form = await _form(request)
    copy = await setup.copy_meeting(
        db,
        request.user,
        request.state.access,
        title=form.get("title", ""),
        starts_at=local_datetime(state, form.get("starts_at", "")),
    )
    target = f"/meetings/{copy.id}/edit"
    if request.headers.get("hx-request"):
        return Response(b"", headers={"HX-Redirect": target})
    return Redirect(target)


ROUTES = [
    home,
    my_meetings,
    create_meeting,
    meeting_page,
    meeting_editor,
    save_details,
    add_item,
    move_item,
    delete_item,
    chair_pick,
    participants_section,
    find_people,
    add_participant,
    add_roster,
    remove_participant,
    copy_meeting,
]
